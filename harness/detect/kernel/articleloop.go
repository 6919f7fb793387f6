package kernel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ArticleLoopIterations is the loop count of the article's stress snippet.
const ArticleLoopIterations = 1000

// ArticleLoop is the article's chapter-2.2 stress test, run as written and
// with two variants that give it its best chance to overflow.
type ArticleLoop struct {
	Method          string           `json:"method"`
	Iterations      int              `json:"iterations"`
	MaxQueuedEvents int              `json:"max_queued_events"`
	Runs            []ArticleLoopRun `json:"runs"`
	Error           string           `json:"error,omitempty"`
}

// ArticleLoopRun is one variant of the loop.
type ArticleLoopRun struct {
	Name        string         `json:"name"`
	Events      int            `json:"events"`   // events delivered
	ByOp        map[string]int `json:"by_op"`    // per operation
	Overflow    bool           `json:"overflow"` // fsnotify.ErrEventOverflow arrived
	Errors      []string       `json:"errors,omitempty"`
	WatchesLeft int            `json:"watches_left"` // len(WatchList()) after the loop
}

const articleLoopMethod = "the snippet of the article's chapter 2.2, as written: watcher.Add(path) on an existing file, then 1000 × (os.WriteFile(path, \"x\"), os.Remove(path)), with a goroutine reading Events and Errors; then the same loop with the reader stalled until the loop ends (only the kernel queue buffers), watching the file and watching its directory. Events are drained until 300 ms pass without one. max_queued_events is read, never changed."

// RunArticleLoop runs the article's loop as written and its two variants,
// in the lab process, in fresh directories under base.
func RunArticleLoop(ctx context.Context, base string) *ArticleLoop {
	al := &ArticleLoop{Method: articleLoopMethod, Iterations: ArticleLoopIterations}
	if n, err := maxQueuedEvents(); err == nil {
		al.MaxQueuedEvents = n
	}
	variants := []struct {
		name    string
		watchOn func(dir, file string) string
		stalled bool
	}{
		{"as written: watch the file, reader running", func(_, f string) string { return f }, false},
		{"watch the file, reader stalled", func(_, f string) string { return f }, true},
		{"watch the directory, reader stalled", func(d, _ string) string { return d }, true},
	}
	for _, v := range variants {
		if ctx.Err() != nil {
			break
		}
		r, err := articleLoopOnce(base, v.watchOn, v.stalled)
		if err != nil {
			al.Error = fmt.Sprintf("%s: %v", v.name, err)
			return al
		}
		r.Name = v.name
		al.Runs = append(al.Runs, r)
	}
	return al
}

func articleLoopOnce(base string, watchOn func(dir, file string) string, stalled bool) (ArticleLoopRun, error) {
	r := ArticleLoopRun{ByOp: map[string]int{}}
	dir, err := os.MkdirTemp(base, "articleloop-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "test")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		return r, err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return r, err
	}
	defer w.Close()
	if err := w.Add(watchOn(dir, file)); err != nil {
		return r, err
	}
	record := func(ev fsnotify.Event) {
		r.Events++
		for _, op := range []fsnotify.Op{fsnotify.Create, fsnotify.Write, fsnotify.Remove, fsnotify.Rename, fsnotify.Chmod} {
			if ev.Has(op) {
				r.ByOp[op.String()]++
			}
		}
	}
	errs := map[string]bool{}
	recordErr := func(err error) {
		if errors.Is(err, fsnotify.ErrEventOverflow) {
			r.Overflow = true
		}
		errs[err.Error()] = true
	}
	drain := func(quiet time.Duration) {
		t := time.NewTimer(quiet)
		defer t.Stop()
		for {
			select {
			case ev := <-w.Events:
				record(ev)
			case err := <-w.Errors:
				recordErr(err)
			case <-t.C:
				return
			}
			t.Reset(quiet)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	if !stalled {
		go func() {
			defer close(done)
			for {
				select {
				case ev := <-w.Events:
					record(ev)
				case err := <-w.Errors:
					recordErr(err)
				case <-stop:
					return
				}
			}
		}()
	}
	for i := 0; i < ArticleLoopIterations; i++ {
		if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
			return r, err
		}
		if err := os.Remove(file); err != nil {
			return r, err
		}
	}
	if !stalled {
		time.Sleep(300 * time.Millisecond)
		close(stop)
		<-done
	}
	drain(300 * time.Millisecond)
	r.WatchesLeft = len(w.WatchList())
	for e := range errs {
		r.Errors = append(r.Errors, e)
	}
	sort.Strings(r.Errors)
	return r, nil
}
