package detect

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// colVerdict is one column's result in one trial.
type colVerdict struct {
	startFailed bool
	detected    bool          // the last version served at the deadline (change patterns)
	latency     time.Duration // last write finished → first apply of the last version
	sawFirst    bool          // applied a new complete version between write 1 and write 2
	applies     int
	spurious    int
	duplicates  int
	torn        int
	tornStates  []string
	rejected    int
	unchanged   uint64
	errs        []string
	// stale: the column reported, between the start of the trial and the
	// deadline, that the file it reads was replaced where it cannot follow
	// (rig.ObsStale); staleAfter is its first such report's delay after
	// the first write finished (clamped at 0); staleMsgs what it said.
	stale      bool
	staleAfter time.Duration
	staleMsgs  []string
}

// outcome classifies a change-pattern trial for one column: served (the
// last version serving at the deadline), stale reported (not served, but
// the column said within the deadline that the file it reads was replaced
// where it cannot follow), or missed silently (not served, nothing said).
type outcome int

const (
	served outcome = iota
	staleReported
	missedSilently
)

func (o outcome) String() string {
	return [...]string{"served", "stale reported", "missed silently"}[o]
}

// outcome returns the trial's outcome for a change pattern.
func (v colVerdict) outcome() outcome {
	switch {
	case v.detected:
		return served
	case v.stale:
		return staleReported
	default:
		return missedSilently
	}
}

// evaluate judges one column of one trial against the exact oracle.
func evaluate(o *trialOutcome, col string, changes bool, clean func(string) string) colVerdict {
	rec := o.cols[col]
	v := colVerdict{startFailed: rec.startErr != "", unchanged: rec.unchanged}
	if rec.startErr != "" {
		v.errs = append(v.errs, "did not start: "+clean(rec.startErr))
	}
	for _, e := range rec.errors {
		v.errs = append(v.errs, clean(e.Msg))
	}
	in := func(ob rig.Observation) bool {
		t := ob.Time()
		return !t.Before(o.t0) && !t.After(o.end)
	}
	for _, r := range rec.rejected {
		if in(r) {
			v.rejected++
		}
	}
	for _, s := range rec.stale {
		if s.Time().Before(o.t0) || s.Time().After(o.deadline) {
			continue
		}
		if !v.stale && len(o.writes) > 0 {
			v.staleAfter = max(s.Time().Sub(o.writes[0].end), 0)
		}
		v.stale = true
		if m := clean(s.Msg); !slices.Contains(v.staleMsgs, m) {
			v.staleMsgs = append(v.staleMsgs, m)
		}
	}
	applies := append([]rig.Observation(nil), rec.applies...)
	sort.SliceStable(applies, func(i, j int) bool { return applies[i].T < applies[j].T })

	target, haveTarget := o.last()
	targetKey := "v:" + strconv.FormatInt(target.Version, 10)
	servingKey := "v:1"
	atDeadline := servingKey
	var firstTarget time.Time
	for _, a := range applies {
		if !in(a) {
			continue
		}
		v.applies++
		w, ok := o.oracle.Lookup(a.State)
		key := a.State.ID()
		if ok {
			key = "v:" + strconv.FormatInt(w.Version, 10)
		}
		switch {
		case key == servingKey:
			switch {
			case a.AfterError:
				// A failed read that left the old content serving: counted
				// as rejected, not as a duplicate.
			case changes:
				v.duplicates++
			default:
				v.spurious++
			}
		case !ok:
			v.torn++
			v.tornStates = append(v.tornStates, a.State.Describe())
		case !changes:
			v.spurious++
		}
		servingKey = key
		if !a.Time().After(o.deadline) {
			atDeadline = key
		}
		if haveTarget && key == targetKey && firstTarget.IsZero() {
			firstTarget = a.Time()
		}
		if ok && w.Version > 1 && len(o.writes) >= 2 && !a.Time().Before(o.writes[0].start) && a.Time().Before(o.writes[1].start) {
			v.sawFirst = true
		}
	}
	if changes && haveTarget {
		v.detected = atDeadline == targetKey
		if v.detected {
			v.latency = max(firstTarget.Sub(o.writes[len(o.writes)-1].end), 0)
		}
	}
	return v
}

