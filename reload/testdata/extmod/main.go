// Command svc is a service in its own module that uses package reload the
// way a user would: it loads a nested YAML config into its own struct,
// rejects an invalid one, and follows a rename-save (write a temporary file,
// rename it over the config). It prints what it sees; reload's tests run it
// and check the output.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/reload"
)

// Config is this service's own configuration type, nested.
type Config struct {
	Service struct {
		Name string `yaml:"name"`
		Port int    `yaml:"port"`
	} `yaml:"service"`
	Limits struct {
		RPS   int `yaml:"rps"`
		Burst int `yaml:"burst"`
	} `yaml:"limits"`
	Backends []struct {
		Host   string `yaml:"host"`
		Weight int    `yaml:"weight"`
	} `yaml:"backends"`
}

// validate is the service's rule: a config that breaks it is never served.
func validate(c Config) error {
	if c.Service.Port < 1 || c.Service.Port > 65535 {
		return fmt.Errorf("service.port %d out of range", c.Service.Port)
	}
	if c.Limits.Burst < c.Limits.RPS {
		return errors.New("limits.burst must be at least limits.rps")
	}
	return nil
}

const (
	v1 = `service:
  name: svc
  port: 8080
limits:
  rps: 100
  burst: 200
backends:
  - host: a.internal
    weight: 1
  - host: b.internal
    weight: 3
`
	invalid = `service:
  name: svc
  port: 0
limits:
  rps: 100
  burst: 50
`
	v2 = `service:
  name: svc
  port: 9090
limits:
  rps: 500
  burst: 1000
backends:
  - host: c.internal
    weight: 2
`
)

func main() {
	if err := run(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "extmod")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(v1), 0o644); err != nil {
		return err
	}

	cfg, err := reload.New(path, reload.YAML[Config](),
		reload.WithValidate(validate),
		reload.WithSafetyInterval(100*time.Millisecond))
	if err != nil {
		return err
	}
	if err := cfg.Start(context.Background()); err != nil {
		return err
	}
	defer cfg.Close()
	c := cfg.Load()
	fmt.Printf("loaded: name=%s port=%d rps=%d backends=%d last=%s/%d\n",
		c.Service.Name, c.Service.Port, c.Limits.RPS, len(c.Backends), c.Backends[1].Host, c.Backends[1].Weight)

	if err := renameSave(path, invalid); err != nil {
		return err
	}
	if err := waitFor("the invalid file to be rejected", func() bool { return cfg.Status().Rejected > 0 }); err != nil {
		return err
	}
	st := cfg.Status()
	fmt.Printf("rejected: stale=%t reason=%q\n", st.Stale, trimPath(st.StaleReason, path))
	fmt.Printf("serving: port=%d version=%d\n", cfg.Load().Service.Port, st.Version)

	if err := renameSave(path, v2); err != nil {
		return err
	}
	if err := waitFor("the rename-save to be applied", func() bool { return cfg.Load().Service.Port == 9090 }); err != nil {
		return err
	}
	c, st = cfg.Load(), cfg.Status()
	fmt.Printf("applied: port=%d rps=%d backends=%d version=%d stale=%t trigger=%s\n",
		c.Service.Port, c.Limits.RPS, len(c.Backends), st.Version, st.Stale, st.Trigger)
	return nil
}

// renameSave writes data to a temporary file beside path and renames it
// over path, as editors and deploy tools do.
func renameSave(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func waitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for " + what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// trimPath makes the output independent of the temporary directory.
func trimPath(s, path string) string { return strings.ReplaceAll(s, path, "config.yaml") }
