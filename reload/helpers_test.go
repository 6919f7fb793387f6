package reload

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Service-like config types for the tests: nested, as a real one is.
type (
	testConfig struct {
		Name   string     `yaml:"name" json:"name"`
		Server testServer `yaml:"server" json:"server"`
		Tags   []string   `yaml:"tags" json:"tags"`
	}
	testServer struct {
		Port    int           `yaml:"port" json:"port"`
		Timeout time.Duration `yaml:"timeout" json:"timeout"`
	}
)

func (c testConfig) check() error {
	if c.Server.Port <= 0 || c.Server.Port > 65535 {
		return errPort
	}
	return nil
}

var errPort = errors.New("server.port must be in 1..65535")

func yamlConfig(name string, port int) string {
	return "name: " + name + "\nserver:\n  port: " + strconv.Itoa(port) + "\n  timeout: 2s\ntags: [a, b]\n"
}

// writeConfig writes data to a fresh config.yaml in a temporary directory.
func writeConfig(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	return path
}

// renameSave replaces path the way editors and tools do: write a temporary
// file beside it, then rename it over the config.
func renameSave(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(data), 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

// inPlace rewrites path in place (truncate, write).
func inPlace(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}

// eventually waits for cond, failing the test with what after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// events collects what an observer is told, from any goroutine.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) observe(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) list() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.evs...)
}

func (e *events) has(cond func(Event) bool) bool {
	for _, ev := range e.list() {
		if cond(ev) {
			return true
		}
	}
	return false
}

// fast are trigger settings that keep the tests quick.
func fast() []Option {
	return []Option{WithSafetyInterval(50 * time.Millisecond), WithTrigger(Robust(Debounce(10 * time.Millisecond)))}
}
