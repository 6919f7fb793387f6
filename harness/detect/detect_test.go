package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/viper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"reloadlab/harness/fsmount"
	"reloadlab/strategies/config"
)

// ourTriggers are the columns whose pipeline dedups by content hash.
var ourTriggers = []string{"fsnotify", "dirwatch", "poll", "pollhash", "signal", "robust"}

// TestReducedMatrix runs a few patterns × every column on disk and tmpfs
// (tmpfs needs root and is skipped otherwise) with real watchers, real
// child processes and real file systems, and checks the verdicts, never the
// timings. Deadlines are generous: the machine may be busy.
func TestReducedMatrix(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs real trials for about 20 s")
	}
	patterns := []string{"inplace", "rename", "k8s-configmap", "copy-preserve-mtime", "touch"}
	m, err := Run(context.Background(), Config{
		Patterns:    patterns,
		FileSystems: []string{fsmount.Disk, fsmount.Tmpfs},
		Trials:      2,
		Deadline:    5 * time.Second,
		Concurrency: 6,
		Child:       testChild(),
	})
	if errors.Is(err, fsmount.ErrSkipped) {
		t.Skip(err)
	}
	require.NoError(t, err)
	for _, f := range m.FileSystems {
		if f.Error != "" {
			t.Logf("skipped %s: %s", f.Name, f.Error)
		}
	}
	require.NotEmpty(t, m.Cells)

	cell := func(fs, pattern, col string) *Cell {
		c := m.Cell(fs, pattern, col)
		require.NotNil(t, c, "%s/%s/%s", fs, pattern, col)
		return c
	}
	for _, f := range m.FileSystems {
		if f.Error != "" {
			continue
		}
		fs := f.Name
		for _, p := range patterns {
			for _, col := range ColumnNames() {
				c := cell(fs, p, col)
				assert.Equal(t, 2, c.Trials, "%s/%s/%s trials", fs, p, col)
				if slices.Contains(ourTriggers, col) {
					assert.Zero(t, c.Duplicates, "%s/%s/%s: the pipeline dedups by hash", fs, p, col)
					assert.Zero(t, c.Spurious, "%s/%s/%s: the pipeline dedups by hash", fs, p, col)
				}
			}
			// robust misses nothing and tears nothing, anywhere.
			r := cell(fs, p, "robust")
			assert.Zero(t, r.Missed, "robust missed on %s/%s: %s", fs, p, r.Why)
			assert.Zero(t, r.Torn, "robust tore on %s/%s: %s", fs, p, r.Why)
			for _, col := range []string{"dirwatch", "pollhash", "signal"} {
				c := cell(fs, p, col)
				assert.Zero(t, c.Missed, "%s missed on %s/%s: %s", col, fs, p, c.Why)
			}
			// Nothing applies when the content does not change.
			if p == "touch" {
				for _, col := range ColumnNames() {
					c := cell(fs, p, col)
					assert.Zero(t, c.Applies, "%s applied on touch (%s): %s", col, fs, c.Why)
					assert.False(t, c.Changes)
				}
			}
		}
		// Scheme 1 loses its watch when the file is replaced.
		for _, p := range []string{"rename", "k8s-configmap"} {
			c := cell(fs, p, "fsnotify")
			assert.Equal(t, c.Trials, c.Missed, "scheme 1 must miss %s on %s", p, fs)
			assert.Contains(t, c.Why, "REMOVE", "the why line quotes the events the file watch saw")
		}
		// Polling mtime+size is blind to a same-size change with the mtime
		// restored (a poll tick can, rarely, fall between the write and
		// the restore).
		c := cell(fs, "copy-preserve-mtime", "poll")
		assert.GreaterOrEqual(t, c.Missed, 1, "poll must miss copy-preserve-mtime on %s", fs)
		assert.Contains(t, c.Why, "same mtime and size")
		// The peer child process works: viper and koanf see an atomic
		// rename (one CREATE of the config name).
		for _, col := range []string{ColViper, ColKoanf} {
			c := cell(fs, "rename", col)
			assert.Zero(t, c.StartFailed, "%s did not start on %s: %v", col, fs, c.Errors)
			assert.Zero(t, c.Missed, "%s missed rename on %s: %s", col, fs, c.Why)
		}
	}

	// The reports render.
	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, m))
	assert.Contains(t, md.String(), "## disk")
	assert.Contains(t, md.String(), "**⚠ 2/2 missed**")
	require.NoError(t, WriteLatencyPlot(filepath.Join(t.TempDir(), "latency.png"), m))
	data, err := json.Marshal(m)
	require.NoError(t, err)
	var back Matrix
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, len(m.Cells), len(back.Cells))
	assert.Equal(t, Schema, back.Schema)
}

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

// TestDigestMatchesPeers checks the oracle's canonical digest against what
// viper and koanf really load from a generated config, so a peer serving a
// complete version is recognised as one.
func TestDigestMatchesPeers(t *testing.T) {
	t.Parallel()
	data := config.Generate(17, 30)
	want, err := oracleEntry(data)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), ConfigName)
	require.NoError(t, os.WriteFile(path, data, 0o644))

	v := viper.New()
	v.SetConfigFile(path)
	require.NoError(t, v.ReadInConfig())
	got := stateOfMap(v.AllSettings())
	assert.Equal(t, want.Digest, got.Digest, "viper")
	assert.Equal(t, int64(17), got.Version)
	assert.Equal(t, 30, got.Keys)

	k := koanf.New(".")
	require.NoError(t, k.Load(file.Provider(path), koanfYAML{}))
	assert.Equal(t, want.Digest, stateOfMap(k.All()).Digest, "koanf")

	var raw map[string]any
	require.NoError(t, yaml.Unmarshal(data[:len(data)/2], &raw))
	half := stateOfMap(raw)
	assert.NotEqual(t, want.Digest, half.Digest, "a prefix is not the version")
	assert.Equal(t, State{Version: -1, Keys: 0, Digest: digestOf(map[string]string{})}, stateOfMap(nil), "an empty load")
}

