package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/config"
)

// InstanceLimit is the result of the inotify instance limit experiment:
// max_user_instances exhausted in a user namespace, then one column started
// there, each column in its own child process and namespace.
type InstanceLimit struct {
	// Method says how the experiment was run.
	Method string `json:"method"`
	// HostMaxUserInstances is /proc/sys/fs/inotify/max_user_instances as the
	// lab sees it (the initial user namespace's limit), read and never
	// written; HostUnchanged says it was the same after the experiment.
	HostMaxUserInstances int  `json:"host_max_user_instances"`
	HostUnchanged        bool `json:"host_unchanged"`
	// HostInstancesHeld is how many inotify instances the lab itself holds
	// during the experiment (more than the children's limit, to show
	// whether they count against it); HostInstancesInUse counts the inotify
	// instances of every process the lab can see (/proc/*/fd), those
	// included.
	HostInstancesHeld  int `json:"host_instances_held"`
	HostInstancesInUse int `json:"host_instances_in_use"`
	// ChildInitial is /proc/sys/user/max_inotify_instances in a new user
	// namespace before the child lowered it (the first child's reading).
	ChildInitial string `json:"child_initial"`
	// LimitSet is what every child wrote there.
	LimitSet int `json:"limit_set"`
	// InstancesCreated is how many inotify instances the first child
	// created before inotify_init1 failed; InitError and Errno are that
	// failure (the columns' own counts are on each column).
	InstancesCreated int    `json:"instances_created"`
	InitError        string `json:"init_error"`
	Errno            string `json:"errno"`
	// LimitApplies: in every child, inotify_init1 failed after exactly
	// LimitSet instances.
	LimitApplies bool `json:"limit_applies"`
	// Columns holds one row per column, in the run's column order.
	Columns []InstanceLimitColumn `json:"columns"`
	// Error says why the experiment did not run or did not complete
	// (skipped: no user namespaces, not root).
	Error string `json:"error,omitempty"`
}

// InstanceLimitColumn is what one column did with no inotify instance left
// in its namespace.
type InstanceLimitColumn struct {
	// Column is the column's name.
	Column string `json:"column"`
	// Outcome is one of the Outcome* constants, from instanceOutcome.
	Outcome string `json:"outcome"`
	// InstancesCreated and Errno are this child's exhaustion: instances
	// created, and the errno of the inotify_init1 that failed.
	InstancesCreated int    `json:"instances_created"`
	Errno            string `json:"errno,omitempty"`
	// StartError: Start (or the peer's setup) returned this error.
	StartError string `json:"start_error,omitempty"`
	// Errors are the first errors the column reported while running (for
	// viper: what it logged before exiting).
	Errors []string `json:"errors,omitempty"`
	// ExitCode and Signal say how the process ended when it died before
	// reporting (exit outcome): its exit status, or the signal that killed
	// it.
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
	// Stderr is the last line the child wrote to stderr, truncated.
	Stderr string `json:"stderr,omitempty"`
	// Applied: every change made after the start (Changes) was served
	// within the deadline; LatencyMS is the slowest of them, Via the
	// distinct reasons the column gave.
	Applied   bool     `json:"applied"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Via       string   `json:"via,omitempty"`
	// Changes are the changes made after the start, in order.
	Changes []InstanceLimitChange `json:"changes,omitempty"`
	// Error says what kept the lab from observing this column completely.
	Error string `json:"error,omitempty"`
}

// InstanceLimitChange is one change made to the config after a column
// started, and whether the column served it.
type InstanceLimitChange struct {
	// Pattern is the write pattern that made it (writepattern names).
	Pattern string `json:"pattern"`
	// Applied: the column served exactly this version within the deadline,
	// LatencyMS after the write finished, saying Via.
	Applied   bool     `json:"applied"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Via       string   `json:"via,omitempty"`
}