// Cell is one column's result on one file system × write pattern, over its
// trials. Counts are sums over the trials; see the package doc for the
// definitions.
type Cell struct {
	FS      string `json:"fs"`
	Pattern string `json:"pattern"`
	Column  string `json:"column"`
	// Changes is false for the patterns that must not cause a reload
	// (touch, chmod, noise): missed and latency do not apply there.
	Changes bool `json:"changes"`
	Trials  int  `json:"trials"` // trials counted
	// Missed counts the trials where the last version did not serve by
	// the deadline: MissedSilently + StaleReported.
	Missed int `json:"missed"`
	// MissedSilently counts the missed trials in which the column said
	// nothing: it went on serving the old version in silence.
	MissedSilently int `json:"missed_silently"`
	// StaleReported counts the missed trials in which the column reported,
	// by the deadline, that the file it reads was replaced where it cannot
	// follow (robust's and reload-lib's stale event: st_nlink 0 on a bind
	// mount). It still serves the last good version.
	StaleReported int `json:"stale_reported"`
	// StaleReportMS has, per stale-reported trial, the delay from the end
	// of the first write to the column's first stale report; StaleP50MS
	// is its median. StaleReasons are what the column said (up to 3).
	StaleReportMS []float64 `json:"stale_report_ms,omitempty"`
	StaleP50MS    *float64  `json:"stale_p50_ms,omitempty"`
	StaleReasons  []string  `json:"stale_reasons,omitempty"`
	// StaleAlarms counts the trials in which the column reported stale
	// but served the last version by the deadline anyway (a report
	// that did not hold, or an episode that ended).
	StaleAlarms int       `json:"stale_alarms"`
	MissedFirst int       `json:"missed_first"` // trials where nothing new was applied between write 1 and write 2
	StartFailed int       `json:"start_failed"` // trials where the column could not start
	LatencyMS   []float64 `json:"latency_ms"`   // one per detected trial, in trial order
	P50MS       *float64  `json:"p50_ms,omitempty"`
	P99MS       *float64  `json:"p99_ms,omitempty"`
	Applies     int       `json:"applies"`
	Spurious    int       `json:"spurious"`
	Duplicates  int       `json:"duplicates"`
	Torn        int       `json:"torn"`
	TornStates  []string  `json:"torn_states,omitempty"` // what was served instead, e.g. "version 0 with 0 keys"
	Rejected    int       `json:"rejected"`
	WastedReads uint64    `json:"wasted_reads"` // pipeline runs that found the content unchanged (our triggers only)
	Errors      []string  `json:"errors,omitempty"`
	Why         string    `json:"why,omitempty"`
	// Problem: missed silently, torn, spurious, duplicates or start
	// failures (a stale-reported trial is not a problem of the column: it
	// said what happened and kept the last good version).
	Problem bool `json:"problem"`
}

// Silent returns the silent misses: MissedSilently, or, for a cell that
// carries Missed alone (a matrix.json from before stale reports, a cell
// made by hand), Missed less StaleReported.
func (c Cell) Silent() int {
	if c.MissedSilently+c.StaleReported == c.Missed {
		return c.MissedSilently
	}
	return max(c.Missed-c.StaleReported, 0)
}

// Row is the evidence shared by all columns of one file system × pattern:
// what the raw inotify witnesses saw and what stat said.
type Row struct {
	FS           string   `json:"fs"`
	Pattern      string   `json:"pattern"`
	Trials       int      `json:"trials"`
	Errored      int      `json:"errored"` // trials that could not run (not counted in cells)
	ErrorSamples []string `json:"error_samples,omitempty"`
	// DirEvents and FileEvents count, per distinct "OP name", the trials in
	// which a plain fsnotify watch on the directory / on the config path
	// saw it between the first write and the end of the trial.
	DirEvents     map[string]int `json:"dir_events"`
	FileEvents    map[string]int `json:"file_events"`
	NoEvents      int            `json:"no_events"`      // trials in which neither witness saw any event
	StatUnchanged int            `json:"stat_unchanged"` // trials where the last write left mtime and size as they were
	InodeChanged  int            `json:"inode_changed"`  // trials where the last write gave the path a new inode
	MtimeBack     int            `json:"mtime_back"`     // trials where the last write left an older mtime than before
	// WatchNlinkZero counts the trials in which stat(2) of the watched
	// path reported st_nlink 0 at the end: the inode it shows was unlinked
	// (a bind mount pinning a replaced file). WatchOld counts those in
	// which reading the watched path at the end did not give the last
	// version written (the new content never reached it).
	WatchNlinkZero int `json:"watch_nlink_zero"`
	WatchOld       int `json:"watch_old"`
	// Shape is the deployment shape's layout (writepattern.Pattern.Shape),
	// and Why, for a shape, says at syscall level what the writer did and
	// what reached the watched path; each of the row's cells' why lines
	// starts with it.
	Shape string `json:"shape,omitempty"`
	Why   string `json:"why,omitempty"`
}

// cellAcc accumulates one cell's trials.
type cellAcc struct {
	Cell
	latencies                      []time.Duration
	errCount                       map[string]int
	sawThenMissed                  int
	missedDir, missedFile, spurDir eventTally
	missedNoEvents, missedStatSame int
	missedWithErr                  int // missed trials in which the column reported an error
	missedTwins                    int // missed trials without a reported error, with two identical config events < 5 ms apart
	missedIDs                      []int
	staleDelays                    []time.Duration
	servedDir, servedFile          eventTally // the witness events of the served trials
	row                            Row        // the cell's row, its evidence complete (set by aggregateRow before why)
}

