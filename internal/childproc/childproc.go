// Package childproc holds what the lab needs to start the child processes
// it measures (its target, the nginx and Caddy anchors, etcd members): a
// writer that keeps the last lines of a child's stderr for error messages,
// and a way to start a child on given CPUs so that it, and every process
// it forks, inherits them.
package childproc

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Tail keeps the last n lines written to it and copies everything to out
// (when not nil). It is safe for concurrent use.
type Tail struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  string
	out   io.Writer
}

// NewTail returns a Tail keeping n lines and copying to out.
func NewTail(n int, out io.Writer) *Tail { return &Tail{n: n, out: out} }

// Write records p; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out != nil {
		t.out.Write(p)
	}
	parts := strings.Split(t.part+string(p), "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
	return len(p), nil
}

// String returns the kept lines, the unfinished last one included.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := strings.Join(t.lines, "\n")
	if t.part != "" {
		out += "\n" + t.part
	}
	return out
}

// CPUSet returns the affinity mask of cpus.
func CPUSet(cpus []int) unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return set
}

// WithAffinity runs fn on a locked OS thread whose affinity is cpus, then
// restores the thread's mask, so that a process fn starts (and every
// process that one forks) inherits cpus. A nil cpus just runs fn.
func WithAffinity(cpus []int, fn func() error) error {
	if len(cpus) == 0 {
		return fn()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("read affinity: %w", err)
	}
	set := CPUSet(cpus)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("set affinity %v: %w", cpus, err)
	}
	defer unix.SchedSetaffinity(0, &old)
	return fn()
}