// Outcomes of a column in the instance limit experiment.
const (
	// OutcomeFailAtStart: Start (or the peer's setup) returned an error.
	OutcomeFailAtStart = "fail-at-start"
	// OutcomeExit: the process died (os.Exit, log.Fatal, a panic) before
	// it could report.
	OutcomeExit = "exit"
	// OutcomeFallbackPolling: with no inotify instance to be had, the later
	// changes were served anyway, by polling (poll and pollhash never need
	// inotify; robust has its safety poll).
	OutcomeFallbackPolling = "fallback-polling"
	// OutcomeServedBySignal: the later changes were served because the
	// child sent itself the reload signal after each (the signal column,
	// which never uses inotify).
	OutcomeServedBySignal = "served-by-signal"
	// OutcomeKeepServingStale: Start returned nil and the process lived,
	// but a later change was not served within the deadline.
	OutcomeKeepServingStale = "keep-serving-stale"
)

// DefaultInstanceLimit is the max_inotify_instances each child sets in its
// user namespace.
const DefaultInstanceLimit = 4

// hostInstancesKnob is the initial namespace's instance limit; read only.
const hostInstancesKnob = "/proc/sys/fs/inotify/max_user_instances"

// instanceLimitChanges are the write patterns of the changes made after a
// column started, in order.
var instanceLimitChanges = [...]string{"rename", "inplace"}

const instanceLimitMethod = "each column runs in its own child process in its own new user namespace (clone(CLONE_NEWUSER), its uid 0 mapped to the lab's uid), so that a column that exits the process hides no other: the child writes /proc/sys/user/max_inotify_instances of that namespace only, creates inotify instances (inotify_init1) until one fails, and with every instance still held starts its one column on a config; the config is then changed by rename (a temp file renamed over it) and then in place, each change getting the deadline to be served (the signal column's child sends itself SIGUSR1 after each). The lab meanwhile holds more inotify instances of its own than the children's limit. The host's limits are read, never written."

// instanceFacts are what the lab observed of one column, the input of
// instanceOutcome.
type instanceFacts struct {
	StartFailed bool // Start (or the peer's setup) returned an error, or never returned
	Died        bool // the process ended before reporting the column's result
	Applied     bool // every later change was served
	BySignal    bool // the column was sent the reload signal after each change
}

// instanceOutcome classifies one column's behaviour with no inotify
// instance left (the Outcome* constants).
func instanceOutcome(f instanceFacts) string {
	switch {
	case f.StartFailed:
		return OutcomeFailAtStart
	case f.Died:
		return OutcomeExit
	case f.Applied && f.BySignal:
		return OutcomeServedBySignal
	case f.Applied:
		return OutcomeFallbackPolling
	default:
		return OutcomeKeepServingStale
	}
}

// instanceLimitSkip returns why the experiment cannot run here, or "".
func instanceLimitSkip() string {
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Sprintf("skipped: the lab is not root (euid %d); run detect as root", uid)
	}
	n, err := readInt("/proc/sys/user/max_user_namespaces")
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "skipped: user namespaces are unavailable (no /proc/sys/user/max_user_namespaces)"
	case err != nil:
		return fmt.Sprintf("skipped: read /proc/sys/user/max_user_namespaces: %v", err)
	case n == 0:
		return "skipped: user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)"
	}
	return ""
}

