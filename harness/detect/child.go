package detect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"reloadlab/strategies/trigger"
)

// ChildEnv, set to "1" in a test binary's environment, tells the test's
// TestMain to run ChildMain instead of the tests (the lab itself uses its
// hidden "detect-child" command).
const ChildEnv = "RELOADLAB_DETECT_CHILD"

// Child modes.
const (
	modeColumns    = "columns"    // start columns on Path, stream observations until stdin closes
	modeIdle       = "idle"       // start one column, measure its CPU over Duration
	modeWatchLimit = "watchlimit" // the watch-limit experiment, inside a new user namespace

	modeInstanceLimit = "instancelimit" // the instance-limit experiment for one column, inside a new user namespace
)

// childSpec is the job a child reads from the first line of its stdin.
type childSpec struct {
	Mode     string            `json:"mode"`
	Path     string            `json:"path"`
	Paths    map[string]string `json:"paths,omitempty"` // per column, overriding Path
	Columns  []string          `json:"columns"`
	Params   triggerParams     `json:"params"`
	Duration time.Duration     `json:"duration,omitempty"`
	Dir      string            `json:"dir,omitempty"`
	Limit    int               `json:"limit,omitempty"`
	Keys     int               `json:"keys,omitempty"`
	Deadline time.Duration     `json:"deadline,omitempty"`
}

// ChildMain is the lab's child process: it reads one job (JSON) from the
// first line of stdin and writes observations as JSON Lines to stdout. In
// "columns" mode it runs until stdin is closed, then reports each column's
// counters and returns; the caller exits the process, which also ends
// watchers that cannot be stopped (viper). SIGUSR1 and SIGHUP never kill a
// child: a process-wide handler is installed first.
func ChildMain(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, trigger.ReloadSignals...)
	defer signal.Stop(sigs)
	go func() {
		for range sigs { // drained; the signal trigger has its own channel
		}
	}()

	in := bufio.NewReader(stdin)
	line, err := in.ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return fmt.Errorf("detect child: read job: %w", err)
	}
	var spec childSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("detect child: decode job: %w", err)
	}
	out := &lineWriter{w: stdout}
	switch spec.Mode {
	case modeColumns:
		return childColumns(ctx, spec, in, out)
	case modeIdle:
		return childIdle(ctx, spec, out)
	case modeWatchLimit:
		return childWatchLimit(ctx, spec, out)
	case modeInstanceLimit:
		return childInstanceLimit(ctx, spec, out)
	}
	return fmt.Errorf("detect child: unknown mode %q", spec.Mode)
}

// lineWriter writes observations as JSON Lines, one whole line per Write.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) emit(o observation) {
	b, err := json.Marshal(o)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(append(b, '\n'))
}

func childColumns(ctx context.Context, spec childSpec, stdin io.Reader, out *lineWriter) error {
	type started struct {
		name string
		run  running
	}
	var runs []started
	for _, c := range spec.Columns {
		path := spec.Path
		if p, ok := spec.Paths[c]; ok {
			path = p
		}
		run, err := startColumn(c, path, spec.Params, out.emit)
		if err != nil {
			out.emit(observation{T: time.Now().UnixNano(), Col: c, Kind: obsStartError, Msg: err.Error()})
			continue
		}
		runs = append(runs, started{c, run})
		out.emit(observation{T: time.Now().UnixNano(), Col: c, Kind: obsStarted})
	}
	out.emit(observation{T: time.Now().UnixNano(), Kind: obsReady})
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	for _, r := range runs {
		out.emit(observation{T: time.Now().UnixNano(), Col: r.name, Kind: obsStatus, Unchanged: r.run.unchanged()})
	}
	for _, r := range runs {
		r.run.close()
	}
	return nil
}

// childProc is the lab's handle on one child process.
type childProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{} // closed when stdout ended and the process was reaped
	waitErr   error
	stderr    limitedBuffer
}

// startChild starts a child for spec; every observation it writes (except
// "ready") goes to emit. attr may be nil; the child always gets SIGKILL if
// the lab dies.
func startChild(c Child, spec childSpec, attr *syscall.SysProcAttr, emit func(observation)) (*childProc, error) {
	if c.Path == "" {
		return nil, errors.New("detect: no child process configured (Config.Child)")
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr = attr
	p := &childProc{cmd: cmd, ready: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("detect: child stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("detect: child stdout: %w", err)
	}
	job, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("detect: child job: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("detect: start child %s: %w", c.Path, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var o observation
			if json.Unmarshal(sc.Bytes(), &o) != nil {
				continue
			}
			if o.Kind == obsReady {
				p.readyOnce.Do(func() { close(p.ready) })
				continue
			}
			emit(o)
		}
		io.Copy(io.Discard, stdout)
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if _, err := p.stdin.Write(append(job, '\n')); err != nil {
		p.kill()
		return nil, fmt.Errorf("detect: send job to child: %w", err)
	}
	return p, nil
}

// waitReady waits until the child has started its columns.
func (p *childProc) waitReady(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.ready:
		return nil
	case <-p.done:
		return fmt.Errorf("detect: child exited before it was ready: %v: %s", p.waitErr, p.stderr.String())
	case <-t.C:
		return fmt.Errorf("detect: child not ready after %s: %s", timeout, p.stderr.String())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signal sends sig to the child.
func (p *childProc) signal(sig syscall.Signal) error {
	return p.cmd.Process.Signal(sig)
}

// exited reports whether the child has exited, and how.
func (p *childProc) exited() (bool, string) {
	select {
	case <-p.done:
		return true, fmt.Sprintf("%v %s", p.waitErr, p.stderr.String())
	default:
		return false, ""
	}
}

// stop closes the child's stdin (it reports its counters and exits) and
// waits up to timeout before killing it.
func (p *childProc) stop(timeout time.Duration) {
	p.stdin.Close()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.kill()
	}
}

// wait waits for the child to exit on its own, up to timeout.
func (p *childProc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		if p.waitErr != nil {
			return fmt.Errorf("detect: child: %w: %s", p.waitErr, p.stderr.String())
		}
		return nil
	case <-t.C:
		p.kill()
		return fmt.Errorf("detect: child did not finish within %s", timeout)
	case <-ctx.Done():
		p.kill()
		return ctx.Err()
	}
}

// kill kills the child and waits for it to be reaped.
func (p *childProc) kill() {
	p.stdin.Close()
	p.cmd.Process.Kill()
	<-p.done
}

// limitedBuffer keeps the first 8 KiB written to it; safe for concurrent
// use.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 8<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf.Bytes()))
}
