package anchors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/harness/tools"
)

// CaddyVersion is the Caddy release caddybuild/go.mod requires.
const CaddyVersion = "v2.11.9"

// caddyModule is the nested module that builds Caddy, relative to the
// lab's module root; its own go.mod keeps Caddy's dependencies out of the
// lab's.
const caddyModule = "harness/anchors/caddybuild"

// labModule is the lab's module path, which marks its root go.mod.
const labModule = "github.com/reloadlab/reloadlab"

// DefaultCaddyCache returns where BuildCaddy keeps the binary by default:
// <user cache dir>/reloadlab/caddy-<CaddyVersion>.
func DefaultCaddyCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("anchors: caddy cache: %w", err)
	}
	return filepath.Join(dir, "reloadlab", "caddy-"+CaddyVersion), nil
}

// CaddyModuleDir returns the directory of the nested module that builds
// Caddy: found from the working directory upwards (the lab's module root
// or the module's own directory), else next to this source file.
func CaddyModuleDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("anchors: caddy module: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isLabRoot(d) {
			if dir := filepath.Join(d, caddyModule); isFile(filepath.Join(dir, "go.mod")) {
				return dir, nil
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if dir := filepath.Join(filepath.Dir(file), "caddybuild"); isFile(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("anchors: no %s above %s (run from inside the reloadlab module)", caddyModule, wd)
}

func isLabRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(first) == "module "+labModule
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// caddyBinaryVersion returns the first word `bin version` prints, or ""
// when bin does not run.
func caddyBinaryVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return ""
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// BuildCaddy returns a Caddy CaddyVersion binary in cacheDir ("" for
// DefaultCaddyCache), building the nested module with `go build` when the
// cache has no binary that reports CaddyVersion. It says on log (nil:
// nowhere) whether it reused or built, and how long the build took.
func BuildCaddy(ctx context.Context, cacheDir string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	if cacheDir == "" {
		var err error
		if cacheDir, err = DefaultCaddyCache(); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(cacheDir, "caddy")
	if isFile(bin) {
		v := caddyBinaryVersion(ctx, bin)
		if v == CaddyVersion {
			fmt.Fprintf(log, "anchors: reusing caddy %s at %s\n", v, bin)
			return bin, nil
		}
		fmt.Fprintf(log, "anchors: %s reports version %q, not %s; rebuilding\n", bin, v, CaddyVersion)
	}
	mod, err := CaddyModuleDir()
	if err != nil {
		return "", err
	}
	goBin, err := tools.Go()
	if err != nil {
		return "", fmt.Errorf("anchors: build caddy: %w", err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("anchors: build caddy: %w", err)
	}
	tmp, err := os.CreateTemp(cacheDir, ".caddy-build-*")
	if err != nil {
		return "", fmt.Errorf("anchors: build caddy: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	fmt.Fprintf(log, "anchors: building caddy %s from %s into %s (a few minutes the first time)\n", CaddyVersion, mod, bin)
	start := time.Now()
	// -buildvcs=false: the module sits inside the lab's repository, whose
	// VCS state says nothing about Caddy (and git may refuse a checkout
	// owned by another user).
	cmd := exec.CommandContext(ctx, goBin, "build", "-C", mod, "-buildvcs=false", "-o", tmp.Name(), ".")
	cmd.Env = envWith(map[string]string{"GOWORK": "off"})
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("anchors: go build -C %s: %w\n%s", mod, err, bytes.TrimSpace(out))
	}
	if v := caddyBinaryVersion(ctx, tmp.Name()); v != CaddyVersion {
		return "", fmt.Errorf("anchors: built caddy reports version %q, want %s", v, CaddyVersion)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("anchors: build caddy: %w", err)
	}
	fmt.Fprintf(log, "anchors: built caddy %s in %s\n", CaddyVersion, time.Since(start).Round(100*time.Millisecond))
	return bin, nil
}

// CaddyCached returns the cached Caddy binary in cacheDir ("" for
// DefaultCaddyCache) and true when it exists and reports CaddyVersion, so
// BuildCaddy would reuse it without building.
func CaddyCached(ctx context.Context, cacheDir string) (string, bool) {
	if cacheDir == "" {
		var err error
		if cacheDir, err = DefaultCaddyCache(); err != nil {
			return "", false
		}
	}
	bin := filepath.Join(cacheDir, "caddy")
	return bin, isFile(bin) && caddyBinaryVersion(ctx, bin) == CaddyVersion
}

// caddyAvailable returns "" when a cached Caddy exists or can be built.
func caddyAvailable(ctx context.Context) string {
	if _, ok := CaddyCached(ctx, ""); ok {
		return ""
	}
	if _, err := tools.Go(); err != nil {
		return "no cached caddy and " + err.Error()
	}
	if _, err := CaddyModuleDir(); err != nil {
		return "no cached caddy and " + err.Error()
	}
	return ""
}

// Caddy is a running Caddy serving the anchor endpoint, reconfigured
// through its admin API.
type Caddy struct {
	p         *proc
	port      int
	adminPort int
	admin     string // base URL of the admin API
	url       string
	client    *http.Client

	mu      sync.Mutex // serialises Reload
	version int64
}

// StartCaddy starts Caddy as Start(ctx, NameCaddy, opts) does.
func StartCaddy(ctx context.Context, opts Options) (*Caddy, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = BuildCaddy(ctx, "", opts.Log); err != nil {
			return nil, err
		}
	}
	c := &Caddy{version: opts.InitialVersion, client: &http.Client{Timeout: 30 * time.Second}}
	var err error
	if c.port, err = freePort(); err != nil {
		return nil, fmt.Errorf("anchors: caddy: %w", err)
	}
	if c.adminPort, err = freePort(); err != nil {
		return nil, fmt.Errorf("anchors: caddy: %w", err)
	}
	c.admin = "http://127.0.0.1:" + strconv.Itoa(c.adminPort)
	c.url = "http://127.0.0.1:" + strconv.Itoa(c.port) + "/"
	dir, err := tempDir(opts.WorkDir, NameCaddy)
	if err != nil {
		return nil, fmt.Errorf("anchors: caddy: %w", err)
	}
	conf := filepath.Join(dir, "caddy.json")
	cfg, err := c.config(opts.InitialVersion, false)
	if err == nil {
		err = os.WriteFile(conf, cfg, 0o644)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("anchors: caddy: write config: %w", err), os.RemoveAll(dir))
	}
	env := map[string]string{
		"HOME":            dir,
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
		"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
	}
	if len(opts.CPUs) > 0 {
		env["GOMAXPROCS"] = strconv.Itoa(len(opts.CPUs))
	}
	cmd := exec.Command(bin, "run", "--config", conf)
	cmd.Dir = dir
	cmd.Env = envWith(env)
	if c.p, err = startProc(ctx, cmd, opts.CPUs, dir, opts.Log); err != nil {
		return nil, errors.Join(fmt.Errorf("anchors: caddy: %w", err), os.RemoveAll(dir))
	}
	if err := waitServing(ctx, c.p, c.url, opts.InitialVersion, DefaultStartTimeout); err != nil {
		return nil, errors.Join(fmt.Errorf("anchors: caddy: %w", err), c.p.end(0))
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "anchors: caddy %s pid %d serving %s, admin %s (CPUs %v)\n", bin, c.p.pid, c.url, c.admin, opts.CPUs)
	}
	return c, nil
}

// Name returns NameCaddy.
func (c *Caddy) Name() string { return NameCaddy }

// URL returns the served endpoint.
func (c *Caddy) URL() string { return c.url }

// AdminURL returns the base URL of Caddy's admin API.
func (c *Caddy) AdminURL() string { return c.admin }

// Pid returns Caddy's process id.
func (c *Caddy) Pid() int { return c.p.pid }

// Pids returns Caddy's processes alive now (one).
func (c *Caddy) Pids() []int { return groupPids(c.p.pid) }

// Dir returns the directory Caddy runs in (also its HOME).
func (c *Caddy) Dir() string { return c.p.dir }

// Version returns the version of the last successful Reload.
func (c *Caddy) Version() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// Reload POSTs the config for version to the admin API's /load, which
// returns once Caddy runs it; a config Caddy rejects (any status but 200)
// is an error, and Caddy keeps the previous one.
func (c *Caddy) Reload(ctx context.Context, version int64) error {
	return c.reload(ctx, version, false)
}

func (c *Caddy) reload(ctx context.Context, version int64, broken bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.p.running(); err != nil {
		return fmt.Errorf("anchors: caddy reload to %d: %w", version, err)
	}
	cfg, err := c.config(version, broken)
	if err != nil {
		return fmt.Errorf("anchors: caddy reload to %d: %w", version, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.admin+"/load", bytes.NewReader(cfg))
	if err != nil {
		return fmt.Errorf("anchors: caddy reload to %d: %w", version, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("anchors: caddy reload to %d: %w", version, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("anchors: caddy reload to %d: POST /load: %s: %s", version, resp.Status, bytes.TrimSpace(body))
	}
	c.version = version
	return nil
}

// config returns Caddy's JSON config for version; broken names a handler
// module that does not exist.
func (c *Caddy) config(version int64, broken bool) ([]byte, error) {
	type obj = map[string]any
	v := strconv.FormatInt(version, 10)
	handler := "static_response"
	if broken {
		handler = "reloadlab_no_such_handler"
	}
	cfg := obj{
		"admin": obj{
			"listen": "127.0.0.1:" + strconv.Itoa(c.adminPort),
			"config": obj{"persist": false},
		},
		"logging": obj{"logs": obj{"default": obj{"level": "WARN"}}},
		"apps": obj{"http": obj{"servers": obj{"anchor": obj{
			"listen":          []string{"127.0.0.1:" + strconv.Itoa(c.port)},
			"automatic_https": obj{"disable": true},
			"protocols":       []string{"h1"}, // as nginx and httpsvc: no TLS, so no h2 or h3
			"routes": []obj{
				{
					"match": []obj{{"path": []string{"/"}}},
					"handle": []obj{{
						"handler":     handler,
						"status_code": 200,
						"headers": obj{
							"Content-Type": []string{"application/json"},
							VersionHeader:  []string{v},
						},
						"body": string(RootBody(version)),
					}},
					"terminal": true,
				},
				{"handle": []obj{{"handler": "static_response", "status_code": 404}}},
			},
		}}}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return b, nil
}

// Stop shuts Caddy down (SIGTERM: a graceful exit), kills it after a
// grace period and removes the directory.
func (c *Caddy) Stop() error {
	if err := c.p.end(stopGrace); err != nil {
		return fmt.Errorf("anchors: caddy stop: %w", err)
	}
	return nil
}

// Kill SIGKILLs Caddy and removes the directory.
func (c *Caddy) Kill() error {
	if err := c.p.end(0); err != nil {
		return fmt.Errorf("anchors: caddy kill: %w", err)
	}
	return nil
}
