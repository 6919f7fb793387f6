package trigger

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Defaults for the trigger options.
const (
	// DefaultPollInterval is how often poll and pollhash look at the file.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultDebounce is how long dirwatch and robust wait after the last
	// event before firing, so a multi-step save fires once, at its end.
	// Robust waits only after events that may be a write in progress; a
	// rename into place and a writer's close fire at once.
	// Robust waits only after events that may be a write in progress; a
	// rename into place and a writer's close fire at once.
	DefaultDebounce = 100 * time.Millisecond
	// DefaultMaxWait bounds a debounce that events keep resetting: the
	// trigger fires at most this long after the first event of a burst.
	DefaultMaxWait = 2 * time.Second
	// DefaultSafetyInterval is how often robust re-reads the file no matter
	// what inotify says (file systems without events, lost watches).
	DefaultSafetyInterval = time.Second
	// DefaultDelay is the fixed delay of the article's scheme 1 between an
	// event and the re-read.
	DefaultDelay = 100 * time.Millisecond
)

// Notice is what a trigger tells the pipeline.
type Notice struct {
	Reason string    // what the trigger saw, e.g. "dirwatch: CREATE ..data"
	Seen   time.Time // when the trigger first saw the change
	// Rescan is set when the trigger may have missed events (an inotify
	// queue overflow, a lost or re-added watch) and asks for a full re-read
	// to recover.
	Rescan bool
}

// Sink receives a running trigger's notices and non-fatal errors. Its
// methods must not block.
type Sink interface {
	// Fire reports that the file may have changed.
	Fire(Notice)
	// Error reports a non-fatal problem (an fsnotify error, a lost watch).
	Error(error)
}

// Trigger is one way of noticing changes.
type Trigger interface {
	// Name returns the registry name ("robust", …).
	Name() string
	// Start watches path and returns once watching is established, so a
	// change made after Start returns is one the trigger is able to see.
	// Close the returned io.Closer to stop.
	Start(path string, sink Sink) (io.Closer, error)
}

// Options configures triggers. The zero value means all defaults: a zero
// or negative duration or size is replaced by its default when the trigger
// starts.
type Options struct {
	PollInterval   time.Duration
	Debounce       time.Duration
	MaxWait        time.Duration
	SafetyInterval time.Duration
	Delay          time.Duration
	SizeLimit      int64
	// Signals are the signals robust treats as "reload now". nil means
	// none, except for New("robust"), which takes ReloadSignals unless
	// WithSignals was given.
	Signals []os.Signal
}

// Option sets one field of Options.
type Option func(*Options)

// WithPollInterval sets the poll and pollhash interval.
func WithPollInterval(d time.Duration) Option { return func(o *Options) { o.PollInterval = d } }

// WithDebounce sets the dirwatch and robust debounce (robust: for writes
// not yet closed, creations and removals; a rename into place and a
// writer's close fire at once).
func WithDebounce(d time.Duration) Option { return func(o *Options) { o.Debounce = d } }

// WithMaxWait sets the longest a debounce can postpone a fire.
func WithMaxWait(d time.Duration) Option { return func(o *Options) { o.MaxWait = d } }

// WithSafetyInterval sets robust's safety-net poll interval.
func WithSafetyInterval(d time.Duration) Option { return func(o *Options) { o.SafetyInterval = d } }

// WithDelay sets the fsnotify (scheme 1) re-read delay.
func WithDelay(d time.Duration) Option { return func(o *Options) { o.Delay = d } }

// WithSizeLimit sets the largest file pollhash and robust will read.
func WithSizeLimit(n int64) Option { return func(o *Options) { o.SizeLimit = n } }

// WithSignals sets the signals robust treats as "reload now"; with no
// arguments, none.
func WithSignals(sigs ...os.Signal) Option {
	return func(o *Options) { o.Signals = append([]os.Signal{}, sigs...) }
}

// resolve applies opts to the zero Options and fills in the defaults.
func resolve(opts []Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o.withDefaults()
}

// withDefaults returns o with every unset or non-positive duration replaced
// by its default, so that a trigger's zero value is safe to Start.
func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.MaxWait < o.Debounce {
		o.MaxWait = o.Debounce
	}
	if o.SafetyInterval <= 0 {
		o.SafetyInterval = DefaultSafetyInterval
	}
	if o.Delay <= 0 {
		o.Delay = DefaultDelay
	}
	return o
}

// validateStart checks the arguments every Start receives.
func validateStart(name, path string, sink Sink) error {
	if path == "" {
		return fmt.Errorf("trigger %s: empty config path", name)
	}
	if sink == nil {
		return errors.New("trigger " + name + ": nil Sink")
	}
	return nil
}

// kinds is the registry of triggers in presentation order.
var kinds = []struct {
	name, desc string
	new        func(Options) Trigger
}{
	{"fsnotify", "watch the file path; Write/Rename → re-read after 100 ms (the article's scheme 1, defects kept)", func(o Options) Trigger { return &FileWatch{opts: o} }},
	{"dirwatch", "watch the parent directory, symlink-aware, debounced", func(o Options) Trigger { return &DirWatch{opts: o} }},
	{"poll", "stat polling of mtime+size", func(o Options) Trigger { return &Poll{opts: o} }},
	{"pollhash", "SHA-256 content polling", func(o Options) Trigger { return &PollHash{opts: o} }},
	{"signal", "SIGUSR1/SIGHUP asks for a reload", func(o Options) Trigger {
		if o.Signals != nil {
			return &Signal{sigs: o.Signals, set: true}
		}
		return &Signal{}
	}},
	{"robust", "dirwatch, at once on a rename into place or a writer's close, debounced otherwise + safety poll + stale-mount report + overflow rescan + watch re-add + signals", func(o Options) Trigger {
		if o.Signals == nil {
			o.Signals = ReloadSignals
		}
		return &Robust{opts: o}
	}},
}

// Names returns the names of all triggers.
func Names() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	return names
}

// Describe returns a one-line description of the named trigger, or "".
func Describe(name string) string {
	for _, k := range kinds {
		if k.name == name {
			return k.desc
		}
	}
	return ""
}

// New returns the named trigger configured by opts, or an error listing the
// valid names.
func New(name string, opts ...Option) (Trigger, error) {
	for _, k := range kinds {
		if k.name == name {
			return k.new(resolve(opts)), nil
		}
	}
	return nil, fmt.Errorf("trigger: unknown trigger %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
