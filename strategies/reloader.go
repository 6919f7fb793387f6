package strategies

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/trace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/internal/cpuwork"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/safefile"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// DefaultEventLog is how many recent events a Reloader keeps.
const DefaultEventLog = 256

// Option configures a Reloader.
type Option func(*options)

type options struct {
	extraCost   time.Duration
	sizeLimit   int64
	eventLog    int
	observer    func(Event)
	triggerOpts []trigger.Option

	etcdEndpoints []string
	etcdKey       string
	etcdClient    *clientv3.Client
}

func resolveOptions(opts []Option) options {
	o := options{sizeLimit: safefile.DefaultLimit, eventLog: DefaultEventLog}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithSizeLimit sets the largest config file accepted (default
// safefile.DefaultLimit, 64 MiB); pollhash reads with the same limit.
func WithSizeLimit(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.sizeLimit = n
			o.triggerOpts = append(o.triggerOpts, trigger.WithSizeLimit(n))
		}
	}
}

// WithEventLog sets how many recent events are kept (default DefaultEventLog).
func WithEventLog(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.eventLog = n
		}
	}
}

// WithObserver registers fn to be called after every recorded event
// (applied, rejected, unchanged, trigger error, stale): on the pipeline's
// goroutine for runs, on the trigger's for trigger errors and stale
// reports. fn must be quick and safe for concurrent use.
func WithObserver(fn func(Event)) Option { return func(o *options) { o.observer = fn } }

// WithExtraCost makes every run that applies a config also spend d of CPU
// time, on the pipeline's goroutine, after the apply (recorded as
// StageCPU.Extra). It exists for calibration: a benchmark that adds a known
// cost to each reload can check that it measures that cost.
func WithExtraCost(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.extraCost = d
		}
	}
}

// WithEtcd configures the etcd trigger: the cluster's client URLs and the
// key holding the config. Other triggers ignore it.
func WithEtcd(endpoints []string, key string) Option {
	return func(o *options) { o.etcdEndpoints, o.etcdKey = append([]string(nil), endpoints...), key }
}

// WithEtcdClient makes the etcd trigger share cli (left open by Close)
// instead of dialling; the key is still given by WithEtcd.
func WithEtcdClient(cli *clientv3.Client) Option { return func(o *options) { o.etcdClient = cli } }

// WithTriggerOptions passes options to the trigger (intervals, debounce).
func WithTriggerOptions(opts ...trigger.Option) Option {
	return func(o *options) { o.triggerOpts = append(o.triggerOpts, opts...) }
}

// Reloader runs the reload pipeline for one config file into one store.
// Create it with Strategy.NewReloader or NewReloader, then Start it. Its
// methods are safe for concurrent use.
type Reloader struct {
	path    string
	store   store.Store
	trigger trigger.Trigger
	opts    options
	ring    *eventRing

	runMu        sync.Mutex // serialises pipeline runs
	servingHash  [sha256.Size]byte
	rejectedHash [sha256.Size]byte
	haveRejected bool

	applied, rejected, unchanged, triggerErrors, staleReports atomic.Uint64
	lastError                                                 atomic.Pointer[string]
	// staleMu serialises stale reports; stale is the reason of the current
	// stale episode, nil while the file is followed.
	staleMu sync.Mutex
	stale   atomic.Pointer[string]

	pendMu  sync.Mutex
	pending *trigger.Notice
	wake    chan struct{}

	watch io.Closer
	done  chan struct{}
	wg    sync.WaitGroup
	state atomic.Int32 // 0 new, 1 started, 2 closed
}

// NewReloader returns a Reloader for the config at path that applies into s
// when t fires.
func NewReloader(path string, s store.Store, t trigger.Trigger, opts ...Option) *Reloader {
	return newReloader(path, s, t, resolveOptions(opts))
}

func newReloader(path string, s store.Store, t trigger.Trigger, o options) *Reloader {
	return &Reloader{
		path: path, store: s, trigger: t, opts: o,
		ring: newEventRing(o.eventLog),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// Store returns the store the Reloader applies into.
func (r *Reloader) Store() store.Store { return r.store }

// Source returns the trigger as a trigger.Source when it delivers the
// config itself (etcd).
func (r *Reloader) Source() (trigger.Source, bool) {
	src, ok := r.trigger.(trigger.Source)
	return src, ok
}

// Trigger returns the trigger's name.
func (r *Reloader) Trigger() string { return r.trigger.Name() }

// Start starts the trigger, then loads the config once; a change made after
// Start returns is seen. If the initial load is rejected, Start stops the
// trigger and returns the reason: a service must not start on a bad config.
func (r *Reloader) Start() error {
	if !r.state.CompareAndSwap(0, 1) {
		return errors.New("strategies: Reloader started twice or after Close")
	}
	w, err := r.trigger.Start(r.path, sink{r})
	if err != nil {
		r.state.Store(2)
		return fmt.Errorf("strategies: start trigger %s: %w", r.trigger.Name(), err)
	}
	r.watch = w
	ev := r.Reload(trigger.Notice{Reason: "initial load", Seen: time.Now()})
	if ev.Outcome != Applied {
		r.state.Store(2)
		w.Close()
		return fmt.Errorf("strategies: initial load of %s: %s", r.path, ev.Error)
	}
	r.applied.Store(0) // the initial load is not a reload
	r.wg.Add(1)
	go r.loop()
	return nil
}

// Close stops the trigger and the pipeline goroutine. A run in progress
// completes first.
func (r *Reloader) Close() error {
	if r.state.Swap(2) != 1 {
		return nil
	}
	err := r.watch.Close()
	close(r.done)
	r.wg.Wait()
	return err
}

func (r *Reloader) loop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.done:
			return
		case <-r.wake:
			r.pendMu.Lock()
			n := r.pending
			r.pending = nil
			r.pendMu.Unlock()
			if n != nil {
				r.Reload(*n)
			}
		}
	}
}

