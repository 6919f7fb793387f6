package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultVersionHeader is the response header an external target names
// its serving config version in (what the anchors and httpsvc's siblings
// send).
const DefaultVersionHeader = "X-Config-Version"

// DefaultChangeTimeout bounds one change of an external target (a reload
// command, a POST to a reload URL).
const DefaultChangeTimeout = 30 * time.Second

// Kinds of external target.
const (
	KindAnchor = "anchor" // a reference server the harness starts (package anchors)
	KindRemote = "remote" // a service already running elsewhere, attached to by URL
)

// External is a service the harness drives but did not build: it cannot
// be asked for reload events, runtime/metrics, traces or profiles, so the
// harness learns when a change is served from the responses alone (the
// version header, read by a Probe).
type External interface {
	// Name labels the target in results (nginx, caddy, remote).
	Name() string
	// Kind is KindAnchor or KindRemote.
	Kind() string
	// URL is what the load generator GETs.
	URL() string
	// VersionHeader is the response header that names the serving version.
	VersionHeader() string
	// Method is a short name of how a change is made (e.g. "sighup",
	// "reload-url"); Describe says it in words.
	Method() string
	Describe() string
	// Change asks the target to serve version. It returns when the
	// target's own reload call returns, which need not be when the new
	// version is served: the probe finds that out.
	Change(ctx context.Context, version int64) error
	// Alive returns nil while the target's processes run (always nil for a
	// remote target, whose failures the load sees).
	Alive() error
	// Output returns the last lines the target wrote (stderr), if any.
	Output() string
	// Pids lists the target's local processes (nil for a remote target).
	Pids() []int
	// Stop shuts down a target the harness started; it leaves a remote
	// one alone. Calling it again returns the first result.
	Stop() error
}

// RemoteOptions configure a remote target: its URL, the version header,
// and exactly one way of changing its config. In ReloadCmd, ReloadURL and
// ReloadFileContent, "{version}" is replaced by the version the change
// asks for.
type RemoteOptions struct {
	URL           string // http(s)://host:port/path the load GETs
	VersionHeader string // default DefaultVersionHeader
	// ReloadCmd is a shell command (/bin/sh -c) run for each change, with
	// RELOADLAB_VERSION and RELOADLAB_URL in its environment.
	ReloadCmd string
	// ReloadURL is POSTed for each change with the body {"version":N}.
	ReloadURL string
	// ReloadSignal is "PID:SIG" (SIG a name such as HUP or SIGUSR1, or a
	// number), sent to a local process for each change.
	ReloadSignal string
	// ReloadFile is a file rewritten (temporary file + rename) for each
	// change with ReloadFileContent (default "{version}\n").
	ReloadFile        string
	ReloadFileContent string
	Timeout           time.Duration // per change (default DefaultChangeTimeout)
}

// Remote is a service already running elsewhere that the harness attaches
// to by URL and changes through a hook. The service must serve the
// version each change asks for, or bump its version by one per change.
type Remote struct {
	opts   RemoteOptions
	method string
	pid    int
	sig    syscall.Signal
	client *http.Client
}

