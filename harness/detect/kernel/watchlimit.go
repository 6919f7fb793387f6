package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// WatchLimit is the result of the inotify watch limit experiment.
type WatchLimit struct {
	Method string `json:"method"`
	// HostMaxUserWatches is /proc/sys/fs/inotify/max_user_watches as the
	// lab sees it (the initial user namespace's limit); HostUnchanged says
	// it was the same after the experiment.
	HostMaxUserWatches int  `json:"host_max_user_watches"`
	HostUnchanged      bool `json:"host_unchanged"`
	// HostWatchesInUse counts the inotify watches of every process the lab
	// can see (/proc/*/fdinfo) during the experiment, including the
	// 4×DefaultWatchLimit the lab holds itself so that there are more than
	// the child's limit.
	HostWatchesInUse int `json:"host_watches_in_use"`
	// ChildInitial is /proc/sys/user/max_inotify_watches in the new user
	// namespace before the child lowered it.
	ChildInitial string `json:"child_initial"`
	// LimitSet is what the child wrote there.
	LimitSet int `json:"limit_set"`
	// WatchesAdded is how many watches one inotify instance added before
	// inotify_add_watch failed; AddError and Errno are that failure.
	WatchesAdded int    `json:"watches_added"`
	AddError     string `json:"add_error"`
	Errno        string `json:"errno"`
	// LimitApplies: the namespace's lowered limit was enforced exactly.
	LimitApplies bool               `json:"limit_applies"`
	Columns      []WatchLimitColumn `json:"columns"`
	Error        string             `json:"error,omitempty"`
}

// WatchLimitColumn is what one column did with no watch left.
type WatchLimitColumn struct {
	Column     string   `json:"column"`
	StartError string   `json:"start_error,omitempty"` // Start (or the peer's setup) failed
	Errors     []string `json:"errors,omitempty"`      // reported while running
	Applied    bool     `json:"applied"`               // a change made afterwards was served
	LatencyMS  *float64 `json:"latency_ms,omitempty"`
	Via        string   `json:"via,omitempty"`
}

// DefaultWatchLimit is the limit the child sets in its user namespace.
const DefaultWatchLimit = 8

const watchLimitMethod = "a child process in a new user namespace (clone(CLONE_NEWUSER), its uid 0 mapped to the lab's uid) writes /proc/sys/user/max_inotify_watches of that namespace only, one inotify instance adds watches on fresh directories until inotify_add_watch fails, and with that instance still holding every watch the columns start on a config (signal last, alone, since robust also answers SIGUSR1); the config is then rewritten in place and each column has the deadline to serve it. The host's limits are read, never written."