// TestEvaluate checks the judging of one column in one synthetic trial.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(ms int) int64 { return t0.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	v := func(n int64) written {
		w, err := oracleEntry(config.Generate(n, 5))
		require.NoError(t, err)
		return w
	}
	v1, v2, v3 := v(1), v(2), v(3)
	hash := func(w written) State { return State{Version: w.Version, Keys: w.Keys, Hash: w.Hash} }
	digest := func(w written) State { return State{Version: w.Version, Keys: w.Keys, Digest: w.Digest} }
	empty := State{Version: -1, Digest: digestOf(map[string]string{})}
	trial := func(applies ...observation) *trialOutcome {
		o := &trialOutcome{oracle: newOracle(), t0: t0, end: t0.Add(5 * time.Second), deadline: t0.Add(4 * time.Second),
			writes: []writeRec{
				{start: t0.Add(100 * time.Millisecond), end: t0.Add(110 * time.Millisecond), versions: []written{v2}},
				{start: t0.Add(600 * time.Millisecond), end: t0.Add(610 * time.Millisecond), versions: []written{v3}},
			},
			cols: map[string]*colRecord{"c": {applies: applies}}}
		for _, w := range []written{v1, v2, v3} {
			o.oracle.add(w)
		}
		return o
	}
	apply := func(ms int, s State) observation { return observation{T: at(ms), Kind: obsApply, State: s} }
	tests := []struct {
		name      string
		changes   bool
		applies   []observation
		detected  bool
		latencyMS int
		sawFirst  bool
		torn, dup int
		spurious  int
	}{
		{name: "both writes", changes: true, applies: []observation{apply(200, hash(v2)), apply(700, hash(v3))}, detected: true, latencyMS: 90, sawFirst: true},
		{name: "first only", changes: true, applies: []observation{apply(200, hash(v2))}, sawFirst: true},
		{name: "nothing", changes: true},
		{name: "after the deadline", changes: true, applies: []observation{apply(4500, hash(v3))}},
		{name: "before the write call returned", changes: true, applies: []observation{apply(605, digest(v3))}, detected: true, latencyMS: 0},
		{name: "torn then whole", changes: true, applies: []observation{apply(650, empty), apply(660, digest(v3))}, detected: true, latencyMS: 50, torn: 1},
		{name: "duplicate", changes: true, applies: []observation{apply(650, digest(v3)), apply(651, digest(v3))}, detected: true, latencyMS: 40, dup: 1},
		{name: "rejected re-read is not a duplicate", changes: true, applies: []observation{apply(650, digest(v3)), {T: at(651), Kind: obsApply, State: digest(v3), AfterError: true}}, detected: true, latencyMS: 40},
		{name: "spurious", changes: false, applies: []observation{apply(200, digest(v1))}, spurious: 1},
		{name: "torn last", changes: true, applies: []observation{apply(650, digest(v3)), apply(700, empty)}, torn: 1},
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

func TestCellText(t *testing.T) {
	t.Parallel()
	p := func(f float64) *float64 { return &f }
	tests := []struct {
		c    Cell
		want string
	}{
		{Cell{Changes: true, Trials: 10, P50MS: p(3), P99MS: p(12)}, "0/10 missed · p50 3.0 ms · p99 12 ms"},
		{Cell{Changes: true, Trials: 10, Missed: 10}, "**⚠ 10/10 missed**"},
		{Cell{Changes: true, Trials: 10, Missed: 2, P50MS: p(0.01), P99MS: p(1), Torn: 1, Rejected: 3}, "**⚠ 2/10 missed** · p50 <0.1 ms · **⚠ 1 torn** · 3 rejected"},
		{Cell{Trials: 10}, "no reload"},
		{Cell{Trials: 10, Spurious: 4}, "**⚠ 4 spurious**"},
		{Cell{Changes: true, Trials: 3, StartFailed: 3, Missed: 3}, "**⚠ did not start**"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cellText(&tt.c))
	}
	assert.False(t, strings.Contains(mdCell("a|b\nc"), "\n"))
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

// TestArticleLoop runs the article's stress loop: as written, the watch on
// the file ends at the first Remove, and no variant can overflow the queue
// with 1000 iterations when the limit is the usual 16384.
func TestArticleLoop(t *testing.T) {
	t.Parallel()
	al := runArticleLoop(context.Background(), t.TempDir())
	require.Empty(t, al.Error)
	require.Len(t, al.Runs, 3)
	for _, r := range al.Runs {
		t.Logf("%s: %d events %v, overflow %v, watches left %d", r.Name, r.Events, r.ByOp, r.Overflow, r.WatchesLeft)
	}
	asWritten := al.Runs[0]
	assert.Zero(t, asWritten.WatchesLeft, "the watch on the file is gone after the first Remove")
	assert.Less(t, asWritten.Events, 10, "only the first iteration's events reach a watch on the file")
	dir := al.Runs[2]
	assert.Equal(t, 1, dir.WatchesLeft, "a directory watch survives the loop")
	assert.GreaterOrEqual(t, dir.Events, 2*ArticleLoopIterations, "the directory watch sees every create and remove")
	if al.MaxQueuedEvents >= 4*ArticleLoopIterations {
		for _, r := range al.Runs {
			assert.False(t, r.Overflow, "%s: 1000 iterations cannot fill a %d-event queue", r.Name, al.MaxQueuedEvents)
		}
	}
}