// NewRemote checks opts and returns the remote target. It does not
// contact the service (FetchVersion does).
func NewRemote(opts RemoteOptions) (*Remote, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target: remote URL %q: want http://host:port/…", opts.URL)
	}
	if u.Path == "" {
		opts.URL += "/"
	}
	if opts.VersionHeader == "" {
		opts.VersionHeader = DefaultVersionHeader
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultChangeTimeout
	}
	r := &Remote{opts: opts, client: &http.Client{Timeout: opts.Timeout}}
	var methods []string
	if opts.ReloadCmd != "" {
		methods = append(methods, "reload-cmd")
	}
	if opts.ReloadURL != "" {
		if ru, err := url.Parse(strings.ReplaceAll(opts.ReloadURL, "{version}", "1")); err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
			return nil, fmt.Errorf("target: reload URL %q: want http://host:port/…", opts.ReloadURL)
		}
		methods = append(methods, "reload-url")
	}
	if opts.ReloadSignal != "" {
		if r.pid, r.sig, err = ParsePidSignal(opts.ReloadSignal); err != nil {
			return nil, err
		}
		methods = append(methods, "reload-signal")
	}
	if opts.ReloadFile != "" {
		if opts.ReloadFileContent == "" {
			r.opts.ReloadFileContent = "{version}\n"
		}
		methods = append(methods, "reload-file")
	}
	switch len(methods) {
	case 0:
		return nil, errors.New("target: a remote target needs one way to change its config: a reload command, a reload URL, a reload signal or a reload file")
	case 1:
		r.method = methods[0]
	default:
		return nil, fmt.Errorf("target: a remote target takes one way to change its config, got %s", strings.Join(methods, ", "))
	}
	return r, nil
}

// ParsePidSignal parses "PID:SIG": a process id and a signal name (HUP,
// SIGHUP, usr1) or number.
func ParsePidSignal(s string) (int, syscall.Signal, error) {
	p, sg, ok := strings.Cut(s, ":")
	pid, err := strconv.Atoi(strings.TrimSpace(p))
	if !ok || err != nil || pid <= 0 {
		return 0, 0, fmt.Errorf("target: reload signal %q: want PID:SIG, e.g. 1234:HUP", s)
	}
	sg = strings.ToUpper(strings.TrimSpace(sg))
	if n, err := strconv.Atoi(sg); err == nil {
		if n <= 0 || n > 64 {
			return 0, 0, fmt.Errorf("target: reload signal %q: no signal %d", s, n)
		}
		return pid, syscall.Signal(n), nil
	}
	if !strings.HasPrefix(sg, "SIG") {
		sg = "SIG" + sg
	}
	sig := unix.SignalNum(sg)
	if sig == 0 {
		return 0, 0, fmt.Errorf("target: reload signal %q: unknown signal %s", s, sg)
	}
	return pid, sig, nil
}

// Name returns "remote".
func (r *Remote) Name() string { return KindRemote }

// Kind returns KindRemote.
func (r *Remote) Kind() string { return KindRemote }

// URL returns the URL the load GETs.
func (r *Remote) URL() string { return r.opts.URL }

// VersionHeader returns the header that names the serving version.
func (r *Remote) VersionHeader() string { return r.opts.VersionHeader }

// Method returns reload-cmd, reload-url, reload-signal or reload-file.
func (r *Remote) Method() string { return r.method }

// Describe says how a change is made.
func (r *Remote) Describe() string {
	switch r.method {
	case "reload-cmd":
		return fmt.Sprintf("run `%s` (sh -c, $RELOADLAB_VERSION set)", r.opts.ReloadCmd)
	case "reload-url":
		return fmt.Sprintf("POST %s with {\"version\":N}", r.opts.ReloadURL)
	case "reload-signal":
		return fmt.Sprintf("send %s to pid %d", unix.SignalName(r.sig), r.pid)
	default:
		return fmt.Sprintf("rewrite %s (temporary file + rename)", r.opts.ReloadFile)
	}
}