// RunInstanceLimit runs the instance limit experiment, one child per
// column of cols, one after the other, in a directory it makes under base
// and removes. Without root or user namespaces it returns at once, the
// reason in the result's Error ("skipped: …").
func RunInstanceLimit(ctx context.Context, cfg Config, base string, cols []string) *InstanceLimit {
	res := &InstanceLimit{Method: instanceLimitMethod, LimitSet: DefaultInstanceLimit}
	if skip := instanceLimitSkip(); skip != "" {
		res.Error = skip
		return res
	}
	before, err := readInt(hostInstancesKnob)
	if err != nil {
		res.Error = fmt.Sprintf("read the host's limit: %v", err)
		return res
	}
	res.HostMaxUserInstances = before
	defer func() {
		if after, err := readInt(hostInstancesKnob); err == nil {
			res.HostUnchanged = after == before
		}
	}()
	dir := filepath.Join(base, "instancelimit")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Error = fmt.Sprintf("instance limit: %v", err)
		return res
	}
	defer os.RemoveAll(dir)
	held := 2 * DefaultInstanceLimit
	release, err := holdInstances(held)
	if err != nil {
		res.Error = fmt.Sprintf("holding %d host inotify instances: %v", held, err)
		return res
	}
	defer release()
	res.HostInstancesHeld = held
	res.HostInstancesInUse = hostInstancesInUse()

	clean := rig.PathCleaner(dir)
	res.LimitApplies = len(cols) > 0
	for i, c := range cols {
		if err := ctx.Err(); err != nil {
			res.Error = err.Error()
			res.LimitApplies = false
			return res
		}
		colDir := filepath.Join(dir, strconv.Itoa(i)+"-"+c)
		if err := os.Mkdir(colDir, 0o755); err != nil {
			res.Error = fmt.Sprintf("instance limit: %v", err)
			res.LimitApplies = false
			return res
		}
		row, probe, err := runInstanceColumn(ctx, cfg, colDir, c)
		if err != nil {
			res.Error = clean(err.Error())
			res.LimitApplies = false
			return res
		}
		if probe != nil && probe.Error != "" {
			// The namespace's knob cannot be read or written: the same
			// for every column.
			res.Error = clean("child: " + probe.Error)
			res.LimitApplies = false
			return res
		}
		if probe == nil {
			res.LimitApplies = false
			row.Error = strings.TrimPrefix(row.Error+"; the child reported no exhaustion result", "; ")
		} else {
			if res.ChildInitial == "" {
				res.ChildInitial, res.InstancesCreated = probe.ChildInitial, probe.InstancesCreated
				res.InitError, res.Errno = probe.InitError, probe.Errno
			}
			res.LimitApplies = res.LimitApplies && probe.LimitApplies
		}
		row.StartError, row.Stderr, row.Error = clean(row.StartError), clean(row.Stderr), clean(row.Error)
		for j := range row.Errors {
			row.Errors[j] = clean(row.Errors[j])
		}
		res.Columns = append(res.Columns, row)
	}
	return res
}

// instanceCollector gathers what one instance-limit child reports.
type instanceCollector struct {
	mu       sync.Mutex
	probe    *InstanceLimit
	final    *InstanceLimitColumn
	started  bool
	startErr string
	errs     []string
	notes    []string
}

func (c *instanceCollector) emit(o rig.Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch o.Kind {
	case rig.ObsResult:
		if o.Col == "" {
			var p InstanceLimit
			if err := json.Unmarshal(o.Data, &p); err != nil {
				c.notes = append(c.notes, fmt.Sprintf("decode the child's exhaustion result: %v", err))
				return
			}
			c.probe = &p
			return
		}
		var f InstanceLimitColumn
		if err := json.Unmarshal(o.Data, &f); err != nil {
			c.notes = append(c.notes, fmt.Sprintf("decode the child's column result: %v", err))
			return
		}
		c.final = &f
	case rig.ObsStarted:
		c.started = true
	case rig.ObsStartError:
		c.startErr = o.Msg
	case rig.ObsError, rig.ObsRejected:
		if len(c.errs) < 4 {
			c.errs = append(c.errs, o.Msg)
		}
	}
}

