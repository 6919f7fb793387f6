package detect

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/fsmount"
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
