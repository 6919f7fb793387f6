package trigger

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/strategies/safefile"
)

// Poll stats the file every PollInterval and fires when its modification
// time or size differ from the last look (or it reappears). It costs one stat
// per interval and works on every file system, but it is blind to a content
// change that keeps both: a same-size rewrite with the old mtime restored
// (cp -p, rsync -t, tar x) or two same-size writes within one timestamp tick.
// The zero value polls every DefaultPollInterval.
type Poll struct{ opts Options }

// Name returns "poll".
func (t *Poll) Name() string { return "poll" }

type statKey struct {
	ok    bool
	mtime time.Time
	size  int64
}

func statOf(path string) (statKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return statKey{}, err
	}
	return statKey{ok: true, mtime: fi.ModTime(), size: fi.Size()}, nil
}

// Start records the current mtime and size and begins polling.
func (t *Poll) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("poll", path, sink); err != nil {
		return nil, err
	}
	o := t.opts.withDefaults()
	last, _ := statOf(path)
	return startTicker(o.PollInterval, func(now time.Time) {
		cur, err := statOf(path)
		if err != nil {
			if last.ok {
				sink.Error(fmt.Errorf("trigger poll: %w", err))
			}
			last = cur
			return
		}
		if cur != last {
			reason := "poll: mtime changed"
			switch {
			case !last.ok:
				reason = "poll: file reappeared"
			case cur.size != last.size:
				reason = "poll: size changed"
			}
			last = cur
			sink.Fire(Notice{Reason: reason, Seen: now})
		}
	}), nil
}

// PollHash reads the file every PollInterval and fires when the SHA-256 of
// its content differs from the last look. It sees every content change that
// lasts at least one interval, on every file system, and pays a full read
// and hash per interval for it. The zero value polls every
// DefaultPollInterval.
type PollHash struct{ opts Options }

// Name returns "pollhash".
func (t *PollHash) Name() string { return "pollhash" }

// Start hashes the current content and begins polling.
func (t *PollHash) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("pollhash", path, sink); err != nil {
		return nil, err
	}
	o := t.opts.withDefaults()
	hashOf := func() ([]byte, error) {
		data, err := safefile.Read(path, o.SizeLimit)
		if err != nil {
			return nil, err
		}
		h := sha256.Sum256(data)
		return h[:], nil
	}
	last, _ := hashOf()
	return startTicker(o.PollInterval, func(now time.Time) {
		cur, err := hashOf()
		if err != nil {
			if last != nil {
				sink.Error(fmt.Errorf("trigger pollhash: %w", err))
			}
			last = nil
			return
		}
		if !bytes.Equal(cur, last) {
			last = cur
			sink.Fire(Notice{Reason: "pollhash: content hash changed", Seen: now})
		}
	}), nil
}

// startTicker calls tick every interval on one goroutine until the returned
// Closer is closed; Close waits for a running tick to finish.
func startTicker(interval time.Duration, tick func(time.Time)) io.Closer {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				tick(now)
			}
		}
	}()
	var once sync.Once
	return closerFunc(func() error {
		once.Do(func() { close(done); wg.Wait() })
		return nil
	})
}
