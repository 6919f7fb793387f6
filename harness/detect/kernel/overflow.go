package kernel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/config"
)

// Overflow is the result of the inotify queue overflow experiment.
type Overflow struct {
	// Method says how the queue was overflowed.
	Method string `json:"method"`
	// MaxQueuedEvents is /proc/sys/fs/inotify/max_queued_events (read,
	// never changed).
	MaxQueuedEvents int `json:"max_queued_events"`
	// NoiseEvents is how many events the noise generated while the
	// watchers were stopped.
	NoiseEvents int `json:"noise_events"`
	// StoppedMS is how long the watchers were stopped.
	StoppedMS float64          `json:"stopped_ms"`
	Columns   []OverflowColumn `json:"columns"`
	Error     string           `json:"error,omitempty"`
}

// OverflowColumn is what one column did.
type OverflowColumn struct {
	Column string `json:"column"`
	// OverflowReported: fsnotify.ErrEventOverflow reached the column (for
	// our triggers, as a trigger error; for the peers, through viper's log
	// or koanf's callback).
	OverflowReported bool `json:"overflow_reported"`
	// LastArrived: the version written after the noise was served within
	// the deadline.
	LastArrived bool     `json:"last_arrived"`
	LatencyMS   *float64 `json:"latency_ms,omitempty"` // from SIGCONT
	Via         string   `json:"via,omitempty"`        // what made it reload (our triggers' reason)
	Applies     int      `json:"applies"`
	Errors      []string `json:"errors,omitempty"`
	StartError  string   `json:"start_error,omitempty"`
}

// overflowMethod describes the experiment for the report.
const overflowMethod = "each column in its own child process watches a 50-key config; the children are stopped with SIGSTOP (a consumer that stalls: a frozen container, a process that is not scheduled); the lab creates and removes noise files beside the config until 1.5 × max_queued_events events are queued, then rewrites the config in place (the last version) and resumes the children with SIGCONT (SIGUSR1 after it to the signal column). robust runs with its safety poll off (1 h) so only its overflow rescan can bring the last version. The kernel limit is read, never changed."

// overflowRecord is what one column reported during the experiment.
type overflowRecord struct {
	startErr string
	applies  []rig.Observation
	errors   []rig.Observation
}

// maxQueuedEvents reads the per-instance inotify queue limit.
func maxQueuedEvents() (int, error) {
	data, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// RunOverflow runs the queue overflow experiment for cols (column names),
// each in its own child, in a directory it makes under base and removes.
// A failure is reported in the result's Error, never returned.
func RunOverflow(ctx context.Context, cfg Config, base string, cols []string) *Overflow {
	res := &Overflow{Method: overflowMethod}
	limit, err := maxQueuedEvents()
	if err != nil {
		res.Error = fmt.Sprintf("cannot read the queue limit: %v", err)
		return res
	}
	res.MaxQueuedEvents = limit
	if limit > 1<<20 {
		res.Error = fmt.Sprintf("max_queued_events is %d: overflowing it would take too long", limit)
		return res
	}
	dir := filepath.Join(base, "overflow")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Error = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, rig.ConfigName)
	const keys = 50
	if err := os.WriteFile(path, config.Generate(1, keys), 0o644); err != nil {
		res.Error = err.Error()
		return res
	}

	var mu sync.Mutex
	recs := map[string]*overflowRecord{}
	for _, c := range cols {
		recs[c] = &overflowRecord{}
	}
	emit := func(o rig.Observation) {
		mu.Lock()
		defer mu.Unlock()
		r := recs[o.Col]
		if r == nil {
			return
		}
		switch o.Kind {
		case rig.ObsApply:
			r.applies = append(r.applies, o)
		case rig.ObsError, rig.ObsRejected:
			r.errors = append(r.errors, o)
		case rig.ObsStartError:
			r.startErr = o.Msg
		}
	}
	params := rig.Params{PollInterval: cfg.PollInterval, Debounce: cfg.Debounce, SafetyInterval: time.Hour}
	children := map[string]*rig.Proc{}
	defer func() {
		for _, ch := range children {
			ch.Kill()
		}
	}()
	for _, c := range cols {
		ch, err := rig.StartChild(cfg.Child, rig.Spec{Mode: rig.ModeColumns, Path: path, Columns: []string{c}, Params: params}, nil, emit)
		if err == nil {
			if err = ch.WaitReady(ctx, rig.DefaultStartTimeout); err != nil {
				ch.Kill()
			}
		}
		if err != nil {
			recs[c].startErr = err.Error()
			continue
		}
		children[c] = ch
	}
	if err := rig.SleepCtx(ctx, 200*time.Millisecond); err != nil {
		res.Error = err.Error()
		return res
	}

	stopped := time.Now()
	for _, ch := range children {
		ch.Signal(syscall.SIGSTOP)
	}
	iterations := (limit+limit/2)/2 + 1
	for i := range iterations {
		p := filepath.Join(dir, "noise-"+strconv.Itoa(i%64))
		f, err := os.Create(p)
		if err == nil {
			f.Close()
			err = os.Remove(p)
		}
		if err != nil {
			res.Error = fmt.Sprintf("noise: %v", err)
			break
		}
	}
	res.NoiseEvents = 2 * iterations
	inplace, _ := writepattern.Lookup("inplace")
	data, werr := inplace.Write(ctx, dir, rig.ConfigName, func() []byte { return config.Generate(2, keys) })
	resumed := time.Now()
	for _, ch := range children {
		ch.Signal(syscall.SIGCONT)
	}
	res.StoppedMS = rig.Round3(rig.MS(resumed.Sub(stopped)))
	if werr != nil || len(data) != 1 {
		res.Error = fmt.Sprintf("writing the last version: %v", werr)
		return res
	}
	if ch := children["signal"]; ch != nil {
		ch.Signal(syscall.SIGUSR1)
	}
	last, err := rig.OracleEntry(data[0])
	if err != nil {
		res.Error = err.Error()
		return res
	}
	arrived := func(r *overflowRecord) (rig.Observation, bool) {
		for _, a := range r.applies {
			if rig.Same(a.State, last) {
				return a, true
			}
		}
		return rig.Observation{}, false
	}
	deadline := time.Now().Add(cfg.Deadline + 2*time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		all := true
		mu.Lock()
		for c, r := range recs {
			if _, ok := arrived(r); !ok && r.startErr == "" && children[c] != nil {
				all = false
			}
		}
		mu.Unlock()
		if all {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, ch := range children {
		ch.Stop(2 * time.Second)
	}
	children = nil

	mu.Lock()
	defer mu.Unlock()
	clean := rig.PathCleaner(dir)
	for _, c := range cols {
		r := recs[c]
		oc := OverflowColumn{Column: c, StartError: clean(r.startErr), Applies: len(r.applies)}
		seen := map[string]bool{}
		for _, e := range r.errors {
			msg := clean(e.Msg)
			if strings.Contains(msg, "overflow") {
				oc.OverflowReported = true
			}
			if !seen[msg] && len(oc.Errors) < 4 {
				seen[msg] = true
				oc.Errors = append(oc.Errors, msg)
			}
		}
		if a, ok := arrived(r); ok && !a.Time().After(deadline) {
			oc.LastArrived = true
			l := rig.Round3(rig.MS(max(a.Time().Sub(resumed), 0)))
			oc.LatencyMS = &l
			oc.Via = clean(a.Msg)
		}
		res.Columns = append(res.Columns, oc)
	}
	return res
}