// RunWatchLimit runs the watch limit experiment for cols (column names),
// in one child in a new user namespace, in a directory it makes under base
// and removes. A failure is reported in the result's Error.
func RunWatchLimit(ctx context.Context, cfg Config, base string, cols []string) *WatchLimit {
	res := &WatchLimit{Method: watchLimitMethod}
	before, err := readInt("/proc/sys/fs/inotify/max_user_watches")
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.HostMaxUserWatches = before
	dir := filepath.Join(base, "watchlimit")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Error = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	// Hold more host watches than the child's limit for the whole
	// experiment, so the result shows whether they count against it.
	release, err := holdWatches(filepath.Join(dir, "host"), 4*DefaultWatchLimit)
	if err != nil {
		res.Error = fmt.Sprintf("holding host watches: %v", err)
		return res
	}
	defer release()
	res.HostWatchesInUse = hostWatchesInUse()
	attr := &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
	var mu sync.Mutex
	var result []byte
	var childErr []string
	emit := func(o rig.Observation) {
		mu.Lock()
		defer mu.Unlock()
		switch o.Kind {
		case rig.ObsResult:
			result = o.Data
		case rig.ObsError:
			childErr = append(childErr, o.Msg)
		}
	}
	spec := rig.Spec{Mode: modeWatchLimit, Dir: dir, Limit: DefaultWatchLimit, Keys: 50, Columns: cols,
		Params:   cfg.params(),
		Deadline: cfg.Deadline}
	ch, err := rig.StartChild(cfg.Child, spec, attr, emit)
	if err != nil {
		res.Error = fmt.Sprintf("cannot start a child in a new user namespace: %v", err)
		return res
	}
	if err := ch.Wait(ctx, 2*time.Minute); err != nil {
		res.Error = err.Error()
	}
	if after, err := readInt("/proc/sys/fs/inotify/max_user_watches"); err == nil {
		res.HostUnchanged = after == before
	}
	mu.Lock()
	defer mu.Unlock()
	if result == nil {
		if res.Error == "" {
			res.Error = "the child reported nothing: " + strings.Join(childErr, "; ")
		}
		return res
	}
	var got WatchLimit
	if err := json.Unmarshal(result, &got); err != nil {
		res.Error = fmt.Sprintf("decode child result: %v", err)
		return res
	}
	clean := rig.PathCleaner(dir)
	res.ChildInitial, res.LimitSet, res.WatchesAdded = got.ChildInitial, got.LimitSet, got.WatchesAdded
	res.AddError, res.Errno, res.LimitApplies = clean(got.AddError), got.Errno, got.LimitApplies
	for _, c := range got.Columns {
		c.StartError = clean(c.StartError)
		for i := range c.Errors {
			c.Errors[i] = clean(c.Errors[i])
		}
		res.Columns = append(res.Columns, c)
	}
	if got.Error != "" {
		res.Error = clean(got.Error)
	}
	return res
}