// runInstanceColumn runs column c in a child in a new user namespace and
// returns its row and the child's exhaustion result (nil if it sent none).
// The error means the child could not be started at all.
func runInstanceColumn(ctx context.Context, cfg Config, dir, c string) (InstanceLimitColumn, *InstanceLimit, error) {
	row := InstanceLimitColumn{Column: c}
	attr := &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
	deadline := cfg.Deadline
	spec := rig.Spec{Mode: modeInstanceLimit, Dir: dir, Limit: DefaultInstanceLimit, Keys: 50, Columns: []string{c},
		Params:   cfg.params(),
		Deadline: deadline}
	col := &instanceCollector{}
	ch, err := rig.StartChild(cfg.Child, spec, attr, col.emit)
	if err != nil {
		return row, nil, fmt.Errorf("skipped: cannot start a child in a new user namespace: %w", err)
	}
	timeout := time.Duration(len(instanceLimitChanges))*deadline + 30*time.Second
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	timedOut := false
	select {
	case <-ch.Done():
	case <-timer.C:
		ch.Kill()
		timedOut = true
	case <-ctx.Done():
		ch.Kill()
		return row, nil, fmt.Errorf("instance limit %s: %w", c, ctx.Err())
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	row.StartError, row.Errors = col.startErr, col.errs
	row.Stderr = lastLine(ch.Stderr(), 200)
	if p := col.probe; p != nil {
		row.InstancesCreated, row.Errno = p.InstancesCreated, p.Errno
	}
	var notes []string
	if f := col.final; f != nil {
		row.Changes = f.Changes
		if f.Error != "" {
			notes = append(notes, f.Error)
		}
	}
	notes = append(notes, col.notes...)
	died := col.final == nil && !timedOut
	if timedOut {
		notes = append(notes, fmt.Sprintf("the child did not finish within %s and was killed", timeout))
		if !col.started && row.StartError == "" {
			row.StartError = fmt.Sprintf("Start did not return within %s", timeout)
		}
	}
	if died {
		if ps := ch.ProcessState(); ps != nil {
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				row.Signal = unix.SignalName(ws.Signal())
			} else {
				code := ps.ExitCode()
				row.ExitCode = &code
			}
		}
	}
	row.Error = strings.Join(notes, "; ")
	summarizeChanges(&row)
	row.Outcome = instanceOutcome(instanceFacts{
		StartFailed: row.StartError != "",
		Died:        died,
		Applied:     row.Applied,
		BySignal:    c == "signal",
	})
	return row, col.probe, nil
}

// summarizeChanges sets row's Applied, LatencyMS and Via from its Changes.
func summarizeChanges(row *InstanceLimitColumn) {
	row.Applied = len(row.Changes) > 0
	var vias []string
	for _, ch := range row.Changes {
		if !ch.Applied {
			row.Applied = false
			continue
		}
		if row.LatencyMS == nil || *ch.LatencyMS > *row.LatencyMS {
			l := *ch.LatencyMS
			row.LatencyMS = &l
		}
		if !slices.Contains(vias, ch.Via) {
			vias = append(vias, ch.Via)
		}
	}
	if !row.Applied {
		row.LatencyMS = nil
	}
	row.Via = strings.Join(vias, "; ")
}

// lastLine returns the last non-empty line of s, cut to n bytes.
func lastLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// childInstanceLimit is the child's side: inside its new user namespace it
// exhausts the namespace's inotify instances, reports that, then runs its
// one column through the changes and reports the column's result. If the
// column ends the process, the lab sees the exit instead of the result.
func childInstanceLimit(ctx context.Context, spec rig.Spec, out *rig.LineWriter) error {
	if len(spec.Columns) != 1 {
		return fmt.Errorf("detect child: the instance-limit job takes one column, got %d", len(spec.Columns))
	}
	name := spec.Columns[0]
	probe, fds := exhaustInstances(spec.Limit)
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	if err := emitResult(out, "", probe); err != nil {
		return err
	}
	if probe.Error != "" {
		return nil
	}

	row := InstanceLimitColumn{Column: name}
	report := func() error { return emitResult(out, name, row) }
	confDir := filepath.Join(spec.Dir, "conf")
	if err := os.Mkdir(confDir, 0o755); err != nil {
		row.Error = fmt.Sprintf("config directory: %v", err)
		return report()
	}
	path := filepath.Join(confDir, rig.ConfigName)
	if err := os.WriteFile(path, config.Generate(1, spec.Keys), 0o644); err != nil {
		row.Error = fmt.Sprintf("write version 1: %v", err)
		return report()
	}

	var mu sync.Mutex
	var target rig.Written
	var changed time.Time
	var current *InstanceLimitChange
	emit := func(o rig.Observation) {
		switch o.Kind {
		case rig.ObsError, rig.ObsRejected:
			out.Emit(o)
		case rig.ObsApply:
			mu.Lock()
			defer mu.Unlock()
			if current != nil && !current.Applied && rig.Same(o.State, target) {
				current.Applied = true
				l := rig.Round3(rig.MS(max(o.Time().Sub(changed), 0)))
				current.LatencyMS = &l
				current.Via = o.Msg
			}
		}
	}
	run, err := rig.StartColumn(name, path, spec.Params, emit)
	if err != nil {
		out.Emit(rig.Observation{T: time.Now().UnixNano(), Col: name, Kind: rig.ObsStartError, Msg: err.Error()})
		return report()
	}
	defer run.Close()
	out.Emit(rig.Observation{T: time.Now().UnixNano(), Col: name, Kind: rig.ObsStarted})
	if err := rig.SleepCtx(ctx, 200*time.Millisecond); err != nil {
		return err
	}

	version := int64(1)
	next := func() []byte { version++; return config.Generate(version, spec.Keys) }
	for _, pname := range instanceLimitChanges {
		p, err := writepattern.Lookup(pname)
		if err != nil {
			row.Error = err.Error()
			return report()
		}
		data, err := p.Write(ctx, confDir, rig.ConfigName, next)
		if err == nil && len(data) == 0 {
			err = errors.New("wrote no complete version")
		}
		if err != nil {
			row.Error = fmt.Sprintf("change by %s: %v", pname, err)
			return report()
		}
		w, err := rig.OracleEntry(data[len(data)-1])
		if err != nil {
			row.Error = err.Error()
			return report()
		}
		ch := &InstanceLimitChange{Pattern: pname}
		mu.Lock()
		target, changed, current = w, time.Now(), ch
		mu.Unlock()
		if name == "signal" {
			if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
				row.Error = fmt.Sprintf("send SIGUSR1: %v", err)
			}
		}
		end := time.Now().Add(spec.Deadline)
		for time.Now().Before(end) {
			mu.Lock()
			done := ch.Applied
			mu.Unlock()
			if done || rig.SleepCtx(ctx, 20*time.Millisecond) != nil {
				break
			}
		}
		mu.Lock()
		row.Changes = append(row.Changes, *ch)
		current = nil
		mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
		// Let a coarse timestamp tick pass, so an mtime poll can tell
		// the next change from this one.
		rig.SleepCtx(ctx, 100*time.Millisecond)
	}
	return report()
}