// Change runs the reload hook for version.
func (r *Remote) Change(ctx context.Context, version int64) error {
	v := strconv.FormatInt(version, 10)
	expand := func(s string) string { return strings.ReplaceAll(s, "{version}", v) }
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	switch r.method {
	case "reload-cmd":
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", expand(r.opts.ReloadCmd))
		cmd.Env = append(os.Environ(), "RELOADLAB_VERSION="+v, "RELOADLAB_URL="+r.opts.URL)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("target: reload command for version %d: %w: %s", version, err, lastBytes(out, 512))
		}
	case "reload-url":
		u := expand(r.opts.ReloadURL)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(`{"version":`+v+`}`))
		if err != nil {
			return fmt.Errorf("target: reload URL for version %d: %w", version, err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := r.client.Do(req)
		if err != nil {
			return fmt.Errorf("target: POST %s for version %d: %w", u, version, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("target: POST %s for version %d: %s: %s", u, version, resp.Status, bytes.TrimSpace(body))
		}
	case "reload-signal":
		if err := syscall.Kill(r.pid, r.sig); err != nil {
			return fmt.Errorf("target: send %s to pid %d for version %d: %w", unix.SignalName(r.sig), r.pid, version, err)
		}
	case "reload-file":
		if err := writeFileAtomic(r.opts.ReloadFile, []byte(expand(r.opts.ReloadFileContent))); err != nil {
			return fmt.Errorf("target: reload file for version %d: %w", version, err)
		}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func lastBytes(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Alive returns nil: a remote target's failures show in the load.
func (r *Remote) Alive() error { return nil }

// Output returns "": a remote target's output is not ours to read.
func (r *Remote) Output() string { return "" }

// Pids returns nil: a remote target has no local processes of ours.
func (r *Remote) Pids() []int { return nil }

// Stop does nothing: the harness did not start a remote target.
func (r *Remote) Stop() error { return nil }

// ParseVersion returns the version the header name of h carries. It is an
// error when the header is missing or not an integer.
func ParseVersion(h http.Header, name string) (int64, error) {
	vals := h.Values(name)
	if len(vals) == 0 {
		return -1, fmt.Errorf("no %s header", name)
	}
	if len(vals) > 1 {
		return -1, fmt.Errorf("%d %s headers (%q)", len(vals), name, vals)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(vals[0]), 10, 64)
	if err != nil {
		return -1, fmt.Errorf("%s %q is not an integer", name, vals[0])
	}
	return v, nil
}

// FetchVersion does one GET of url and returns the version its header
// names; a status other than 200 or a missing or invalid header is an
// error saying so.
func FetchVersion(ctx context.Context, url, header string) (int64, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return -1, fmt.Errorf("target: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return -1, fmt.Errorf("target: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return -1, fmt.Errorf("target: GET %s: %s, want 200 OK", url, resp.Status)
	}
	v, err := ParseVersion(resp.Header, header)
	if err != nil {
		return -1, fmt.Errorf("target: GET %s: %w: the harness learns when a change is served from that header", url, err)
	}
	return v, nil
}

// Classes of failed requests, as a client sees them (ClassifyError).
const (
	ErrReset   = "connection reset"
	ErrEOF     = "EOF"
	ErrRefused = "connection refused"
	ErrTimeout = "timeout"
	ErrStatus  = "HTTP error status"
	ErrOther   = "other"
)

// ErrorClasses returns the classes in report order.
func ErrorClasses() []string {
	return []string{ErrReset, ErrEOF, ErrRefused, ErrTimeout, ErrStatus, ErrOther}
}

// ClassifyError sorts a failed request's error string (what vegeta
// records: a transport error, or the status line of a response outside
// 2xx/3xx) into one of the Err* classes.
func ClassifyError(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "connection reset") || strings.Contains(l, "broken pipe") || strings.Contains(l, "econnreset"):
		return ErrReset
	case strings.Contains(l, "eof") || strings.Contains(l, "server closed idle connection"):
		return ErrEOF
	case strings.Contains(l, "connection refused"):
		return ErrRefused
	case strings.Contains(l, "timeout") || strings.Contains(l, "deadline exceeded"):
		return ErrTimeout
	case isStatusLine(s):
		return ErrStatus
	}
	return ErrOther
}

// IsConnectionError reports whether class is a connection the server
// closed under a request: a reset or an EOF.
func IsConnectionError(class string) bool { return class == ErrReset || class == ErrEOF }

// isStatusLine reports whether s starts with a three-digit status code
// (vegeta's error for a response outside 2xx/3xx is its status line).
func isStatusLine(s string) bool {
	if len(s) < 3 {
		return false
	}
	for _, c := range s[:3] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) == 3 || s[3] == ' '
}
