package detect

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/config"
)

func TestValidateListsValidNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"column", Config{Columns: []string{"inotifywait"}}, ColumnNames()},
		{"pattern", Config{Patterns: []string{"emacs"}}, []string{"inplace", "vim-real"}},
		{"file system", Config{FileSystems: []string{"nfs"}}, fsmount.Names()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			_, err = Run(context.Background(), tt.cfg)
			assert.Error(t, err, "Run checks names before anything starts")
		})
	}
	assert.NoError(t, Config{Columns: []string{"robust", ColViper}}.Validate())
}

// TestEvaluate checks the judging of one column in one synthetic trial.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(ms int) int64 { return t0.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	v := func(n int64) rig.Written {
		w, err := rig.OracleEntry(config.Generate(n, 5))
		require.NoError(t, err)
		return w
	}
	v1, v2, v3 := v(1), v(2), v(3)
	hash := func(w rig.Written) State { return State{Version: w.Version, Keys: w.Keys, Hash: w.Hash} }
	digest := func(w rig.Written) State { return State{Version: w.Version, Keys: w.Keys, Digest: w.Digest} }
	empty := State{Version: -1, Digest: rig.Digest(map[string]string{})}
	trial := func(applies ...rig.Observation) *trialOutcome {
		o := &trialOutcome{oracle: rig.NewOracle(), t0: t0, end: t0.Add(5 * time.Second), deadline: t0.Add(4 * time.Second),
			writes: []writeRec{
				{start: t0.Add(100 * time.Millisecond), end: t0.Add(110 * time.Millisecond), versions: []rig.Written{v2}},
				{start: t0.Add(600 * time.Millisecond), end: t0.Add(610 * time.Millisecond), versions: []rig.Written{v3}},
			},
			cols: map[string]*colRecord{"c": {applies: applies}}}
		for _, w := range []rig.Written{v1, v2, v3} {
			o.oracle.Add(w)
		}
		return o
	}
	apply := func(ms int, s State) rig.Observation { return rig.Observation{T: at(ms), Kind: rig.ObsApply, State: s} }
	tests := []struct {
		name      string
		changes   bool
		applies   []rig.Observation
		detected  bool
		latencyMS int
		sawFirst  bool
		torn, dup int
		spurious  int
	}{
		{name: "both writes", changes: true, applies: []rig.Observation{apply(200, hash(v2)), apply(700, hash(v3))}, detected: true, latencyMS: 90, sawFirst: true},
		{name: "first only", changes: true, applies: []rig.Observation{apply(200, hash(v2))}, sawFirst: true},
		{name: "nothing", changes: true},
		{name: "after the deadline", changes: true, applies: []rig.Observation{apply(4500, hash(v3))}},
		{name: "before the write call returned", changes: true, applies: []rig.Observation{apply(605, digest(v3))}, detected: true, latencyMS: 0},
		{name: "torn then whole", changes: true, applies: []rig.Observation{apply(650, empty), apply(660, digest(v3))}, detected: true, latencyMS: 50, torn: 1},
		{name: "duplicate", changes: true, applies: []rig.Observation{apply(650, digest(v3)), apply(651, digest(v3))}, detected: true, latencyMS: 40, dup: 1},
		{name: "rejected re-read is not a duplicate", changes: true, applies: []rig.Observation{apply(650, digest(v3)), {T: at(651), Kind: rig.ObsApply, State: digest(v3), AfterError: true}}, detected: true, latencyMS: 40},
		{name: "spurious", changes: false, applies: []rig.Observation{apply(200, digest(v1))}, spurious: 1},
		{name: "torn last", changes: true, applies: []rig.Observation{apply(650, digest(v3)), apply(700, empty)}, torn: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evaluate(trial(tt.applies...), "c", tt.changes, func(s string) string { return s })
			assert.Equal(t, tt.detected, got.detected, "detected")
			if tt.detected {
				assert.Equal(t, time.Duration(tt.latencyMS)*time.Millisecond, got.latency, "latency")
			}
			assert.Equal(t, tt.sawFirst, got.sawFirst, "saw the first write")
			assert.Equal(t, tt.torn, got.torn, "torn")
			assert.Equal(t, tt.dup, got.duplicates, "duplicates")
			assert.Equal(t, tt.spurious, got.spurious, "spurious")
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		in       []time.Duration
		p        float64
		want     time.Duration
		describe string
	}{
		{ms(5), 50, 5 * time.Millisecond, "one sample"},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5500 * time.Microsecond, "p50 of 10: the mean of the middle two (type 7)"},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 99, 9910 * time.Microsecond, "p99 of 10 interpolates between the two largest"},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 100, 10 * time.Millisecond, "p100 is the largest"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, percentile(tt.in, tt.p), tt.describe)
	}
}

