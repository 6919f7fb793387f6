package target

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/childproc"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/harness/tools"
)

// DefaultStartTimeout bounds how long Start waits for the target to
// announce its address.
const DefaultStartTimeout = 30 * time.Second

// Build compiles ./targets/httpsvc (the module must be the working
// directory's) into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	goBin, err := tools.Go()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "httpsvc")
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./targets/httpsvc").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("target: go build ./targets/httpsvc: %w\n%s", err, out)
	}
	return bin, nil
}

// Process is a running target.
type Process struct {
	// Base is the target's base URL, e.g. http://127.0.0.1:41234.
	Base string
	// PID is the target's process id.
	PID int
	// CPUs the target is pinned to (nil if not pinned).
	CPUs []int

	cmd    *exec.Cmd
	stderr *childproc.Tail
	exited chan struct{}
	err    error // set before exited is closed
	client *Client
}

// Start runs bin with args pinned to cpus and waits until it prints
// "listening on http://ADDR". The target's stderr is kept (the last lines)
// for error reports and, if log is not nil, copied to it.
func Start(ctx context.Context, bin string, args []string, cpus []int, log io.Writer) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	p := &Process{cmd: cmd, stderr: childproc.NewTail(40, log), exited: make(chan struct{}), CPUs: cpus}
	cmd.Stderr = p.stderr
	if err := childproc.WithAffinity(cpus, cmd.Start); err != nil {
		return nil, fmt.Errorf("target: start %s: %w", bin, err)
	}
	p.PID = cmd.Process.Pid
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // only the first line matters; the target prints only one
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		if err == nil {
			err = errors.New("target exited")
		}
		p.err = err
		close(p.exited)
	}()

	timer := time.NewTimer(DefaultStartTimeout)
	defer timer.Stop()
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			p.Kill()
			return nil, fmt.Errorf("target: unexpected first line %q", line)
		}
		p.Base = addr
		p.client = NewClient(addr)
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("target: exited before serving (%v); last stderr:\n%s", p.err, p.StderrTail())
	case <-timer.C:
		p.Kill()
		return nil, fmt.Errorf("target: no address after %s; last stderr:\n%s", DefaultStartTimeout, p.StderrTail())
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
}

// Client returns the client of the target's /debug endpoints.
func (p *Process) Client() *Client { return p.client }

// Exited is closed when the target process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err returns why the target exited; valid after Exited is closed.
func (p *Process) Err() error { return p.err }

// StderrTail returns the last lines the target wrote to stderr.
func (p *Process) StderrTail() string { return p.stderr.String() }

// Signal sends sig to the target.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and waits up to timeout for a clean exit, then kills
// the process. It returns nil if the target exited cleanly on SIGTERM.
func (p *Process) Stop(timeout time.Duration) error {
	select {
	case <-p.exited:
		return fmt.Errorf("target: already exited: %w", p.err)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.Kill()
		return fmt.Errorf("target: SIGTERM: %w", err)
	}
	select {
	case <-p.exited:
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			return fmt.Errorf("target: exit after SIGTERM: %w; last stderr:\n%s", p.err, p.StderrTail())
		}
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("target: still running %s after SIGTERM; killed", timeout)
	}
}

// Kill kills the target and waits for it to exit.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.exited
}
