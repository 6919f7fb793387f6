package detect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/detect/detectmd"
	"github.com/reloadlab/reloadlab/harness/fsmount"
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
	m, err := detect.Run(context.Background(), detect.Config{
		Patterns:    patterns,
		FileSystems: []string{fsmount.Disk, fsmount.Tmpfs},
		Trials:      2,
		Deadline:    5 * time.Second,
		Concurrency: 6,
		Child:       detect.ChildForTests(),
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

	cell := func(fs, pattern, col string) *detect.Cell {
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
			for _, col := range detect.ColumnNames() {
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
				for _, col := range detect.ColumnNames() {
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
		for _, col := range []string{detect.ColViper, detect.ColKoanf} {
			c := cell(fs, "rename", col)
			assert.Zero(t, c.StartFailed, "%s did not start on %s: %v", col, fs, c.Errors)
			assert.Zero(t, c.Missed, "%s missed rename on %s: %s", col, fs, c.Why)
		}
	}

	// The reports render.
	var md bytes.Buffer
	require.NoError(t, detectmd.WriteMarkdown(&md, m))
	assert.Contains(t, md.String(), "## disk")
	assert.Contains(t, md.String(), "**⚠ 2/2 missed**")
	require.NoError(t, detectmd.WriteLatencyPlot(filepath.Join(t.TempDir(), "latency.png"), m))
	data, err := json.Marshal(m)
	require.NoError(t, err)
	var back detect.Matrix
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, len(m.Cells), len(back.Cells))
	assert.Equal(t, detect.Schema, back.Schema)
}