func TestNormName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"..2026_11_25_07_45_01.3735928559": "..<timestamp>",
		"sedAb12Cd":                        "sed<tmp>",
		"config.yaml":                      "config.yaml",
		"..data":                           "..data",
	} {
		assert.Equal(t, want, normName(in), in)
	}
}

// TestCheckModels compares a real tool's row with its model's: the events
// on the config file and the verdicts, with trial-to-trial noise ignored.
func TestCheckModels(t *testing.T) {
	t.Parallel()
	m := &Matrix{
		Columns:     []Column{{Name: "fsnotify"}, {Name: ColKoanf}},
		FileSystems: []fsmount.Info{{Name: fsmount.Disk}},
		Rows: []Row{
			{FS: fsmount.Disk, Pattern: "tar-real", DirEvents: map[string]int{"REMOVE config.yaml": 10, "CREATE config.yaml": 10, "CREATE noise": 1}},
			{FS: fsmount.Disk, Pattern: "copy-preserve-mtime", DirEvents: map[string]int{"WRITE config.yaml": 10}},
			{FS: fsmount.Disk, Pattern: "cp-real", DirEvents: map[string]int{"WRITE config.yaml": 10}},
			{FS: fsmount.Disk, Pattern: "inplace", DirEvents: map[string]int{"WRITE config.yaml": 9}},
		},
		Cells: []Cell{
			{FS: fsmount.Disk, Pattern: "tar-real", Column: "fsnotify", Trials: 10, Missed: 10},
			{FS: fsmount.Disk, Pattern: "copy-preserve-mtime", Column: "fsnotify", Trials: 10},
			{FS: fsmount.Disk, Pattern: "cp-real", Column: ColKoanf, Trials: 10, Torn: 1},
			{FS: fsmount.Disk, Pattern: "inplace", Column: ColKoanf, Trials: 10},
		},
	}
	got := checkModels(m)
	require.Len(t, got, 2)
	tar, cp := got[1], got[0]
	assert.Equal(t, "cp-real", cp.Real)
	assert.True(t, cp.Agrees, "a torn count of 1 against 0 is noise: %+v", cp)
	assert.Equal(t, "tar-real", tar.Real)
	assert.False(t, tar.Agrees)
	assert.Equal(t, "dir: CREATE config.yaml, REMOVE config.yaml; file: none", tar.RealEvents)
	require.Len(t, tar.Differ, 1)
	assert.Contains(t, tar.Differ[0], "fsnotify (missed 10/10 with the tool, 0/10 with the model)")
}

// TestOutcome checks the classification of a change-pattern trial for one
// column: served, stale reported (not served, but a stale report between
// the start of the trial and the deadline), or missed silently.
func TestOutcome(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(ms int) int64 { return t0.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	v1, err := rig.OracleEntry(config.Generate(1, 5))
	require.NoError(t, err)
	v2, err := rig.OracleEntry(config.Generate(2, 5))
	require.NoError(t, err)
	apply := rig.Observation{T: at(200), Kind: rig.ObsApply, State: State{Version: 2, Keys: 5, Hash: v2.Hash}}
	stale := func(ms int) rig.Observation {
		return rig.Observation{T: at(ms), Kind: rig.ObsStale, Msg: "<dir>/config.yaml: st_nlink 0"}
	}
	tests := []struct {
		name       string
		applies    []rig.Observation
		stale      []rig.Observation
		want       outcome
		staleAfter time.Duration
	}{
		{name: "served", applies: []rig.Observation{apply}, want: served},
		{name: "served, with a stale report", applies: []rig.Observation{apply}, stale: []rig.Observation{stale(150)}, want: served, staleAfter: 40 * time.Millisecond},
		{name: "nothing said", want: missedSilently},
		{name: "stale reported", stale: []rig.Observation{stale(300), stale(900)}, want: staleReported, staleAfter: 190 * time.Millisecond},
		{name: "stale reported before the write returned", stale: []rig.Observation{stale(105)}, want: staleReported},
		{name: "stale after the deadline", stale: []rig.Observation{stale(4500)}, want: missedSilently},
		{name: "stale before the trial", stale: []rig.Observation{stale(-50)}, want: missedSilently},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &trialOutcome{oracle: rig.NewOracle(), t0: t0, end: t0.Add(5 * time.Second), deadline: t0.Add(4 * time.Second),
				writes: []writeRec{{start: t0.Add(100 * time.Millisecond), end: t0.Add(110 * time.Millisecond), versions: []rig.Written{v2}}},
				cols:   map[string]*colRecord{"robust": {applies: tt.applies, stale: tt.stale}}}
			o.oracle.Add(v1)
			o.oracle.Add(v2)
			v := evaluate(o, "robust", true, func(s string) string { return s })
			assert.Equal(t, tt.want, v.outcome(), "%s", v.outcome())
			if tt.want == staleReported || len(tt.stale) > 0 && tt.want == served {
				assert.Equal(t, tt.staleAfter, v.staleAfter)
				assert.Equal(t, []string{"<dir>/config.yaml: st_nlink 0"}, v.staleMsgs, "one message, said twice")
			}
		})
	}
}

