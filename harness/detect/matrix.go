package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/detect/kernel"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Schema names the matrix.json format documented in the package doc.
const Schema = "reloadlab.detect/v1"

// Matrix is the result of a detect run, written as matrix.json.
type Matrix struct {
	Schema        string         `json:"schema"`
	Machine       machine.Info   `json:"machine"`
	Command       string         `json:"command"`
	Started       time.Time      `json:"started"`
	WallSeconds   float64        `json:"wall_seconds"`
	Params        Params         `json:"params"`
	Columns       []Column       `json:"columns"`
	Patterns      []PatternInfo  `json:"patterns"`
	FileSystems   []fsmount.Info `json:"file_systems"`
	Rows          []Row          `json:"rows"`
	Cells         []Cell         `json:"cells"`
	Models        []ModelCheck   `json:"models"`
	NotRun        []NotRun       `json:"not_run,omitempty"` // file system × pattern combinations left out, with why
	Overflow      *Overflow      `json:"overflow,omitempty"`
	ArticleLoop   *ArticleLoop   `json:"article_loop,omitempty"`
	WatchLimit    *WatchLimit    `json:"watch_limit,omitempty"`
	InstanceLimit *InstanceLimit `json:"instance_limit,omitempty"` // the inotify instance limit experiment
	Idle          *Idle          `json:"idle_cost,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
}

// PatternInfo describes a write pattern as the run used it.
type PatternInfo struct {
	Name           string `json:"name"`
	Models         string `json:"models"`
	ChangesContent bool   `json:"changes_content"`
	Tool           string `json:"tool,omitempty"`
	Skipped        string `json:"skipped,omitempty"` // why it did not run (tool not installed, not root for a mount)
	// Shape is a deployment shape's layout (how the file reaches the
	// watchers); CannotFollow, for a shape no watcher can follow, why.
	Shape        string `json:"shape,omitempty"`
	CannotFollow string `json:"cannot_follow,omitempty"`
}

// NotRun is a file system × pattern combination the run left out.
type NotRun struct {
	FS      string `json:"fs"`
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
}

// notRunReason says why pattern p is not run on file system fs, or "".
func notRunReason(fs string, p writepattern.Pattern) string {
	if fs == fsmount.FuseRemote && p.Mounts {
		return "the bind mount's source would be the backing file itself, so the container side would not go through FUSE: the row would repeat disk's"
	}
	return ""
}

// Cell returns the cell for fs × pattern × column, or nil.
func (m *Matrix) Cell(fs, pattern, column string) *Cell {
	for i := range m.Cells {
		c := &m.Cells[i]
		if c.FS == fs && c.Pattern == pattern && c.Column == column {
			return c
		}
	}
	return nil
}

// Row returns the evidence row for fs × pattern, or nil.
func (m *Matrix) Row(fs, pattern string) *Row {
	for i := range m.Rows {
		if m.Rows[i].FS == fs && m.Rows[i].Pattern == pattern {
			return &m.Rows[i]
		}
	}
	return nil
}

// Run runs the matrix and the selected experiments and returns the result.
// It mounts what it needs and unmounts it before returning, also when ctx
// is cancelled (then it returns ctx's error and no matrix). Names are
// checked first (Validate).
func Run(ctx context.Context, cfg Config) (*Matrix, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.needsChild() && cfg.Child.Path == "" {
		return nil, errors.New("detect: this run needs a child process (Config.Child)")
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "detect: "+format+"\n", args...)
		}
	}
	m := &Matrix{Schema: Schema, Machine: machine.Read(), Command: cfg.Command, Started: start.UTC(), Params: cfg.params()}
	var cols []string
	for _, c := range Columns() {
		if slices.Contains(cfg.Columns, c.Name) {
			m.Columns = append(m.Columns, c)
			cols = append(cols, c.Name)
		}
	}

	// A reload signal must never kill the lab, whatever is running.
	stopSignals := holdReloadSignals()
	defer stopSignals()

	if cleaned, err := fsmount.CleanStale(cfg.BaseDir); len(cleaned) > 0 || err != nil {
		logf("cleaned up after an earlier run: %v %v", cleaned, err)
	}
	base, baseType, err := fsmount.NewBase(cfg.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	defer func() {
		if err := fsmount.RemoveBase(base); err != nil {
			logf("cleanup: %v", err)
		}
	}()
	logf("working in %s (%s)", base, baseType)

	var patterns []writepattern.Pattern
	for _, p := range writepattern.All() {
		if !slices.Contains(cfg.Patterns, p.Name) {
			continue
		}
		info := PatternInfo{Name: p.Name, Models: p.Models, ChangesContent: p.ChangesContent, Tool: p.Tool, Shape: p.Shape, CannotFollow: p.CannotFollow}
		if err := p.Available(); err != nil {
			info.Skipped = err.Error()
			logf("pattern %s skipped: %v", p.Name, err)
		} else {
			patterns = append(patterns, p)
		}
		m.Patterns = append(m.Patterns, info)
	}
	var systems []fsmount.FS
	for _, name := range fsmount.Names() {
		if !slices.Contains(cfg.FileSystems, name) {
			continue
		}
		f, err := fsmount.Open(name, base, fsmount.WithViews(len(cols)+1),
			fsmount.WithFuseTimeouts(cfg.FuseAttrTimeout, cfg.FuseAttrTimeout, cfg.FuseAttrTimeout))
		if err != nil {
			logf("file system %s skipped: %v", name, err)
			m.FileSystems = append(m.FileSystems, fsmount.Info{Name: name, Error: err.Error()})
			continue
		}
		defer func() {
			if err := f.Close(); err != nil {
				logf("unmount %s: %v", name, err)
			}
		}()
		systems = append(systems, f)
		m.FileSystems = append(m.FileSystems, f.Info())
	}

	if err := runMatrix(ctx, cfg, cols, systems, patterns, m, logf); err != nil {
		return nil, err
	}
	if cfg.Overflow {
		logf("experiment: inotify queue overflow")
		m.Overflow = kernel.RunOverflow(ctx, cfg.kernel(), base, cols)
	}
	if cfg.ArticleLoop && ctx.Err() == nil {
		logf("experiment: the article's 1000-iteration write/remove loop")
		m.ArticleLoop = kernel.RunArticleLoop(ctx, base)
	}
	if cfg.WatchLimit && ctx.Err() == nil {
		logf("experiment: inotify watch limit in a user namespace")
		m.WatchLimit = kernel.RunWatchLimit(ctx, cfg.kernel(), base, cols)
	}
	if cfg.InstanceLimit && ctx.Err() == nil {
		logf("experiment: inotify instance limit in user namespaces, one child per column")
		m.InstanceLimit = kernel.RunInstanceLimit(ctx, cfg.kernel(), base, cols)
	}
	if cfg.Idle > 0 && ctx.Err() == nil {
		logf("experiment: idle cost, %s side by side", cfg.Idle)
		m.Idle = kernel.RunIdle(ctx, cfg.kernel(), base, cols)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	Derive(m)
	m.WallSeconds = rig.Round3(time.Since(start).Seconds())
	logf("done in %s", time.Since(start).Round(time.Second))
	return m, nil
}

// Derive recomputes the parts of m that follow from its rows, cells and
// experiments alone: the model checks, and missed_silently where an older
// matrix.json lacks it. Run calls
// it; "lab detect -render" calls it on a stored matrix.json so a change to
// the judging or the report needs no new trials.
func Derive(m *Matrix) {
	for i := range m.Cells {
		c := &m.Cells[i]
		// A matrix.json from before stale reports existed has missed
		// only: every miss there was silent.
		c.MissedSilently = c.Silent()
	}
	m.Models = checkModels(m)
}

// holdReloadSignals installs a handler for the reload signals for the
// whole run (the default action of SIGHUP and SIGUSR1 is to terminate) and
// returns the function that removes it.
func holdReloadSignals() func() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, trigger.ReloadSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// runMatrix runs every trial, cfg.Concurrency at a time, and aggregates
// each file system × pattern row as soon as its trials are in.
func runMatrix(ctx context.Context, cfg Config, cols []string, systems []fsmount.FS, patterns []writepattern.Pattern, m *Matrix, logf func(string, ...any)) error {
	if len(systems) == 0 || len(patterns) == 0 || len(cols) == 0 {
		return nil
	}
	type rowKey struct{ fs, pattern int }
	var jobs []trialJob
	var keys []rowKey
	rows := 0
	for fi, f := range systems {
		for pi, p := range patterns {
			if why := notRunReason(f.Info().Name, p); why != "" {
				m.NotRun = append(m.NotRun, NotRun{FS: f.Info().Name, Pattern: p.Name, Reason: why})
				logf("pattern %s not run on %s: %s", p.Name, f.Info().Name, why)
				continue
			}
			rows++
			for i := range cfg.Trials {
				jobs = append(jobs, trialJob{fs: f, fsName: f.Info().Name, pattern: p, index: i + 1})
				keys = append(keys, rowKey{fi, pi})
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	logf("%d cells (%d file systems × %d patterns × %d columns, %d combinations left out), %d trials each, %d at a time, deadline %s",
		rows*len(cols), len(systems), len(patterns), len(cols), len(m.NotRun), cfg.Trials, cfg.Concurrency, cfg.effectiveDeadline())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		key rowKey
		out *trialOutcome
	}
	next := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for i := range next {
				out := runTrial(ctx, cfg, cols, jobs[i])
				results <- result{keys[i], out}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range jobs {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	start := time.Now()
	pending := map[rowKey][]*trialOutcome{}
	done, rowsDone := 0, 0
	var firstErr error
	for r := range results {
		done++
		if r.out.err != nil && ctx.Err() != nil {
			if firstErr == nil {
				firstErr = ctx.Err()
			}
			continue
		}
		pending[r.key] = append(pending[r.key], r.out)
		if len(pending[r.key]) < cfg.Trials {
			continue
		}
		f, p := systems[r.key.fs], patterns[r.key.pattern]
		row, cells := aggregateRow(f.Info().Name, p, cols, pending[r.key])
		delete(pending, r.key)
		m.Rows = append(m.Rows, row)
		m.Cells = append(m.Cells, cells...)
		rowsDone++
		elapsed := time.Since(start)
		eta := time.Duration(float64(elapsed) / float64(done) * float64(len(jobs)-done))
		logf("cell %d/%d %s × %s: %s · elapsed %s · ETA %s", rowsDone, rows, row.FS, row.Pattern,
			rowSummary(row, cells), elapsed.Round(time.Second), eta.Round(time.Second))
	}
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sortResults(m, systems, patterns, cols)
	return nil
}

// rowSummary is a progress-line digest of one row.
func rowSummary(row Row, cells []Cell) string {
	var probs []string
	for _, c := range cells {
		switch {
		case c.StartFailed > 0:
			probs = append(probs, fmt.Sprintf("%s did not start", c.Column))
		case c.MissedSilently > 0:
			probs = append(probs, fmt.Sprintf("%s missed %d/%d", c.Column, c.MissedSilently, c.Trials))
		}
		if c.StaleReported > 0 {
			probs = append(probs, fmt.Sprintf("%s stale reported %d/%d", c.Column, c.StaleReported, c.Trials))
		}
		if c.Torn > 0 {
			probs = append(probs, fmt.Sprintf("%s torn %d", c.Column, c.Torn))
		}
		if c.Spurious > 0 {
			probs = append(probs, fmt.Sprintf("%s spurious %d", c.Column, c.Spurious))
		}
	}
	s := fmt.Sprintf("%d trials", row.Trials)
	if row.Errored > 0 {
		s += fmt.Sprintf(" (%d errored: %s)", row.Errored, strings.Join(row.ErrorSamples, "; "))
	}
	if len(probs) == 0 {
		return s + ", no problems"
	}
	return s + ", " + strings.Join(probs, ", ")
}

// aggregateRow turns one row's trials into its evidence row and its cells.
func aggregateRow(fsName string, p writepattern.Pattern, cols []string, outs []*trialOutcome) (Row, []Cell) {
	sort.Slice(outs, func(i, j int) bool { return outs[i].job.index < outs[j].job.index })
	row := Row{FS: fsName, Pattern: p.Name, Shape: p.Shape}
	dirT, fileT := eventTally{}, eventTally{}
	accs := map[string]*cellAcc{}
	for _, c := range cols {
		accs[c] = newCellAcc(fsName, p.Name, c, p.ChangesContent)
	}
	for _, o := range outs {
		if o.err != nil {
			row.Errored++
			row.ErrorSamples = appendCapped(row.ErrorSamples, []string{rig.PathCleaner(o.writeDir, o.watchDir)(o.err.Error())}, 3)
			continue
		}
		row.Trials++
		dir, file := splitEvents(o.events)
		dirT.addTrial(dir)
		fileT.addTrial(file)
		if len(o.events) == 0 {
			row.NoEvents++
		}
		if o.before.ok && o.after.ok {
			if o.before.mtime.Equal(o.after.mtime) && o.before.size == o.after.size {
				row.StatUnchanged++
			}
			if o.before.ino != o.after.ino {
				row.InodeChanged++
			}
			if o.after.mtime.Before(o.before.mtime) {
				row.MtimeBack++
			}
		}
		if o.watchAfter.ok && o.watchAfter.nlink == 0 {
			row.WatchNlinkZero++
		}
		if p.ChangesContent && !o.watchHasLast {
			row.WatchOld++
		}
		clean := rig.PathCleaner(append([]string{o.writeDir, o.watchDir}, o.views...)...)
		for _, c := range cols {
			accs[c].add(o, evaluate(o, c, p.ChangesContent, clean))
		}
	}
	row.DirEvents, row.FileEvents = dirT, fileT
	row.Why = rowWhy(p, row)
	var cells []Cell
	for _, c := range cols {
		acc := accs[c]
		acc.finish()
		acc.row = row
		acc.Why = acc.why(fsName)
		cells = append(cells, acc.Cell)
	}
	return row, cells
}

// sortResults puts rows and cells in presentation order.
func sortResults(m *Matrix, systems []fsmount.FS, patterns []writepattern.Pattern, cols []string) {
	fsIdx := map[string]int{}
	for i, f := range systems {
		fsIdx[f.Info().Name] = i
	}
	pIdx := map[string]int{}
	for i, p := range patterns {
		pIdx[p.Name] = i
	}
	cIdx := map[string]int{}
	for i, c := range cols {
		cIdx[c] = i
	}
	sort.SliceStable(m.Rows, func(i, j int) bool {
		a, b := m.Rows[i], m.Rows[j]
		if fsIdx[a.FS] != fsIdx[b.FS] {
			return fsIdx[a.FS] < fsIdx[b.FS]
		}
		return pIdx[a.Pattern] < pIdx[b.Pattern]
	})
	sort.SliceStable(m.Cells, func(i, j int) bool {
		a, b := m.Cells[i], m.Cells[j]
		if fsIdx[a.FS] != fsIdx[b.FS] {
			return fsIdx[a.FS] < fsIdx[b.FS]
		}
		if pIdx[a.Pattern] != pIdx[b.Pattern] {
			return pIdx[a.Pattern] < pIdx[b.Pattern]
		}
		return cIdx[a.Column] < cIdx[b.Column]
	})
}