// sink adapts the Reloader to trigger.Sink without exporting Fire and Error.
type sink struct{ r *Reloader }

// Fire coalesces notices: while one is pending, later ones are merged into
// it, keeping the earliest detection time, and a rescan's reason.
func (s sink) Fire(n trigger.Notice) {
	r := s.r
	r.pendMu.Lock()
	if r.pending == nil {
		r.pending = &n
	} else {
		if n.Seen.Before(r.pending.Seen) {
			r.pending.Seen = n.Seen
		}
		if n.Rescan && !r.pending.Rescan {
			// A rescan's reason says what was lost (an overflow, a
			// compaction): keep it over an ordinary notice's.
			r.pending.Rescan, r.pending.Reason = true, n.Reason
		}
	}
	r.pendMu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

var _ trigger.StaleSink = sink{}

// Stale records the start of a stale episode (reason: the file was replaced
// where the trigger cannot follow) as one Stale event, or its end (reason
// "") by clearing Status.Stale. A repeated report of the same episode is
// not recorded again.
func (s sink) Stale(reason string) {
	r := s.r
	r.staleMu.Lock()
	defer r.staleMu.Unlock()
	if reason == "" {
		r.stale.Store(nil)
		return
	}
	if p := r.stale.Load(); p != nil && *p == reason {
		return
	}
	r.stale.Store(&reason)
	r.staleReports.Add(1)
	r.record(Event{
		Outcome: Stale, Trigger: r.trigger.Name(), Reason: reason, Detected: time.Now(),
		Version: r.store.Version(), PrevVersion: r.store.Version(),
	})
}

func (s sink) Error(err error) {
	r := s.r
	r.triggerErrors.Add(1)
	msg := err.Error()
	r.lastError.Store(&msg)
	r.record(Event{
		Outcome: TriggerError, Trigger: r.trigger.Name(), Detected: time.Now(),
		Version: r.store.Version(), PrevVersion: r.store.Version(), Error: msg,
	})
}

func (r *Reloader) record(e Event) Event {
	e = r.ring.add(e)
	if r.opts.observer != nil {
		r.opts.observer(e)
	}
	return e
}

// Reload runs the pipeline once, synchronously, as if the trigger had fired
// with n, and returns what it did. Runs are serialised. Each run is locked
// to its OS thread so that its CPU time can be read per stage (Event.CPU).
func (r *Reloader) Reload(n trigger.Notice) Event {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := newStageClock()

	ctx, task := trace.NewTask(context.Background(), "reload")
	defer task.End()
	prev := r.store.Version()
	ev := Event{
		Outcome: Rejected, Trigger: r.trigger.Name(), Reason: n.Reason,
		Detected: n.Seen, ReadStart: time.Now(), Version: prev, PrevVersion: prev,
	}
	ev.CPU.Measured = clock.ok
	finish := func() Event {
		ev.Finished = time.Now()
		return r.record(ev)
	}
	reject := func(err error) Event {
		ev.Error = err.Error()
		r.rejected.Add(1)
		r.lastError.Store(&ev.Error)
		trace.Log(ctx, "reload", "rejected: "+ev.Error)
		return finish()
	}

	var data []byte
	var err error
	trace.WithRegion(ctx, "reload.read", func() { data, ev.Revision, err = r.read() })
	if err != nil {
		ev.CPU.Read = clock.lap()
		return reject(err)
	}
	sum := sha256.Sum256(data)
	ev.Bytes, ev.Hash = len(data), hex.EncodeToString(sum[:])
	ev.CPU.Read = clock.lap()
	if sum == r.servingHash || (r.haveRejected && sum == r.rejectedHash) {
		r.unchanged.Add(1)
		ev.Outcome = Unchanged
		return finish()
	}
	var snap *config.Snapshot
	if ra, ok := r.store.(store.RawApplier); ok {
		// The store parses inside its own critical section: the apply
		// interval spans the parse, and the parse's CPU is read inside it.
		ev.ApplyStart = time.Now()
		trace.WithRegion(ctx, "reload.parse+apply", func() {
			snap, err = ra.ApplyRaw(data, func(b []byte) (*config.Snapshot, error) {
				clock.lap()
				s, perr := config.Parse(b)
				ev.CPU.Parse = clock.lap()
				return s, perr
			})
		})
		ev.CPU.Apply = clock.lap()
		if err != nil {
			ev.ApplyStart = time.Time{}
			r.rejectedHash, r.haveRejected = sum, true
			return reject(err)
		}
		ev.ApplyEnd = time.Now()
	} else {
		trace.WithRegion(ctx, "reload.parse", func() { snap, err = config.Parse(data) })
		ev.CPU.Parse = clock.lap()
		if err != nil {
			r.rejectedHash, r.haveRejected = sum, true
			return reject(err)
		}
		ev.ApplyStart = time.Now()
		trace.WithRegion(ctx, "reload.apply", func() { r.store.Apply(snap) })
		ev.ApplyEnd = time.Now()
		ev.CPU.Apply = clock.lap()
	}
	ev.Keys = snap.Len()
	ev.Version = snap.Version()
	r.servingHash, r.haveRejected = sum, false
	ev.Outcome = Applied
	r.applied.Add(1)
	if r.opts.extraCost > 0 {
		trace.WithRegion(ctx, "reload.extra-cost", func() { cpuwork.Burn(r.opts.extraCost) })
		ev.CPU.Extra = clock.lap()
	}
	trace.Log(ctx, "reload", "applied version "+strconv.FormatInt(ev.Version, 10)+" ("+n.Reason+")")
	return finish()
}

// read returns the config's bytes: the trigger's value when it is a
// trigger.Source, otherwise the file's, read once it has settled. Either
// way a value over the size limit is refused.
func (r *Reloader) read() ([]byte, int64, error) {
	src, ok := r.trigger.(trigger.Source)
	if !ok {
		data, err := safefile.ReadSettled(r.path, r.opts.sizeLimit)
		return data, 0, err
	}
	c, err := src.Current()
	if err != nil {
		return nil, 0, err
	}
	if int64(len(c.Data)) > r.opts.sizeLimit {
		return nil, c.Revision, fmt.Errorf("strategies: %s at revision %d: %w (%d > %d bytes)", c.Origin, c.Revision, safefile.ErrTooLarge, len(c.Data), r.opts.sizeLimit)
	}
	return c.Data, c.Revision, nil
}

// stageClock reads the calling thread's CPU clock at stage boundaries.
type stageClock struct {
	ok   bool
	last time.Duration
}

func newStageClock() *stageClock {
	t := cpuwork.ThreadCPU()
	return &stageClock{ok: t >= 0, last: t}
}

// lap returns the CPU time since the previous lap (0 without a clock).
func (c *stageClock) lap() time.Duration {
	if !c.ok {
		return 0
	}
	t := cpuwork.ThreadCPU()
	d := t - c.last
	c.last = t
	return max(d, 0)
}

// Status is a Reloader's counters and recent events.
type Status struct {
	Store         string `json:"store"`
	Trigger       string `json:"trigger"`
	Path          string `json:"path"`
	Version       int64  `json:"version"`
	Reloads       uint64 `json:"reloads"`   // applied since start, not counting the initial load
	Rejected      uint64 `json:"rejected"`  // files rejected
	Unchanged     uint64 `json:"unchanged"` // runs that found the content unchanged
	TriggerErrors uint64 `json:"trigger_errors"`
	LastError     string `json:"last_error"`
	// Stale is set while the trigger reports that the file the process
	// reads was replaced where it cannot follow (see trigger.StaleSink):
	// the config serving is the last good one, and StaleReason says why and
	// what to do. Cleared when the trigger can follow the file again.
	Stale       bool   `json:"stale"`
	StaleReason string `json:"stale_reason,omitempty"`
	// StaleReports counts stale episodes reported since start (one per
	// episode, not per check).
	StaleReports uint64  `json:"stale_reports"`
	Events       []Event `json:"events"`
}

// Status returns the counters and the events with Seq > after (0 for all
// kept events).
func (r *Reloader) Status(after uint64) Status {
	st := Status{
		Store: r.store.Name(), Trigger: r.trigger.Name(), Path: r.path,
		Version: r.store.Version(), Reloads: r.applied.Load(), Rejected: r.rejected.Load(),
		Unchanged: r.unchanged.Load(), TriggerErrors: r.triggerErrors.Load(),
		StaleReports: r.staleReports.Load(), Events: r.ring.since(after),
	}
	if p := r.lastError.Load(); p != nil {
		st.LastError = *p
	}
	if p := r.stale.Load(); p != nil {
		st.Stale, st.StaleReason = true, *p
	}
	return st
}
