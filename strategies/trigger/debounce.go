package trigger

import (
	"sync"
	"time"
)

// debouncer coalesces a burst of pokes into one Fire, delay after the last
// poke but no later than maxWait after the first. Fire is called with the
// debouncer's lock held, so after stop returns Fire is never called again.
type debouncer struct {
	delay, maxWait time.Duration
	sink           Sink

	mu      sync.Mutex
	timer   *time.Timer
	pending bool
	stopped bool
	first   time.Time
	reason  string
}

func newDebouncer(delay, maxWait time.Duration, sink Sink) *debouncer {
	d := &debouncer{delay: delay, maxWait: maxWait, sink: sink}
	d.timer = time.AfterFunc(time.Hour, d.expire)
	d.timer.Stop()
	return d
}

// poke records an event seen at now and (re)arms the timer.
func (d *debouncer) poke(reason string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	if !d.pending {
		d.pending, d.first, d.reason = true, now, reason
	}
	wait := d.delay
	if limit := d.first.Add(d.maxWait).Sub(now); limit < wait {
		wait = max(limit, 0)
	}
	d.timer.Reset(wait)
}

func (d *debouncer) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || !d.pending {
		return
	}
	d.pending = false
	d.sink.Fire(Notice{Reason: d.reason, Seen: d.first})
}

// take cancels the pending fire, if any, and returns when its first poke
// was seen: the caller fires now instead, and a read made after take
// returns sees everything the cancelled pokes announced.
func (d *debouncer) take() (first time.Time, pending bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pending {
		return time.Time{}, false
	}
	d.pending = false
	d.timer.Stop()
	return d.first, true
}

// stop cancels any pending fire; no Fire happens after it returns.
func (d *debouncer) stop() {
	d.mu.Lock()
	d.stopped = true
	d.timer.Stop()
	d.mu.Unlock()
}
