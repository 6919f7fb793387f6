package anchors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/childproc"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

)

// proc is an anchor's main process, leader of its own process group, with
// the directory it runs in.
type proc struct {
	cmd    *exec.Cmd
	pid    int
	dir    string
	stderr *childproc.Tail
	exited chan struct{}
	// waitErr is set before exited is closed.
	waitErr error

	endOnce sync.Once
	ended   chan struct{} // closed when the group is gone and dir removed
	endErr  error
}

// startProc starts cmd pinned to cpus as the leader of a new process group
// and arranges that cancelling ctx ends the group and removes dir.
func startProc(ctx context.Context, cmd *exec.Cmd, cpus []int, dir string, log io.Writer) (*proc, error) {
	p := &proc{cmd: cmd, dir: dir, stderr: childproc.NewTail(40, log), exited: make(chan struct{}), ended: make(chan struct{})}
	cmd.Stderr = p.stderr
	cmd.Stdout = p.stderr
	// Setpgid makes the anchor's workers reachable as one group;
	// Pdeathsig ends the master if the lab dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Workers may hold stderr open after the master is gone; do not wait
	// for them forever to finish copying it.
	cmd.WaitDelay = 2 * time.Second
	if err := childproc.WithAffinity(cpus, cmd.Start); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p.pid = cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		if err == nil {
			err = errors.New("exited")
		}
		p.waitErr = err
		close(p.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			p.end(0)
		case <-p.ended:
		}
	}()
	return p, nil
}

// end stops the process group once: with grace > 0 it sends SIGTERM to
// the leader and waits up to grace for it to exit (it then reaps its own
// children), then SIGKILLs whatever of the group is left, waits for the
// group to be gone and removes the directory.
func (p *proc) end(grace time.Duration) error {
	p.endOnce.Do(func() {
		defer close(p.ended)
		var errs []error
		if grace > 0 {
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
				errs = append(errs, fmt.Errorf("SIGTERM %d: %w", p.pid, err))
			}
			select {
			case <-p.exited:
			case <-time.After(grace):
				errs = append(errs, fmt.Errorf("pid %d still running %s after SIGTERM; killed", p.pid, grace))
			}
		}
		if err := syscall.Kill(-p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("SIGKILL group %d: %w", p.pid, err))
		}
		<-p.exited
		deadline := time.Now().Add(5 * time.Second)
		for {
			left := groupPids(p.pid)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("processes %v of group %d still alive after SIGKILL", left, p.pid))
				break
			}
			syscall.Kill(-p.pid, syscall.SIGKILL)
			time.Sleep(10 * time.Millisecond)
		}
		if err := os.RemoveAll(p.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p.dir, err))
		}
		p.endErr = errors.Join(errs...)
	})
	<-p.ended
	return p.endErr
}

// running reports an error if the process has exited.
func (p *proc) running() error {
	select {
	case <-p.exited:
		return fmt.Errorf("process %d is gone (%v); last stderr:\n%s", p.pid, p.waitErr, p.stderr.String())
	default:
		return nil
	}
}

// groupPids returns the live (not zombie) processes whose process group is
// pgid, read from /proc.
func groupPids(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, pg, ok := procStat(pid)
		if ok && pg == pgid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// procStat reads the state and process group of pid from /proc/pid/stat.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pg, true
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}