// childWatchLimit is the child's side: it runs inside the new user
// namespace.
func childWatchLimit(ctx context.Context, spec rig.Spec, out *rig.LineWriter) error {
	res := WatchLimit{LimitSet: spec.Limit}
	report := func() error {
		data, err := json.Marshal(res)
		if err != nil {
			return err
		}
		out.Emit(rig.Observation{T: time.Now().UnixNano(), Kind: rig.ObsResult, Data: data})
		return nil
	}
	const knob = "/proc/sys/user/max_inotify_watches"
	initial, err := os.ReadFile(knob)
	if err != nil {
		res.Error = fmt.Sprintf("read %s: %v", knob, err)
		return report()
	}
	res.ChildInitial = strings.TrimSpace(string(initial))
	if err := os.WriteFile(knob, []byte(strconv.Itoa(spec.Limit)), 0o644); err != nil {
		res.Error = fmt.Sprintf("write %s in the child namespace: %v", knob, err)
		return report()
	}

	// Exhaust the namespace's watches with one instance, recording the
	// exact failure.
	hog, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		res.Error = fmt.Sprintf("inotify_init1: %v", err)
		return report()
	}
	defer unix.Close(hog)
	for i := 0; i <= spec.Limit+1; i++ {
		d := filepath.Join(spec.Dir, "hog-"+strconv.Itoa(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			res.Error = err.Error()
			return report()
		}
		if _, err := unix.InotifyAddWatch(hog, d, unix.IN_MODIFY); err != nil {
			res.AddError = fmt.Sprintf("inotify_add_watch(%s): %v", d, err)
			var errno syscall.Errno
			if errors.As(err, &errno) {
				res.Errno = unix.ErrnoName(errno)
			}
			break
		}
		res.WatchesAdded++
	}
	res.LimitApplies = res.WatchesAdded == spec.Limit && res.AddError != ""

	confDir := filepath.Join(spec.Dir, "conf")
	if err := os.Mkdir(confDir, 0o755); err != nil {
		res.Error = err.Error()
		return report()
	}
	path := filepath.Join(confDir, rig.ConfigName)
	if err := os.WriteFile(path, config.Generate(1, spec.Keys), 0o644); err != nil {
		res.Error = err.Error()
		return report()
	}

	var mu sync.Mutex
	rows := map[string]*WatchLimitColumn{}
	var order []string
	for _, c := range spec.Columns {
		rows[c] = &WatchLimitColumn{Column: c}
		order = append(order, c)
	}
	version := int64(1)
	var target rig.Written
	var changed time.Time
	emit := func(o rig.Observation) {
		mu.Lock()
		defer mu.Unlock()
		r := rows[o.Col]
		if r == nil {
			return
		}
		switch o.Kind {
		case rig.ObsError, rig.ObsRejected:
			if len(r.Errors) < 4 {
				r.Errors = append(r.Errors, o.Msg)
			}
		case rig.ObsApply:
			if !r.Applied && target.Hash != "" && rig.Same(o.State, target) {
				r.Applied = true
				l := rig.Round3(rig.MS(max(o.Time().Sub(changed), 0)))
				r.LatencyMS = &l
				r.Via = o.Msg
			}
		}
	}
	change := func() error {
		inplace, _ := writepattern.Lookup("inplace")
		data, err := inplace.Write(ctx, confDir, rig.ConfigName, func() []byte { version++; return config.Generate(version, spec.Keys) })
		if err != nil {
			return err
		}
		w, err := rig.OracleEntry(data[0])
		if err != nil {
			return err
		}
		mu.Lock()
		target, changed = w, time.Now()
		mu.Unlock()
		return nil
	}
	waitApplied := func(names []string) {
		deadline := time.Now().Add(spec.Deadline)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			mu.Lock()
			all := true
			for _, n := range names {
				if r := rows[n]; r.StartError == "" && !r.Applied {
					all = false
				}
			}
			mu.Unlock()
			if all {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Phase 1: every column but signal, with no watch left.
	var phase1 []string
	var runs []rig.Running
	for _, c := range spec.Columns {
		if c == "signal" {
			continue
		}
		phase1 = append(phase1, c)
		run, err := rig.StartColumn(c, path, spec.Params, emit)
		if err != nil {
			mu.Lock()
			rows[c].StartError = err.Error()
			mu.Unlock()
			continue
		}
		runs = append(runs, run)
	}
	time.Sleep(200 * time.Millisecond)
	if err := change(); err != nil {
		res.Error = err.Error()
		return report()
	}
	waitApplied(phase1)
	for _, r := range runs {
		r.Close()
	}

	// Phase 2: signal, alone. Its initial load reads the current version,
	// which must not count as serving the change made for it.
	mu.Lock()
	target = rig.Written{}
	mu.Unlock()
	if rows["signal"] != nil {
		run, err := rig.StartColumn("signal", path, spec.Params, emit)
		if err != nil {
			rows["signal"].StartError = err.Error()
		} else {
			time.Sleep(100 * time.Millisecond)
			if err := change(); err != nil {
				res.Error = err.Error()
				return report()
			}
			syscall.Kill(os.Getpid(), syscall.SIGUSR1)
			waitApplied([]string{"signal"})
			run.Close()
		}
	}
	mu.Lock()
	for _, c := range order {
		res.Columns = append(res.Columns, *rows[c])
	}
	mu.Unlock()
	return report()
}

func readInt(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// hostWatchesInUse counts the inotify watches ("inotify wd:" lines in
// /proc/*/fdinfo/*) of every process the lab can see.
func hostWatchesInUse() int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/fdinfo/*")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n += strings.Count(string(data), "inotify wd:")
	}
	return n
}

// holdWatches adds n inotify watches (on fresh directories under dir) in
// the lab process and returns the function that releases them.
func holdWatches(dir string, n int) (func(), error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	for i := range n {
		d := filepath.Join(dir, strconv.Itoa(i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			unix.Close(fd)
			return nil, err
		}
		if _, err := unix.InotifyAddWatch(fd, d, unix.IN_MODIFY); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return func() { unix.Close(fd) }, nil
}
