package detect

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// witness records the raw inotify events of a trial, as fsnotify delivers
// them, from two plain watchers: one on the trial directory (what dirwatch,
// robust, viper and koanf build on) and one on the config path itself
// (what scheme 1 builds on; inotify follows a symlink to its target). It
// interprets nothing: the why lines of the report quote what it saw.
type witness struct {
	dirW, fileW *fsnotify.Watcher
	wg          sync.WaitGroup

	mu     sync.Mutex
	events []witnessEvent
	errs   []string
}

// witnessEvent is one raw event.
type witnessEvent struct {
	T     time.Time
	Watch string // "dir" or "file"
	Op    string // fsnotify op, e.g. "CREATE", "CHMOD"
	Name  string // base name, normalised (see normName)
}

func (e witnessEvent) String() string { return e.Op + " " + e.Name }

// startWitness watches dir and path. A watch that cannot be added is
// recorded as an error, not returned: the witness is evidence, not a
// column.
func startWitness(dir, path string) *witness {
	w := &witness{}
	w.dirW = w.watch("dir", dir)
	w.fileW = w.watch("file", path)
	return w
}

func (w *witness) watch(kind, target string) *fsnotify.Watcher {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		w.errs = append(w.errs, fmt.Sprintf("%s watch: %v", kind, err))
		return nil
	}
	if err := fw.Add(target); err != nil {
		w.errs = append(w.errs, fmt.Sprintf("%s watch: %v", kind, err))
		fw.Close()
		return nil
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case ev, ok := <-fw.Events:
				if !ok {
					return
				}
				e := witnessEvent{T: time.Now(), Watch: kind, Op: ev.Op.String(), Name: normName(filepath.Base(ev.Name))}
				w.mu.Lock()
				w.events = append(w.events, e)
				w.mu.Unlock()
			case err, ok := <-fw.Errors:
				if !ok {
					return
				}
				w.mu.Lock()
				w.errs = append(w.errs, fmt.Sprintf("%s watch: %v", kind, err))
				w.mu.Unlock()
			}
		}
	}()
	return fw
}

// close stops both watchers and returns what they saw.
func (w *witness) close() ([]witnessEvent, []string) {
	if w.dirW != nil {
		w.dirW.Close()
	}
	if w.fileW != nil {
		w.fileW.Close()
	}
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events, w.errs
}

var (
	tsDirRE   = regexp.MustCompile(`^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$`)
	sedTempRE = regexp.MustCompile(`^sed[A-Za-z0-9]{6}$`)
)

// normName replaces the random parts of temporary names, so events from
// different trials can be counted together: the kubelet's "..<timestamp>"
// directories and sed's "sedXXXXXX" temporary files.
func normName(name string) string {
	switch {
	case tsDirRE.MatchString(name):
		return "..<timestamp>"
	case sedTempRE.MatchString(name):
		return "sed<tmp>"
	}
	return name
}

// eventTally counts, per distinct "OP name", in how many trials it was seen.
type eventTally map[string]int

// addTrial counts each distinct event of one trial once.
func (t eventTally) addTrial(events []witnessEvent) {
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.String()] = true
	}
	for s := range seen {
		t[s]++
	}
}

// summary lists the events, most frequent first, as "CREATE x, WRITE y"; if
// all is false only events on the config name, ..data and the kubelet's
// directories are listed (what concerns the config).
func (t eventTally) summary(all bool) string {
	var parts []string
	for _, k := range sortedTally(t) {
		if all || concernsConfig(k) {
			parts = append(parts, k)
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// sortedTally returns the tally's keys, most frequent first, then by name.
func sortedTally(t map[string]int) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if t[keys[i]] != t[keys[j]] {
			return t[keys[i]] > t[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// concernsConfig reports whether an "OP name" event is about the config
// file or the Kubernetes ..data machinery.
func concernsConfig(ev string) bool {
	_, name, _ := strings.Cut(ev, " ")
	return name == ConfigName || strings.HasPrefix(name, "..")
}

// ops returns the distinct operations in the tally ("CHMOD", "REMOVE" …).
func (t eventTally) ops() []string {
	seen := map[string]bool{}
	for k := range t {
		op, _, _ := strings.Cut(k, " ")
		for _, o := range strings.Split(op, "|") {
			seen[o] = true
		}
	}
	var out []string
	for o := range seen {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// EventSummary lists the events of a witness tally (Row.DirEvents or
// Row.FileEvents), most frequent first, as "CREATE x, WRITE y"; if all is
// false only the events that concern the config file or the Kubernetes
// ..data machinery are listed. It returns "nothing" for none.
func EventSummary(tally map[string]int, all bool) string { return eventTally(tally).summary(all) }

// SortedEvents returns the events of a witness tally (Row.DirEvents or
// Row.FileEvents), most frequent first, then by name.
func SortedEvents(tally map[string]int) []string { return sortedTally(tally) }

// ConcernsConfig reports whether a witness event ("OP name") is about the
// config file or the Kubernetes ..data machinery.
func ConcernsConfig(event string) bool { return concernsConfig(event) }