// exhaustInstances lowers the namespace's max_inotify_instances to limit
// and creates inotify instances until inotify_init1 fails (or limit+16
// succeed); the caller closes the returned descriptors.
func exhaustInstances(limit int) (InstanceLimit, []int) {
	res := InstanceLimit{LimitSet: limit}
	const knob = "/proc/sys/user/max_inotify_instances"
	initial, err := os.ReadFile(knob)
	if err != nil {
		res.Error = fmt.Sprintf("read %s: %v", knob, err)
		return res, nil
	}
	res.ChildInitial = strings.TrimSpace(string(initial))
	if err := os.WriteFile(knob, []byte(strconv.Itoa(limit)), 0o644); err != nil {
		res.Error = fmt.Sprintf("write %s in the child namespace: %v", knob, err)
		return res, nil
	}
	var fds []int
	for range limit + 16 {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
		if err != nil {
			res.InitError = fmt.Sprintf("inotify_init1: %v", err)
			var errno syscall.Errno
			if errors.As(err, &errno) {
				res.Errno = unix.ErrnoName(errno)
			}
			break
		}
		fds = append(fds, fd)
	}
	res.InstancesCreated = len(fds)
	res.LimitApplies = res.InstancesCreated == limit && res.InitError != ""
	return res, fds
}

// emitResult writes v as a result observation of column col ("" for the
// exhaustion result).
func emitResult(out *rig.LineWriter, col string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("detect child: encode result: %w", err)
	}
	out.Emit(rig.Observation{T: time.Now().UnixNano(), Col: col, Kind: rig.ObsResult, Data: data})
	return nil
}

// hostInstancesInUse counts the inotify instances (file descriptors
// linking to "anon_inode:inotify" in /proc/*/fd) of every process the lab
// can see. A descriptor shared by several processes counts once per
// process.
func hostInstancesInUse() int {
	n := 0
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, p := range fds {
		if l, err := os.Readlink(p); err == nil && l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// holdInstances creates n inotify instances in the lab process and returns
// the function that closes them.
func holdInstances(n int) (func(), error) {
	var fds []int
	release := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	for range n {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
		if err != nil {
			release()
			return nil, fmt.Errorf("inotify_init1: %w", err)
		}
		fds = append(fds, fd)
	}
	return release, nil
}
