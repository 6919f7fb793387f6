package reload_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/reloadlab/reloadlab/reload"
)

// Config is a service's own, nested configuration type.
type Config struct {
	Listen string `yaml:"listen"`
	DB     struct {
		Host    string        `yaml:"host"`
		Timeout time.Duration `yaml:"timeout"`
	} `yaml:"db"`
	Features []string `yaml:"features"`
}

// Validate is the service's own check: a file that fails it is never served.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: required")
	}
	if c.DB.Timeout <= 0 {
		return fmt.Errorf("db.timeout: must be positive, got %s", c.DB.Timeout)
	}
	return nil
}

// writeFile stands in for whatever writes the config (an editor, a deploy,
// the kubelet); it exits on error to keep the examples short.
func writeFile(path, data string) {
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}
}

// exampleConfig writes a first config into a temporary directory and
// returns its path and a cleanup.
func exampleConfig() (string, func()) {
	dir, err := os.MkdirTemp("", "reload-example")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	writeFile(path, "listen: :8080\ndb:\n  host: db1\n  timeout: 2s\nfeatures: [search]\n")
	return path, func() { os.RemoveAll(dir) }
}

// Start a Reloader on a nested YAML config and read it, typed, on every
// request. The default trigger (Robust) follows the file from then on.
func Example() {
	path, cleanup := exampleConfig()
	defer cleanup()

	cfg, err := reload.New(path, reload.YAML[Config](), reload.WithValidate(Config.Validate))
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.Start(context.Background()); err != nil {
		log.Fatal(err) // the first load failed: do not start the service
	}
	defer cfg.Close()

	c := cfg.Load() // one atomic load: cheap enough for every request
	fmt.Println(c.Listen, c.DB.Host, c.DB.Timeout, c.Features)
	st := cfg.Status()
	fmt.Println("version", st.Version, "trigger", st.Trigger, "stale", st.Stale)
	// Output:
	// :8080 db1 2s [search]
	// version 1 trigger robust stale false
}

// A file that fails validation is rejected: the previous config keeps
// serving, and Status says the Reloader is stale and why.
func ExampleWithValidate() {
	path, cleanup := exampleConfig()
	defer cleanup()
	cfg, err := reload.New(path, reload.YAML[Config](),
		reload.WithValidate(Config.Validate),
		reload.WithTrigger(reload.Poll(time.Hour))) // this example reloads by hand
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer cfg.Close()

	writeFile(path, "listen: :9090\ndb:\n  host: db2\n  timeout: 0s\n")
	err = cfg.Reload(context.Background())
	var rej *reload.RejectError
	if errors.As(err, &rej) {
		fmt.Println("rejected at", rej.Stage+":", rej.Err)
	}
	fmt.Println("still serving", cfg.Load().Listen)
	st := cfg.Status()
	fmt.Println("stale", st.Stale, "rejected", st.Rejected)
	// Output:
	// rejected at validate: db.timeout: must be positive, got 0s
	// still serving :8080
	// stale true rejected 1
}

// Reload reads the file at once, for example from an admin endpoint, and
// says whether it is now served.
func ExampleReloader_Reload() {
	path, cleanup := exampleConfig()
	defer cleanup()
	cfg, err := reload.New(path, reload.YAML[Config](), reload.WithTrigger(reload.Poll(time.Hour)))
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer cfg.Close()

	writeFile(path, "listen: :8080\ndb:\n  host: db2\n  timeout: 5s\n")
	if err := cfg.Reload(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Load().DB.Host, cfg.Load().DB.Timeout, cfg.Status().Version)
	// Output:
	// db2 5s 2
}

// The observer hears of every run, unchanged and stale ones included. It is
// called concurrently from several goroutines; here only Start and Reload
// run the pipeline, so the order is fixed.
func ExampleWithObserver() {
	path, cleanup := exampleConfig()
	defer cleanup()
	observe := func(e reload.Event) {
		fmt.Printf("%d %s version=%d stale=%t\n", e.Seq, e.Outcome, e.Version, e.Stale)
	}
	cfg, err := reload.New(path, reload.YAML[Config](),
		reload.WithValidate(Config.Validate),
		reload.WithObserver(observe),
		reload.WithTrigger(reload.Poll(time.Hour)))
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer cfg.Close()

	ctx := context.Background()
	_ = cfg.Reload(ctx) // nothing changed
	writeFile(path, "listen: ''\n")
	_ = cfg.Reload(ctx) // invalid: rejected
	_ = cfg.Reload(ctx) // the same invalid file: unchanged, still stale
	writeFile(path, "listen: :8081\ndb:\n  timeout: 1s\n")
	_ = cfg.Reload(ctx) // applied
	// Output:
	// 1 applied version=1 stale=false
	// 2 unchanged version=1 stale=false
	// 3 rejected version=1 stale=true
	// 4 unchanged version=1 stale=true
	// 5 applied version=2 stale=false
}