// TestCellStaleCounts folds trials of each outcome into a cell: Missed is
// MissedSilently + StaleReported, only silent misses are a problem, and
// the why line says what the column reported.
func TestCellStaleCounts(t *testing.T) {
	t.Parallel()
	o := &trialOutcome{job: trialJob{index: 1}}
	acc := newCellAcc("disk", "bindmount-file-rename", "robust", true)
	acc.add(o, colVerdict{stale: true, staleAfter: 2 * time.Millisecond, staleMsgs: []string{"replaced (st_nlink 0)"}})
	acc.add(o, colVerdict{stale: true, staleAfter: 4 * time.Millisecond, staleMsgs: []string{"replaced (st_nlink 0)"}})
	c := acc.finish()
	assert.Equal(t, 2, c.Missed)
	assert.Equal(t, 2, c.StaleReported)
	assert.Zero(t, c.MissedSilently)
	assert.Equal(t, []float64{2, 4}, c.StaleReportMS)
	require.NotNil(t, c.StaleP50MS)
	assert.Equal(t, 3.0, *c.StaleP50MS)
	assert.Equal(t, []string{"replaced (st_nlink 0)"}, c.StaleReasons)
	assert.False(t, c.Problem, "a stale report is not a problem of the column")
	assert.Contains(t, acc.why("disk"), `reported stale in 2/2 trials, the first report 3.0 ms after the first write (p50): "replaced (st_nlink 0)"`)

	acc.add(o, colVerdict{})
	acc.add(o, colVerdict{detected: true, latency: time.Millisecond, stale: true})
	c = acc.finish()
	assert.Equal(t, 3, c.Missed)
	assert.Equal(t, 1, c.MissedSilently)
	assert.Equal(t, 1, c.StaleAlarms)
	assert.Equal(t, c.Missed, c.MissedSilently+c.StaleReported)
	assert.True(t, c.Problem, "a silent miss is")
	assert.Equal(t, 1, c.Silent())

	old := Cell{Missed: 3}
	assert.Equal(t, 3, old.Silent(), "a cell from before stale reports: every miss was silent")
	m := &Matrix{Cells: []Cell{old}}
	Derive(m)
	assert.Equal(t, 3, m.Cells[0].MissedSilently)
}

// TestRowWhy checks that every deployment shape has a row why line that
// quotes its evidence, and that other patterns have none.
func TestRowWhy(t *testing.T) {
	t.Parallel()
	row := Row{FS: fsmount.Overlay, Trials: 10, WatchOld: 10, WatchNlinkZero: 0, DirEvents: map[string]int{}, FileEvents: map[string]int{"CHMOD config.yaml": 10}}
	for _, p := range writepattern.All() {
		got := rowWhy(p, row)
		switch p.Name {
		case "bindmount-file-rename", "bindmount-file-inplace", "subpath", "bindmount-dir-rename", "bindmount-dir-inplace", "release-symlink", "git-checkout", "older-mtime":
			assert.NotEmpty(t, got, p.Name)
			assert.Contains(t, got, "the file-path watch", p.Name)
		default:
			assert.Empty(t, got, p.Name)
		}
	}
	p, err := writepattern.Lookup("bindmount-file-rename")
	require.NoError(t, err)
	got := rowWhy(p, row)
	assert.Contains(t, got, "still read an older version at the end in 10/10 trials, and stat(2) of it reported st_nlink 0 in 0/10")
	assert.Contains(t, got, "lower layer's link count", "overlay says why st_nlink is not 0")
	assert.Empty(t, rowWhy(p, Row{}), "no trials, no why")
}

// TestNotRun checks which combinations a run leaves out: the mount shapes
// on fuse-remote only.
func TestNotRun(t *testing.T) {
	t.Parallel()
	for _, p := range writepattern.All() {
		for _, fs := range fsmount.Names() {
			got := notRunReason(fs, p)
			if fs == fsmount.FuseRemote && p.Mounts {
				assert.NotEmpty(t, got, "%s on %s", p.Name, fs)
			} else {
				assert.Empty(t, got, "%s on %s", p.Name, fs)
			}
		}
	}
}
