package trigger

import "os"

// NewFileWatch returns the article's scheme 1 (see FileWatch), configured by
// opts (WithDelay).
func NewFileWatch(opts ...Option) *FileWatch { return &FileWatch{opts: resolve(opts)} }

// NewDirWatch returns a directory watch (see DirWatch), configured by opts
// (WithDebounce, WithMaxWait).
func NewDirWatch(opts ...Option) *DirWatch { return &DirWatch{opts: resolve(opts)} }

// NewPoll returns a stat poll (see Poll), configured by opts
// (WithPollInterval).
func NewPoll(opts ...Option) *Poll { return &Poll{opts: resolve(opts)} }

// NewPollHash returns a content poll (see PollHash), configured by opts
// (WithPollInterval, WithSizeLimit).
func NewPollHash(opts ...Option) *PollHash { return &PollHash{opts: resolve(opts)} }

// NewSignal returns a trigger that fires on the signals named; with none, it
// never fires. (The zero Signal listens for ReloadSignals.)
func NewSignal(sigs ...os.Signal) *Signal {
	return &Signal{sigs: append([]os.Signal{}, sigs...), set: true}
}

// NewRobust returns the lab's most defended trigger (see Robust), configured
// by opts (WithDebounce, WithMaxWait, WithSafetyInterval, WithSizeLimit,
// WithSignals). Unlike New("robust"), it takes no signal unless WithSignals
// names some.
func NewRobust(opts ...Option) *Robust { return &Robust{opts: resolve(opts)} }
