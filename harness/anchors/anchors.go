// Package anchors runs two external servers known for zero-downtime config
// reload, nginx and Caddy, as reference points ("anchors") for the lab's
// reload strategies. Each serves GET / with the same bytes httpsvc's root
// handler writes ({"version":N}) and says which config version answered in
// the X-Config-Version header, so a load generator can tell from the
// responses when a reload took effect, exactly as it does for the target.
//
// An anchor runs as its own process group in a temporary directory, pinned
// to the CPUs it is given; Stop and Kill end every process of the group and
// remove the directory, and so does cancelling the context given to Start.
package anchors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VersionHeader is the response header that carries the config version an
// anchor served a request with.
const VersionHeader = "X-Config-Version"

// Names of the anchors Start knows.
const (
	NameNginx = "nginx"
	NameCaddy = "caddy"
)

// DefaultStartTimeout bounds how long Start waits for an anchor's port to
// serve the initial version.
const DefaultStartTimeout = 30 * time.Second

// stopGrace is how long Stop waits for a graceful exit before it kills the
// process group.
const stopGrace = 5 * time.Second

// Names returns the names Start accepts, in a fixed order.
func Names() []string { return []string{NameNginx, NameCaddy} }

// Anchor is a running reference server.
type Anchor interface {
	// Name is the anchor's name (NameNginx or NameCaddy).
	Name() string
	// URL is the served endpoint, e.g. http://127.0.0.1:41234/.
	URL() string
	// Pid is the process id of the anchor's main (master) process, which
	// leads its process group.
	Pid() int
	// Pids lists the live processes of the anchor's process group (the
	// master and, for nginx, its workers) at the time of the call.
	Pids() []int
	// Version is the config version of the last Reload that returned nil
	// (InitialVersion before any).
	Version() int64
	// Reload asks the anchor to serve version. It returns when the anchor
	// has accepted the new config: for Caddy when its admin API has applied
	// it, for nginx when the validated config is in place and the master
	// has been signalled (nginx applies it asynchronously; watch
	// VersionHeader to learn when it is served). A config the anchor
	// rejects is an error, and the previous version keeps serving.
	Reload(ctx context.Context, version int64) error
	// Stop shuts the anchor down gracefully (killing what is left after a
	// grace period), waits until no process of its group is left and
	// removes its directory. Calling it again returns the first result.
	Stop() error
	// Kill is Stop without the grace period: SIGKILL to the process group.
	Kill() error
}

// Options configure Start.
type Options struct {
	// CPUs the anchor's processes are pinned to (nil: not pinned). Caddy
	// gets GOMAXPROCS=len(CPUs).
	CPUs []int
	// Keys is the httpsvc -keys value the anchor stands in for. httpsvc's
	// root response is {"version":N} whatever -keys is (keys change the
	// work per request, not the body), so the anchor's body does not
	// depend on it either; it is kept so a run can record what it
	// compared. Negative is an error.
	Keys int
	// InitialVersion is the config version served from the start.
	InitialVersion int64
	// WorkDir is where the anchor's temporary directory is made ("" for
	// os.TempDir()).
	WorkDir string
	// Log, if not nil, receives the anchor's stderr and what Start does.
	Log io.Writer
	// Binary is the server binary to run; "" finds nginx (FindNginx) or
	// builds Caddy into the default cache (BuildCaddy).
	Binary string
}

// Start starts the anchor called name and returns once its endpoint serves
// opts.InitialVersion. Cancelling ctx later kills the anchor and removes its
// directory, as Kill does.
func Start(ctx context.Context, name string, opts Options) (Anchor, error) {
	if opts.Keys < 0 {
		return nil, fmt.Errorf("anchors: start %s: Keys %d is negative", name, opts.Keys)
	}
	switch name {
	case NameNginx:
		return StartNginx(ctx, opts)
	case NameCaddy:
		return StartCaddy(ctx, opts)
	default:
		return nil, fmt.Errorf("anchors: unknown anchor %q (known: %v)", name, Names())
	}
}

// Available returns "" when the anchor called name can be started on this
// machine without installing anything system-wide, otherwise why not.
// For Caddy it checks for a cached binary or a Go toolchain and the build
// module; the build itself may still fail (e.g. without the module proxy).
func Available(ctx context.Context, name string) string {
	switch name {
	case NameNginx:
		if _, err := FindNginx(); err != nil {
			return err.Error()
		}
		return ""
	case NameCaddy:
		return caddyAvailable(ctx)
	default:
		return fmt.Sprintf("anchors: unknown anchor %q (known: %v)", name, Names())
	}
}

// RootBody returns the bytes httpsvc's root handler writes for a request
// that read every key at version (targets/httpsvc serveRoot).
func RootBody(version int64) []byte {
	b := append([]byte(`{"version":`), strconv.FormatInt(version, 10)...)
	return append(b, '}')
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ServedVersion does one GET of url (without keep-alive) and returns the
// status and the version VersionHeader names (-1 when absent or invalid).
func ServedVersion(ctx context.Context, url string) (status int, version int64, err error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, -1, fmt.Errorf("anchors: request %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, -1, fmt.Errorf("anchors: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, -1, fmt.Errorf("anchors: read %s: %w", url, err)
	}
	v, err := strconv.ParseInt(resp.Header.Get(VersionHeader), 10, 64)
	if err != nil {
		return resp.StatusCode, -1, nil
	}
	return resp.StatusCode, v, nil
}

// waitServing polls url until it answers 200 with version, the process
// exits, ctx ends or timeout passes.
func waitServing(ctx context.Context, p *proc, url string, version int64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		status, v, err := ServedVersion(ctx, url)
		switch {
		case err != nil:
			last = err
		case status == http.StatusOK && v == version:
			return nil
		default:
			last = fmt.Errorf("GET %s: status %d, %s %d, want 200 and %d", url, status, VersionHeader, v, version)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before serving (%v); last stderr:\n%s", p.waitErr, p.stderr.String())
		case <-ctx.Done():
			return fmt.Errorf("not serving version %d after %s: %w (last: %v)", version, timeout, ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tempDir makes the anchor's directory, readable by all so that an
// unprivileged worker (nginx's user nobody) can reach its temp paths.
func tempDir(workDir, name string) (string, error) {
	dir, err := os.MkdirTemp(workDir, "reloadlab-anchor-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("make work dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", errors.Join(fmt.Errorf("chmod work dir: %w", err), os.RemoveAll(dir))
	}
	return dir, nil
}

// envWith returns os.Environ() with the given variables set, replacing any
// earlier value.
func envWith(kv map[string]string) []string {
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if _, ok := kv[k]; !ok {
			env = append(env, e)
		}
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+kv[k])
	}
	return env
}
