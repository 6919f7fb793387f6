package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/config"
)

// trialJob is one trial of one cell row (file system × pattern); all
// selected columns run on it side by side.
type trialJob struct {
	fs      fsmount.FS
	fsName  string
	pattern writepattern.Pattern
	index   int
}

// writeRec is one call of Pattern.Write.
type writeRec struct {
	start, end time.Time
	versions   []rig.Written // the complete versions it wrote, in order
	signalled  time.Time     // when SIGUSR1 went to the signal column ("" if none)
}

// colRecord is everything one column reported in one trial.
type colRecord struct {
	startErr  string
	applies   []rig.Observation
	rejected  []rig.Observation
	errors    []rig.Observation
	stale     []rig.Observation // reports that the file it reads was replaced where it cannot follow
	unchanged uint64            // pipeline runs that found the content unchanged, during the trial
}

// statInfo is what stat(2) said about the config file (following
// symlinks) before and after the last write.
type statInfo struct {
	ok    bool
	mtime time.Time
	size  int64
	ino   uint64
	nlink uint64
}

func statOf(path string) statInfo {
	fi, err := os.Stat(path)
	if err != nil {
		return statInfo{}
	}
	s := statInfo{ok: true, mtime: fi.ModTime(), size: fi.Size()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino, s.nlink = st.Ino, uint64(st.Nlink)
	}
	return s
}

// trialOutcome is one trial's raw record.
type trialOutcome struct {
	job                trialJob
	err                error    // the trial could not run (setup or write failed); not counted
	watchDir, writeDir string   // the trial's directories, for cleaning messages
	views              []string // every view of the watch directory
	t0, end            time.Time
	deadline           time.Time   // last write end + effective deadline
	first              rig.Written // version 1
	writes             []writeRec
	oracle             *rig.Oracle
	cols               map[string]*colRecord
	events             []witnessEvent // raw inotify events from t0 to end
	witnessErrs        []string
	before, after      statInfo // the saved (host) path, before and after the last write
	// watchAfter is what stat said about the watched path after the last
	// write (st_nlink 0: the inode it shows was unlinked); watchHasLast
	// whether reading the watched path at the end of the trial gave the
	// last version written.
	watchAfter          statInfo
	watchHasLast        bool
	allServedLastBefore time.Time // when the last column served the last version (zero if not all did)
}

// last returns the last complete version written.
func (o *trialOutcome) last() (rig.Written, bool) {
	for i := len(o.writes) - 1; i >= 0; i-- {
		if v := o.writes[i].versions; len(v) > 0 {
			return v[len(v)-1], true
		}
	}
	return rig.Written{}, false
}