func newCellAcc(fs, pattern, col string, changes bool) *cellAcc {
	return &cellAcc{
		Cell:      Cell{FS: fs, Pattern: pattern, Column: col, Changes: changes, LatencyMS: []float64{}},
		errCount:  map[string]int{},
		missedDir: eventTally{}, missedFile: eventTally{}, spurDir: eventTally{},
		servedDir: eventTally{}, servedFile: eventTally{},
	}
}

// add folds in one trial.
func (c *cellAcc) add(o *trialOutcome, v colVerdict) {
	c.Trials++
	c.Applies += v.applies
	c.Spurious += v.spurious
	c.Duplicates += v.duplicates
	c.Torn += v.torn
	c.TornStates = appendCapped(c.TornStates, v.tornStates, 5)
	c.Rejected += v.rejected
	c.WastedReads += v.unchanged
	for _, e := range v.errs {
		c.errCount[e]++
	}
	if v.startFailed {
		c.StartFailed++
	}
	dir, file := splitEvents(o.events)
	if v.stale {
		c.StaleReasons = appendCapped(c.StaleReasons, slices.DeleteFunc(slices.Clone(v.staleMsgs), func(m string) bool { return slices.Contains(c.StaleReasons, m) }), 3)
	}
	if c.Changes {
		switch v.outcome() {
		case served:
			if v.stale {
				c.StaleAlarms++
			}
		case staleReported:
			c.StaleReported++
			c.staleDelays = append(c.staleDelays, v.staleAfter)
			c.StaleReportMS = append(c.StaleReportMS, rig.Round3(rig.MS(v.staleAfter)))
		case missedSilently:
			c.MissedSilently++
		}
		if v.detected {
			c.latencies = append(c.latencies, v.latency)
			c.LatencyMS = append(c.LatencyMS, rig.Round3(rig.MS(v.latency)))
			c.servedDir.addTrial(dir)
			c.servedFile.addTrial(file)
		} else {
			c.Missed++
			c.missedIDs = append(c.missedIDs, o.job.index)
			c.missedDir.addTrial(dir)
			c.missedFile.addTrial(file)
			if len(o.events) == 0 {
				c.missedNoEvents++
			}
			if o.before.ok && o.after.ok && o.before.mtime.Equal(o.after.mtime) && o.before.size == o.after.size {
				c.missedStatSame++
			}
			if v.sawFirst {
				c.sawThenMissed++
			}
			if len(v.errs) > 0 {
				c.missedWithErr++
			} else if hasTwins(dir, 5*time.Millisecond) {
				c.missedTwins++
			}
		}
		if len(o.writes) >= 2 && !v.sawFirst {
			c.MissedFirst++
		}
	}
	if v.spurious > 0 || v.duplicates > 0 {
		c.spurDir.addTrial(dir)
	}
}

// finish computes the percentiles, the problem flag and the error list.
func (c *cellAcc) finish() Cell {
	if len(c.latencies) > 0 {
		p50, p99 := rig.Round3(rig.MS(percentile(c.latencies, 50))), rig.Round3(rig.MS(percentile(c.latencies, 99)))
		c.P50MS, c.P99MS = &p50, &p99
	}
	type kv struct {
		k string
		n int
	}
	var errs []kv
	for k, n := range c.errCount {
		errs = append(errs, kv{k, n})
	}
	sort.Slice(errs, func(i, j int) bool {
		if errs[i].n != errs[j].n {
			return errs[i].n > errs[j].n
		}
		return errs[i].k < errs[j].k
	})
	c.Errors = nil
	for i, e := range errs {
		if i == 5 {
			break
		}
		c.Errors = append(c.Errors, e.k+" ("+strconv.Itoa(e.n)+"×)")
	}
	if len(c.staleDelays) > 0 {
		p50 := rig.Round3(rig.MS(percentile(c.staleDelays, 50)))
		c.StaleP50MS = &p50
	}
	c.Problem = c.MissedSilently > 0 || c.Torn > 0 || c.Spurious > 0 || c.Duplicates > 0 || c.StartFailed > 0
	return c.Cell
}

// percentile returns the p-th percentile of ds (stats.Quantile's
// definition, type 7: p99 of 10 samples lies between the two largest).
func percentile(ds []time.Duration, p float64) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(math.Round(stats.Quantile(xs, p/100)))
}

func splitEvents(events []witnessEvent) (dir, file []witnessEvent) {
	for _, e := range events {
		if e.Watch == "dir" {
			dir = append(dir, e)
		} else {
			file = append(file, e)
		}
	}
	return dir, file
}

// hasTwins reports whether two consecutive events on the config name are
// identical and less than within apart (koanf drops the second of such a
// pair).
func hasTwins(events []witnessEvent, within time.Duration) bool {
	var prev *witnessEvent
	for i := range events {
		e := &events[i]
		if e.Name != ConfigName {
			continue
		}
		if prev != nil && prev.Op == e.Op && e.T.Sub(prev.T) < within {
			return true
		}
		prev = e
	}
	return false
}

func appendCapped(dst, src []string, n int) []string {
	for _, s := range src {
		if len(dst) >= n {
			break
		}
		dst = append(dst, s)
	}
	return dst
}
