package trigger

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZeroValuesStart starts the zero value of every trigger type: none may
// start a ticker with a zero interval (which panics in a goroutine and kills
// the process), and each must see a change with its defaults.
func TestZeroValuesStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		trigger Trigger
		fires   bool // sees a plain write within the test's patience
	}{
		{"fsnotify", &FileWatch{}, true},
		{"dirwatch", &DirWatch{}, true},
		{"poll", &Poll{}, true},
		{"pollhash", &PollHash{}, true},
		{"signal", &Signal{}, false},
		{"robust", &Robust{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte("version: 1\n"), 0o644))
			rec := newRecorder()
			w, err := tt.trigger.Start(cfg, rec)
			require.NoError(t, err)
			defer func() { assert.NoError(t, w.Close()) }()
			time.Sleep(20 * time.Millisecond) // let a poll take its first look
			require.NoError(t, os.WriteFile(cfg, []byte("version: 2 # longer\n"), 0o644))
			if tt.fires {
				rec.waitFor(t, "a notice with default intervals", func(ns []Notice, _ []error) bool { return len(ns) > 0 })
			}
			assert.Equal(t, tt.name, tt.trigger.Name())
		})
	}
}

// TestStartValidates: an empty path or a nil Sink is an error from Start,
// for every trigger, built by name or as a zero value.
func TestStartValidates(t *testing.T) {
	t.Parallel()
	zero := []Trigger{&FileWatch{}, &DirWatch{}, &Poll{}, &PollHash{}, &Signal{}, &Robust{}}
	for _, tr := range zero {
		t.Run(tr.Name(), func(t *testing.T) {
			t.Parallel()
			_, err := tr.Start("", newRecorder())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "empty config path")
			_, err = tr.Start(filepath.Join(t.TempDir(), "c.yaml"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "nil Sink")
		})
	}
}

func TestConstructorsMatchRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		built Trigger
		name  string
	}{
		{NewFileWatch(), "fsnotify"},
		{NewDirWatch(WithDebounce(time.Millisecond)), "dirwatch"},
		{NewPoll(WithPollInterval(time.Millisecond)), "poll"},
		{NewPollHash(WithPollInterval(time.Millisecond)), "pollhash"},
		{NewSignal(), "signal"},
		{NewRobust(WithSafetyInterval(time.Millisecond)), "robust"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.name, tt.built.Name())
		assert.NotEmpty(t, Describe(tt.name))
	}
	// Negative and zero settings take the defaults.
	o := resolve([]Option{WithPollInterval(-1), WithDebounce(0), WithSafetyInterval(-time.Second), nil})
	assert.Equal(t, DefaultPollInterval, o.PollInterval)
	assert.Equal(t, DefaultDebounce, o.Debounce)
	assert.Equal(t, DefaultSafetyInterval, o.SafetyInterval)
	// Signals: none for NewRobust, ReloadSignals for the registry's robust.
	assert.Empty(t, NewRobust().opts.Signals)
	byName, err := New("robust")
	require.NoError(t, err)
	assert.Equal(t, ReloadSignals, byName.(*Robust).opts.Signals)
	assert.Empty(t, NewSignal().Signals())
	assert.Equal(t, ReloadSignals, (&Signal{}).Signals())
}

// degradedRecorder is a recorder that also keeps degradation notes.
type degradedRecorder struct {
	*recorder
	mu    sync.Mutex
	notes []string
}

func (d *degradedRecorder) Degraded(note string) {
	d.mu.Lock()
	d.notes = append(d.notes, note)
	d.mu.Unlock()
	d.poke()
}

func (d *degradedRecorder) lastNote() (string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.notes) == 0 {
		return "", 0
	}
	return d.notes[len(d.notes)-1], len(d.notes)
}

// TestRobustReportsDegradation: robust without a watch says it runs on its
// safety poll, and clears the note once the watch is established.
func TestRobustReportsDegradation(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "later", "config.yaml")
	rec := &degradedRecorder{recorder: newRecorder()}
	w, err := NewRobust(WithSafetyInterval(30*time.Millisecond)).Start(cfg, rec)
	require.NoError(t, err)
	defer w.Close()
	note, n := rec.lastNote()
	require.Equal(t, 1, n)
	assert.Contains(t, note, "safety poll")
	require.NoError(t, os.Mkdir(filepath.Dir(cfg), 0o755))
	rec.waitFor(t, "the watch to be established", hasReason("watch re-established"))
	note, _ = rec.lastNote()
	if dirIDSupported {
		assert.Empty(t, note, "back to full strength")
	} else {
		assert.NotContains(t, note, "safety poll")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ns := range rec.notices {
		if strings.Contains(ns.Reason, "rescan") {
			assert.True(t, ns.Rescan, "a rescan notice is marked as one")
		}
	}
}
