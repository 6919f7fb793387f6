package rig

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

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// ChildEnv, set to "1" in a test binary's environment, tells the test's
// TestMain to run the child's side instead of the tests (the lab itself
// uses its hidden "detect-child" command).
const ChildEnv = "RELOADLAB_DETECT_CHILD"

// ModeColumns is the child mode every child serves: start the columns on
// Path (or Paths), stream observations until stdin closes. The kernel
// experiments add their own modes (see ChildMain).
const ModeColumns = "columns"

// Spec is the job a child reads from the first line of its stdin.
type Spec struct {
	Mode     string            `json:"mode"`
	Path     string            `json:"path"`
	Paths    map[string]string `json:"paths,omitempty"` // per column, overriding Path
	Columns  []string          `json:"columns"`
	Params   Params            `json:"params"`
	Duration time.Duration     `json:"duration,omitempty"`
	Dir      string            `json:"dir,omitempty"`
	Limit    int               `json:"limit,omitempty"`
	Keys     int               `json:"keys,omitempty"`
	Deadline time.Duration     `json:"deadline,omitempty"`
}

// Mode is the child's side of one kind of job: it runs spec, reading the
// rest of stdin if it needs to, and reports on out.
type Mode func(ctx context.Context, spec Spec, stdin io.Reader, out *LineWriter) error

// Command says how to start the lab's child process: Path with Args, then
// the child reads its job from stdin (see ChildMain). The lab uses its own
// binary and the hidden "detect-child" command; tests re-run the test
// binary with ChildEnv set.
type Command struct {
	Path string
	Args []string
	Env  []string // added to the lab's environment
}

// ChildMain is the lab's child process: it reads one job (JSON) from the
// first line of stdin and writes observations as JSON Lines to stdout. It
// serves ModeColumns and every mode in modes. In ModeColumns it runs until
// stdin is closed, then reports each column's counters and returns; the
// caller exits the process, which also ends watchers that cannot be
// stopped (viper). SIGUSR1 and SIGHUP never kill a child: a process-wide
// handler is installed first.
func ChildMain(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, modes map[string]Mode) error {
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
	var spec Spec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("detect child: decode job: %w", err)
	}
	out := &LineWriter{w: stdout}
	if spec.Mode == ModeColumns {
		return childColumns(ctx, spec, in, out)
	}
	if m := modes[spec.Mode]; m != nil {
		return m(ctx, spec, in, out)
	}
	return fmt.Errorf("detect child: unknown mode %q", spec.Mode)
}

// LineWriter writes observations as JSON Lines, one whole line per
// observation; safe for concurrent use.
type LineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Emit writes o as one line.
func (l *LineWriter) Emit(o Observation) {
	b, err := json.Marshal(o)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(append(b, '\n'))
}

func childColumns(ctx context.Context, spec Spec, stdin io.Reader, out *LineWriter) error {
	type started struct {
		name string
		run  Running
	}
	var runs []started
	for _, c := range spec.Columns {
		path := spec.Path
		if p, ok := spec.Paths[c]; ok {
			path = p
		}
		run, err := StartColumn(c, path, spec.Params, out.Emit)
		if err != nil {
			out.Emit(Observation{T: time.Now().UnixNano(), Col: c, Kind: ObsStartError, Msg: err.Error()})
			continue
		}
		runs = append(runs, started{c, run})
		out.Emit(Observation{T: time.Now().UnixNano(), Col: c, Kind: ObsStarted})
	}
	out.Emit(Observation{T: time.Now().UnixNano(), Kind: ObsReady})
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
		out.Emit(Observation{T: time.Now().UnixNano(), Col: r.name, Kind: ObsStatus, Unchanged: r.run.Unchanged()})
	}
	for _, r := range runs {
		r.run.Close()
	}
	return nil
}

// Proc is the lab's handle on one child process.
type Proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{} // closed when stdout ended and the process was reaped
	waitErr   error
	stderr    limitedBuffer
}

// StartChild starts a child for spec; every observation it writes (except
// ObsReady) goes to emit. attr may be nil; the child always gets SIGKILL
// if the lab dies.
func StartChild(c Command, spec Spec, attr *syscall.SysProcAttr, emit func(Observation)) (*Proc, error) {
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
	p := &Proc{cmd: cmd, ready: make(chan struct{}), done: make(chan struct{})}
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
			var o Observation
			if json.Unmarshal(sc.Bytes(), &o) != nil {
				continue
			}
			if o.Kind == ObsReady {
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
		p.Kill()
		return nil, fmt.Errorf("detect: send job to child: %w", err)
	}
	return p, nil
}

// WaitReady waits until the child has started its columns.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration) error {
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

// Signal sends sig to the child.
func (p *Proc) Signal(sig syscall.Signal) error {
	return p.cmd.Process.Signal(sig)
}

// Done is closed when the child's stdout has ended and the process has
// been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ProcessState is how the child ended; nil before Done is closed.
func (p *Proc) ProcessState() *os.ProcessState {
	select {
	case <-p.done:
		return p.cmd.ProcessState
	default:
		return nil
	}
}

// Stderr returns the first 8 KiB the child wrote to stderr, trimmed.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Stop closes the child's stdin (it reports its counters and exits) and
// waits up to timeout before killing it.
func (p *Proc) Stop(timeout time.Duration) {
	p.stdin.Close()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.Kill()
	}
}

// Wait waits for the child to exit on its own, up to timeout.
func (p *Proc) Wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		if p.waitErr != nil {
			return fmt.Errorf("detect: child: %w: %s", p.waitErr, p.stderr.String())
		}
		return nil
	case <-t.C:
		p.Kill()
		return fmt.Errorf("detect: child did not finish within %s", timeout)
	case <-ctx.Done():
		p.Kill()
		return ctx.Err()
	}
}

// Kill kills the child and waits for it to be reaped.
func (p *Proc) Kill() {
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
