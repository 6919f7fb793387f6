package reload

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Trigger says how a Reloader notices that its file may have changed. Build
// one with Robust, DirWatch, Poll, PollHash, Signal or FileWatch; the zero
// Trigger is Robust().
type Trigger struct {
	kind     string // "" means robust
	interval time.Duration
	debounce time.Duration
	maxWait  time.Duration
	signals  []os.Signal
	err      error
}

// TriggerOption tunes the event-driven triggers (Robust, DirWatch). The zero
// TriggerOption does nothing.
type TriggerOption struct {
	apply func(*Trigger)
}

// Debounce sets how long Robust and DirWatch wait after the last event of a
// burst before reading (default 100ms), so a multi-step save is read once,
// complete. Robust waits only for what may be a write in progress (a write
// or creation not yet closed, a removal): a rename into place and, on
// Linux, a writer's close are read at once. Zero means the default.
func Debounce(d time.Duration) TriggerOption {
	return TriggerOption{func(t *Trigger) {
		if d < 0 {
			t.err = fmt.Errorf("Debounce(%s): negative duration", d)
			return
		}
		t.debounce = d
	}}
}

// MaxWait bounds how long events that keep arriving can postpone a read
// (default 2s). Zero means the default.
func MaxWait(d time.Duration) TriggerOption {
	return TriggerOption{func(t *Trigger) {
		if d < 0 {
			t.err = fmt.Errorf("MaxWait(%s): negative duration", d)
			return
		}
		t.maxWait = d
	}}
}

func newEventTrigger(kind string, opts []TriggerOption) Trigger {
	t := Trigger{kind: kind}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&t)
		}
	}
	return t
}

// Robust is the default trigger and the lab's best: a symlink-aware watch
// of the file's directory that reads at once when the file is complete (a
// file or symlink renamed into place, the Kubernetes ..data swap, and on
// Linux the close of a writer's file descriptor) and debounces writes still
// in progress; a safety poll that re-reads and hashes the file every safety
// interval (WithSafetyInterval) and so sees what no event reports; a rescan
// after an inotify queue overflow; a lost watch re-added; and a stale check:
// a file replaced where it cannot be followed (a single-file bind mount or
// Kubernetes subPath whose source was replaced) is reported within one
// safety interval as a Stale event and Status.Stale. If the watch cannot be
// added it runs on the safety poll alone and Status.Degraded says so.
func Robust(opts ...TriggerOption) Trigger { return newEventTrigger("robust", opts) }

// DirWatch watches the file's directory, symlink-aware and debounced, and
// nothing else: no safety poll, no rescan after an overflow, no re-added
// watch. Start fails if the watch cannot be added.
func DirWatch(opts ...TriggerOption) Trigger { return newEventTrigger("dirwatch", opts) }

// Poll stats the file every interval (zero: 250ms) and reads it when its
// modification time or size changed. Cheap and universal, but blind to a
// rewrite that keeps both (cp -p, rsync -t).
func Poll(interval time.Duration) Trigger { return newPollTrigger("poll", interval) }

// PollHash reads and hashes the file every interval (zero: 250ms): it sees
// every change that lasts one interval, on every file system.
func PollHash(interval time.Duration) Trigger { return newPollTrigger("pollhash", interval) }

func newPollTrigger(kind string, interval time.Duration) Trigger {
	t := Trigger{kind: kind, interval: interval}
	if interval < 0 {
		t.err = fmt.Errorf("%s(%s): negative interval", kind, interval)
	}
	return t
}

// Signal reloads only when the process receives one of sigs (none given:
// SIGHUP where the platform has it). Nothing else is watched: a change
// nobody signals is never read. To add signals to another trigger, use
// WithSignals.
func Signal(sigs ...os.Signal) Trigger {
	if len(sigs) == 0 {
		sigs = defaultSignals()
	}
	return Trigger{kind: "signal", signals: append([]os.Signal{}, sigs...)}
}

// FileWatch is the lab's control, the naive scheme most articles show: a
// watch on the file itself, read 100ms after a Write or Rename event. It
// loses the watch at the first rename over the file (editors, Kubernetes),
// and is here to compare against, not to use.
func FileWatch() Trigger { return Trigger{kind: "fsnotify"} }

// name returns the trigger's name as Status reports it.
func (t Trigger) name() string {
	if t.kind == "" {
		return "robust"
	}
	return t.kind
}

// build makes the lab trigger t describes, with the Reloader's settings.
func (t Trigger) build(s settings) (trigger.Trigger, error) {
	if t.err != nil {
		return nil, fmt.Errorf("trigger %s: %w", t.name(), t.err)
	}
	opts := []trigger.Option{
		trigger.WithSizeLimit(s.sizeLimit),
		trigger.WithSafetyInterval(s.safety),
		trigger.WithDebounce(t.debounce),
		trigger.WithMaxWait(t.maxWait),
		trigger.WithPollInterval(t.interval),
	}
	switch t.name() {
	case "robust":
		return trigger.NewRobust(opts...), nil
	case "dirwatch":
		return trigger.NewDirWatch(opts...), nil
	case "poll":
		return trigger.NewPoll(opts...), nil
	case "pollhash":
		return trigger.NewPollHash(opts...), nil
	case "signal":
		return trigger.NewSignal(t.signals...), nil
	case "fsnotify":
		return trigger.NewFileWatch(opts...), nil
	}
	return nil, fmt.Errorf("trigger %q: unknown", t.kind)
}

// signalNames lists sigs for a trigger's name.
func signalNames(sigs []os.Signal) string {
	names := make([]string, 0, len(sigs))
	for _, s := range sigs {
		if s != nil {
			names = append(names, trigger.SignalName(s))
		}
	}
	return strings.Join(names, ",")
}
