package reload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/strategies/safefile"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// runAndReport runs the pipeline once for n, when no other run is in
// progress (or ctx ends first), then tells the observer. who names the
// caller in the Event ("" for the triggers). It returns nil when the file is
// what serves.
func (r *Reloader[T]) runAndReport(ctx context.Context, n trigger.Notice, who string) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if who == "" {
		who = r.name
	}
	ev, err := r.run(n, who)
	<-r.sem
	r.notify(ev)
	return err
}

// run reads, dedups, decodes, validates and applies; the caller holds sem.
func (r *Reloader[T]) run(n trigger.Notice, who string) (Event, error) {
	ev := Event{Trigger: who, Reason: n.Reason, Rescan: n.Rescan, Detected: n.Seen}
	data, err := safefile.ReadSettled(r.path, r.set.sizeLimit)
	if err != nil {
		return r.reject(ev, "read", err)
	}
	sum := sha256.Sum256(data)
	ev.Hash = hex.EncodeToString(sum[:])
	switch {
	case r.haveServing && sum == r.servingHash:
		ev.Outcome = Unchanged
		return r.record(ev, func(st *Status) { st.Unchanged++; r.rejectStale = "" }), nil
	case r.haveRejected && sum == r.rejectedHash:
		ev.Outcome, ev.Err = Unchanged, r.rejectedErr
		return r.record(ev, func(st *Status) { st.Unchanged++ }), r.rejectedErr
	}
	var v T
	if err := guard(func() (err error) { v, err = r.decode(data); return err }); err != nil {
		r.rejectedHash, r.haveRejected = sum, true
		return r.reject(ev, "decode", err)
	}
	if r.validate != nil {
		if err := guard(func() error { return r.validate(v) }); err != nil {
			r.rejectedHash, r.haveRejected = sum, true
			return r.reject(ev, "validate", err)
		}
	}
	r.cur.Store(&v)
	r.servingHash, r.haveServing, r.haveRejected, r.rejectedErr = sum, true, false, nil
	ev.Outcome = Applied
	return r.record(ev, func(st *Status) {
		st.Version++
		if st.Version > 1 {
			st.Applied++
		}
		st.Hash, st.LoadedAt = ev.Hash, time.Now()
		r.rejectStale = ""
	}), nil
}

// reject records a rejected file: the previous value keeps serving.
func (r *Reloader[T]) reject(ev Event, stage string, cause error) (Event, error) {
	err := &RejectError{Path: r.path, Stage: stage, Err: cause}
	if stage != "read" {
		r.rejectedErr = err
	}
	ev.Outcome, ev.Err = Rejected, err
	return r.record(ev, func(st *Status) {
		st.Rejected++
		st.LastError, st.LastErrorAt = err.Error(), time.Now()
		r.rejectStale = err.Error()
	}), err
}

// record updates the status with change and stamps ev with its sequence
// number and the state after it, atomically with respect to Status.
func (r *Reloader[T]) record(ev Event, change func(*Status)) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	change(&r.st)
	r.deriveStale()
	if ev.Rescan {
		r.st.Rescans++
	}
	ev.Seq = r.seq.Add(1)
	ev.Version = r.st.Version
	ev.Stale, ev.StaleReason = r.st.Stale, r.st.StaleReason
	if ev.Finished.IsZero() && ev.Outcome != TriggerError && ev.Outcome != Degraded && ev.Outcome != Stale {
		ev.Finished = time.Now()
	}
	return ev
}

// deriveStale sets Status.Stale and StaleReason from the two reasons the
// file may be stale, the trigger's first; the caller holds mu.
func (r *Reloader[T]) deriveStale() {
	var reasons []string
	for _, s := range []string{r.followStale, r.rejectStale} {
		if s != "" {
			reasons = append(reasons, s)
		}
	}
	r.st.Stale, r.st.StaleReason = len(reasons) > 0, strings.Join(reasons, "; ")
}

// notify hands ev to the observer, if any.
func (r *Reloader[T]) notify(ev Event) {
	if r.set.observer != nil {
		r.set.observer(ev)
	}
}
