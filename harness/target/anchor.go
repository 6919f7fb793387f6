package target

import (
	"bytes"
	"context"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/childproc"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/harness/anchors"
)

// Anchor is a reference server of package anchors (nginx, Caddy) as an
// External target: the harness starts it pinned to the target's CPUs and
// changes its config with the anchor's own reload.
type Anchor struct {
	a   anchors.Anchor
	out *childproc.Tail

	stopOnce sync.Once
	stopErr  error
}

// StartAnchor starts the anchor called name with opts (opts.Log also gets
// a copy of what it writes). An anchor this machine cannot run is an error
// that says why; `lab anchors` installs or builds what is missing.
func StartAnchor(ctx context.Context, name string, opts anchors.Options) (*Anchor, error) {
	if !slices.Contains(anchors.Names(), name) {
		return nil, fmt.Errorf("target: unknown anchor %q (known: %s)", name, strings.Join(anchors.Names(), ", "))
	}
	if reason := anchors.Available(ctx, name); reason != "" {
		return nil, fmt.Errorf("target: the %s anchor is unavailable: %s (`make anchors` installs nginx and builds Caddy)", name, reason)
	}
	out := childproc.NewTail(40, opts.Log)
	opts.Log = out
	a, err := anchors.Start(ctx, name, opts)
	if err != nil {
		return nil, fmt.Errorf("target: start the %s anchor: %w", name, err)
	}
	return &Anchor{a: a, out: out}, nil
}

// Name returns the anchor's name.
func (t *Anchor) Name() string { return t.a.Name() }

// Kind returns KindAnchor.
func (t *Anchor) Kind() string { return KindAnchor }

// URL returns the anchor's endpoint.
func (t *Anchor) URL() string { return t.a.URL() }

// VersionHeader returns anchors.VersionHeader.
func (t *Anchor) VersionHeader() string { return anchors.VersionHeader }

// Method returns how the anchor reloads (AnchorChange).
func (t *Anchor) Method() string { m, _ := AnchorChange(t.a.Name()); return m }

// Describe says how a change is made (AnchorChange).
func (t *Anchor) Describe() string { _, d := AnchorChange(t.a.Name()); return d }

// AnchorChange returns how the anchor called name is changed: a short
// method name ("sighup" for nginx, "admin-load" for Caddy) and a sentence.
func AnchorChange(name string) (method, description string) {
	switch name {
	case anchors.NameNginx:
		return "sighup", "rewrite nginx.conf for the new version, validate it with `nginx -t` (on nginx's CPUs), send SIGHUP to the master (new workers start with it; the old ones finish their connections)"
	case anchors.NameCaddy:
		return "admin-load", "POST the JSON config of the new version to Caddy's admin API /load (returns once Caddy runs it)"
	}
	return "", ""
}

// Change reloads the anchor to serve version.
func (t *Anchor) Change(ctx context.Context, version int64) error {
	return t.a.Reload(ctx, version)
}

// Alive returns an error once the anchor's main process is gone.
func (t *Anchor) Alive() error {
	if !slices.Contains(t.a.Pids(), t.a.Pid()) {
		return fmt.Errorf("target: the %s anchor's main process %d is gone", t.a.Name(), t.a.Pid())
	}
	return nil
}

// Output returns the anchor's last stderr lines.
func (t *Anchor) Output() string { return t.out.String() }

// Pids lists the anchor's processes.
func (t *Anchor) Pids() []int { return t.a.Pids() }

// Stop stops the anchor and removes its directory.
func (t *Anchor) Stop() error {
	t.stopOnce.Do(func() { t.stopErr = t.a.Stop() })
	return t.stopErr
}

// CPUTime returns the CPU time (user + system) the anchor's processes
// have used: its live processes' own, plus what the main process's reaped
// children used (nginx's old workers, after a reload).
func (t *Anchor) CPUTime() (time.Duration, error) {
	var total time.Duration
	lead := t.a.Pid()
	for _, pid := range t.a.Pids() {
		d, err := procCPU(pid, pid == lead)
		if err != nil {
			if os.IsNotExist(err) {
				continue // exited since Pids
			}
			return 0, err
		}
		total += d
	}
	return total, nil
}

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux ABI).
const userHZ = 100

// procCPU returns utime + stime of pid (with children: + cutime + cstime)
// from /proc/<pid>/stat.
func procCPU(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("target: /proc/%d/stat: no command field", pid)
	}
	// After "pid (comm) ": state(3) ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime(14) stime cutime cstime.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, fmt.Errorf("target: /proc/%d/stat: %d fields", pid, len(f))
	}
	idx := []int{11, 12}
	if children {
		idx = append(idx, 13, 14)
	}
	var ticks int64
	for _, k := range idx {
		n, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("target: /proc/%d/stat field %d: %w", pid, k+3, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