// runTrial runs one trial: fresh directory with version 1, every column
// started fresh, a settle pause, cfg.Writes changes cfg.Gap apart (SIGUSR1
// to the signal column after each), then waiting until every column serves
// the last version or the deadline passes (no-change patterns: watching
// for cfg.Quiet).
func runTrial(ctx context.Context, cfg Config, cols []string, job trialJob) *trialOutcome {
	out := &trialOutcome{job: job, oracle: rig.NewOracle(), cols: map[string]*colRecord{}}
	for _, c := range cols {
		out.cols[c] = &colRecord{}
	}
	var mu sync.Mutex
	changed := make(chan struct{}, 1)
	emit := func(o rig.Observation) {
		mu.Lock()
		rec := out.cols[o.Col]
		if rec != nil {
			switch o.Kind {
			case rig.ObsApply:
				rec.applies = append(rec.applies, o)
			case rig.ObsRejected:
				rec.rejected = append(rec.rejected, o)
			case rig.ObsError:
				rec.errors = append(rec.errors, o)
			case rig.ObsStale:
				rec.stale = append(rec.stale, o)
			case rig.ObsStartError:
				rec.startErr = o.Msg
			case rig.ObsStatus:
				rec.unchanged = o.Unchanged
			}
		}
		mu.Unlock()
		select {
		case changed <- struct{}{}:
		default:
		}
	}

	v1 := config.Generate(1, cfg.Keys)
	first, err := rig.OracleEntry(v1)
	if err != nil {
		out.err = err
		return out
	}
	out.first = first
	out.oracle.Add(first)
	name := fmt.Sprintf("%s-%02d", job.pattern.Name, job.index)
	dirs, err := job.fs.NewTrial(name, func(dir string) error { return job.pattern.Init(dir, ConfigName, v1) })
	if err != nil {
		out.err = err
		return out
	}
	defer dirs.Close()
	out.watchDir, out.writeDir = dirs.Watch, dirs.Write
	// A deployment shape's bind mount, made for this trial only and
	// removed before the directory (deferred after dirs.Close, so it runs
	// first), also when the trial fails or the run is interrupted.
	unmount, err := job.pattern.Setup(dirs.Write, dirs.Watch, ConfigName)
	defer func() {
		if uerr := unmount(); uerr != nil && out.err == nil {
			out.err = uerr
		}
	}()
	if err != nil {
		out.err = err
		return out
	}
	// Each column watches its own view of the trial directory (on
	// fuse-remote its own mount, so its own attribute cache); the witness
	// has the last one. Its directory watch is on the watched path's
	// directory, as the directory-watching columns' is.
	pathOf := func(i int) string { return job.pattern.WatchPath(dirs.View(i), ConfigName) }
	out.views = dirs.Views
	wit := startWitness(filepath.Dir(pathOf(len(cols))), pathOf(len(cols)))
	witnessClosed := false
	defer func() {
		if !witnessClosed {
			wit.close()
		}
	}()

	params := rig.Params{PollInterval: cfg.PollInterval, Debounce: cfg.Debounce, SafetyInterval: cfg.SafetyInterval}
	var local []rig.Running
	var localNames []string
	var childCols []string
	childPaths := map[string]string{}
	for i, c := range cols {
		if inChild(c) {
			childCols = append(childCols, c)
			childPaths[c] = pathOf(i)
			continue
		}
		run, err := rig.StartColumn(c, pathOf(i), params, emit)
		if err != nil {
			emit(rig.Observation{T: time.Now().UnixNano(), Col: c, Kind: rig.ObsStartError, Msg: err.Error()})
			continue
		}
		local = append(local, run)
		localNames = append(localNames, c)
	}
	closeLocal := func() {
		for _, r := range local {
			r.Close()
		}
		local = nil
	}
	defer closeLocal()

	var child *rig.Proc
	signalCol := false
	if len(childCols) > 0 {
		for _, c := range childCols {
			signalCol = signalCol || c == "signal"
		}
		child, err = rig.StartChild(cfg.Child, rig.Spec{Mode: rig.ModeColumns, Paths: childPaths, Columns: childCols, Params: params}, nil, emit)
		if err == nil {
			if err = child.WaitReady(ctx, rig.DefaultStartTimeout); err != nil {
				child.Kill()
				child = nil
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				out.err = ctx.Err()
				return out
			}
			for _, c := range childCols {
				emit(rig.Observation{T: time.Now().UnixNano(), Col: c, Kind: rig.ObsStartError, Msg: err.Error()})
			}
			signalCol = false
		}
	}
	defer func() {
		if child != nil {
			child.Kill()
		}
	}()

	// Random phases (seeded by the trial, so a rerun has the same
	// schedule): without them every write would land at the same point of
	// the polling triggers' tickers, which start with the columns, and
	// polling latency and the chance of reading a half-written file would
	// be artefacts of the schedule.
	rng := rand.New(rand.NewPCG(uint64(job.index), seedOf(job.fsName+"/"+job.pattern.Name)))
	jitter := func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return time.Duration(rng.Int64N(int64(d)))
	}
	if err := rig.SleepCtx(ctx, cfg.Settle+jitter(cfg.SafetyInterval)); err != nil {
		out.err = err
		return out
	}
	out.t0 = time.Now()
	baseline := make([]uint64, len(local))
	for i, r := range local {
		baseline[i] = r.Unchanged()
	}
	writePath := job.pattern.HostPath(dirs.Write, ConfigName)

	version := int64(1)
	next := func() []byte {
		version++
		return config.Generate(version, cfg.Keys)
	}
	for i := 0; i < cfg.Writes; i++ {
		if i > 0 {
			if err := rig.SleepCtx(ctx, cfg.Gap+jitter(cfg.PollInterval)); err != nil {
				out.err = err
				return out
			}
		}
		out.before = statOf(writePath) // ends as the stat before the last write
		rec := writeRec{start: time.Now()}
		data, err := job.pattern.Write(ctx, dirs.Write, ConfigName, next)
		rec.end = time.Now()
		if err != nil {
			out.err = err
			return out
		}
		for _, d := range data {
			w, err := rig.OracleEntry(d)
			if err != nil {
				out.err = err
				return out
			}
			rec.versions = append(rec.versions, w)
			out.oracle.Add(w)
		}
		if signalCol && child != nil {
			if err := child.Signal(syscall.SIGUSR1); err == nil {
				rec.signalled = time.Now()
			}
		}
		out.writes = append(out.writes, rec)
	}
	out.after = statOf(writePath)
	lastEnd := out.writes[len(out.writes)-1].end
	out.deadline = lastEnd.Add(cfg.effectiveDeadline())

	target, changes := out.last()
	if changes && job.pattern.ChangesContent {
		// Wait until every column serves the target, or the deadline.
		servesTarget := func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cols {
				rec := out.cols[c]
				if rec.startErr != "" {
					continue
				}
				n := len(rec.applies)
				if n == 0 || !rig.Same(rec.applies[n-1].State, target) {
					return false
				}
			}
			return true
		}
		timer := time.NewTimer(time.Until(out.deadline))
		tick := time.NewTicker(10 * time.Millisecond)
	wait:
		for !servesTarget() {
			select {
			case <-ctx.Done():
				timer.Stop()
				tick.Stop()
				out.err = ctx.Err()
				return out
			case <-timer.C:
				break wait
			case <-changed:
			case <-tick.C:
			}
		}
		timer.Stop()
		tick.Stop()
		if servesTarget() {
			out.allServedLastBefore = time.Now()
			if err := rig.SleepCtx(ctx, cfg.Linger); err != nil {
				out.err = err
				return out
			}
		}
	} else {
		if err := rig.SleepCtx(ctx, time.Until(lastEnd.Add(cfg.Quiet))); err != nil {
			out.err = err
			return out
		}
	}
	out.end = time.Now()
	out.watchAfter = statOf(pathOf(0))
	if data, err := os.ReadFile(pathOf(0)); err == nil && changes {
		sum := sha256.Sum256(data)
		out.watchHasLast = hex.EncodeToString(sum[:]) == target.Hash
	}

	// Stop everything, collecting final counters, before evaluating.
	for i, r := range local {
		u := r.Unchanged() - baseline[i]
		mu.Lock()
		out.cols[localNames[i]].unchanged = u
		mu.Unlock()
	}
	closeLocal()
	if child != nil {
		child.Stop(2 * time.Second)
		child = nil
	}
	events, errs := wit.close()
	witnessClosed = true
	for _, e := range events {
		if !e.T.Before(out.t0) && !e.T.After(out.end) {
			out.events = append(out.events, e)
		}
	}
	out.witnessErrs = errs
	return out
}

// seedOf hashes s (FNV-1a) into a PRNG seed.
func seedOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
