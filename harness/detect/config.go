package detect

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/detect/kernel"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Defaults of Config. Each is used when the field is zero.
const (
	// DefaultTrials is how many trials each cell runs.
	DefaultTrials = 10
	// DefaultDeadline is how long after the last write a column has to
	// serve the last version; the effective deadline is also at least 3
	// poll intervals and 2 safety intervals.
	DefaultDeadline = 3 * time.Second
	// DefaultKeys is the size of the trial configs (about 4 KiB).
	DefaultKeys = 100
	// DefaultWrites is how many successive changes a trial makes, so a
	// watch that works once and then dies shows up as a miss.
	DefaultWrites = 2
	// DefaultSettle is the pause between starting the watchers and the
	// first write, so start-up events do not count.
	DefaultSettle = 100 * time.Millisecond
	// DefaultGap is the pause between two successive writes.
	DefaultGap = 500 * time.Millisecond
	// DefaultQuiet is how long a no-change pattern (touch, chmod, noise)
	// is watched after its last write for spurious reloads.
	DefaultQuiet = 1500 * time.Millisecond
	// DefaultLinger is how long a trial keeps recording after every column
	// served the last version, to catch duplicate reloads.
	DefaultLinger = 250 * time.Millisecond
	// DefaultConcurrency is how many trials run at once (each in its own
	// directory, with its own watchers and child process).
	DefaultConcurrency = 8
	// DefaultIdle is the idle-cost measurement window.
	DefaultIdle = 10 * time.Second
	// DefaultIdleKeys is the size of the idle-cost config (about 400 KiB).
	DefaultIdleKeys = 10000
	// DefaultStartTimeout bounds how long a child process may take to
	// start its columns.
	DefaultStartTimeout = rig.DefaultStartTimeout
)

// ConfigName is the config file's name in every trial directory.
const ConfigName = rig.ConfigName

// Peer column names: the file watchers of two widely used Go config
// libraries, run as extra columns on the same trials.
const (
	ColViper = rig.ColViper
	ColKoanf = rig.ColKoanf
	// ColLibrary is the column of this repository's reload library.
	ColLibrary = rig.ColLibrary
)

// Column kinds (Column.Kind).
const (
	KindTrigger = "trigger" // one of reloadlab's triggers
	KindPeer    = "peer"    // a library's file watcher, used as its README shows
	KindLibrary = "library" // this repository's reload package, used as its README shows
)

// Column describes one column of the matrix.
type Column struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`  // KindTrigger, KindLibrary or KindPeer
	Where       string `json:"where"` // "lab process" or "child process"
	Description string `json:"description"`
}

// IsPeer reports whether c is a peer column (a library's watcher, which
// has no content-hash dedup of its own).
func (c Column) IsPeer() bool { return c.Kind == KindPeer }

// Columns returns every column in presentation order: the triggers, then
// the peers.
func Columns() []Column {
	var cols []Column
	for _, n := range trigger.Names() {
		where := "lab process"
		if n == "signal" {
			where = "child process (SIGUSR1 is process-wide)"
		}
		cols = append(cols, Column{Name: n, Kind: KindTrigger, Where: where, Description: trigger.Describe(n)})
	}
	cols = append(cols,
		Column{Name: ColLibrary, Kind: KindLibrary, Where: "lab process", Description: "package reload of this repository: reload.New(path, decode) with its default Robust trigger (the robust column's trigger code through the library's own pipeline), no signals"},
		Column{Name: ColViper, Kind: KindPeer, Where: "child process", Description: "github.com/spf13/viper v1.21.0: SetConfigFile, ReadInConfig, OnConfigChange, WatchConfig (README usage)"},
		Column{Name: ColKoanf, Kind: KindPeer, Where: "child process", Description: "github.com/knadh/koanf/v2 v2.4.1 + providers/file v1.2.1: Load, then Watch with the README's reload callback (k = koanf.New(\".\"); k.Load(f, parser))"},
	)
	return cols
}

// ColumnNames returns the names of Columns.
func ColumnNames() []string {
	var names []string
	for _, c := range Columns() {
		names = append(names, c.Name)
	}
	return names
}

// inChild reports whether a matrix column runs in the per-trial child
// process: the peers (viper cannot stop its watcher and exits the process
// when it cannot create one) and signal (SIGUSR1 is process-wide: sent to
// the lab it would also fire robust, and concurrent trials' signals would
// cross).
func inChild(name string) bool { return rig.IsPeer(name) || name == "signal" }

// Config is one detect run. The zero value of every field means its
// default; Columns, Patterns and FileSystems default to all.
type Config struct {
	Columns     []string // triggers and peers (ColumnNames)
	Patterns    []string // write patterns (writepattern.Names)
	FileSystems []string // fsmount.Names

	Trials      int
	Writes      int
	Deadline    time.Duration
	Keys        int
	Settle      time.Duration
	Gap         time.Duration
	Quiet       time.Duration
	Linger      time.Duration
	Concurrency int

	// Trigger options, as in package trigger (defaults there).
	PollInterval   time.Duration
	Debounce       time.Duration
	SafetyInterval time.Duration

	// FuseAttrTimeout is fuse-remote's attribute/entry cache timeout
	// (default fsmount.DefaultFuseAttrTimeout; negative means 0, no cache).
	FuseAttrTimeout time.Duration

	// Experiments besides the matrix.
	Overflow      bool          // the inotify queue overflow experiment
	ArticleLoop   bool          // the article's 1000-iteration write/remove loop
	WatchLimit    bool          // the watch limit experiment (needs user namespaces)
	InstanceLimit bool          // the instance limit experiment (needs user namespaces and root)
	Idle          time.Duration // idle-cost window; 0 skips it
	IdleKeys      int

	// Child starts the child process (required for signal, the peers and
	// the experiments).
	Child Child
	// BaseDir is where temporary directories go ("" for os.TempDir, or
	// /var/tmp when that is tmpfs).
	BaseDir string
	// Progress receives one line per finished cell (nil for none).
	Progress io.Writer
	// Command is recorded in the report as the command that made it.
	Command string
}

// Params are the resolved parameters of a run, as recorded in matrix.json.
type Params struct {
	Trials              int     `json:"trials"`
	Writes              int     `json:"writes"`
	Keys                int     `json:"keys"`
	DeadlineMS          float64 `json:"deadline_ms"`           // as asked
	EffectiveDeadlineMS float64 `json:"effective_deadline_ms"` // max(deadline, 3 poll intervals, 2 safety intervals)
	SettleMS            float64 `json:"settle_ms"`
	GapMS               float64 `json:"gap_ms"`
	QuietMS             float64 `json:"quiet_ms"`
	LingerMS            float64 `json:"linger_ms"`
	Concurrency         int     `json:"concurrency"`
	PollIntervalMS      float64 `json:"poll_interval_ms"`
	DebounceMS          float64 `json:"debounce_ms"`
	SafetyIntervalMS    float64 `json:"safety_interval_ms"`
	Scheme1DelayMS      float64 `json:"scheme1_delay_ms"`
	FuseAttrTimeoutMS   float64 `json:"fuse_attr_timeout_ms"`
	IdleSeconds         float64 `json:"idle_seconds"`
	IdleKeys            int     `json:"idle_keys"`
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if len(c.Columns) == 0 {
		c.Columns = ColumnNames()
	}
	if len(c.Patterns) == 0 {
		c.Patterns = writepattern.Names()
	}
	if len(c.FileSystems) == 0 {
		c.FileSystems = fsmount.Names()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Trials <= 0 {
		c.Trials = DefaultTrials
	}
	if c.Writes <= 0 {
		c.Writes = DefaultWrites
	}
	if c.Keys <= 0 {
		c.Keys = DefaultKeys
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.IdleKeys <= 0 {
		c.IdleKeys = DefaultIdleKeys
	}
	def(&c.Deadline, DefaultDeadline)
	def(&c.Settle, DefaultSettle)
	def(&c.Gap, DefaultGap)
	def(&c.Quiet, DefaultQuiet)
	def(&c.Linger, DefaultLinger)
	def(&c.PollInterval, trigger.DefaultPollInterval)
	def(&c.Debounce, trigger.DefaultDebounce)
	def(&c.SafetyInterval, trigger.DefaultSafetyInterval)
	if c.FuseAttrTimeout == 0 {
		c.FuseAttrTimeout = fsmount.DefaultFuseAttrTimeout
	} else if c.FuseAttrTimeout < 0 {
		c.FuseAttrTimeout = 0
	}
	return c
}

// effectiveDeadline is the deadline actually applied: at least 3 poll
// intervals and 2 safety intervals, so a polling trigger is never judged
// on fewer than 3 looks.
func (c Config) effectiveDeadline() time.Duration {
	return max(c.Deadline, 3*c.PollInterval, 2*c.SafetyInterval)
}

// kernel returns what the kernel experiments take from c (c with its
// defaults).
func (c Config) kernel() kernel.Config {
	return kernel.Config{
		Child:        c.Child,
		PollInterval: c.PollInterval, Debounce: c.Debounce, SafetyInterval: c.SafetyInterval,
		Deadline: c.effectiveDeadline(),
		Idle:     c.Idle, IdleKeys: c.IdleKeys,
	}
}

// params returns the resolved parameters recorded in matrix.json.
func (c Config) params() Params {
	return Params{
		Trials: c.Trials, Writes: c.Writes, Keys: c.Keys,
		DeadlineMS: rig.MS(c.Deadline), EffectiveDeadlineMS: rig.MS(c.effectiveDeadline()),
		SettleMS: rig.MS(c.Settle), GapMS: rig.MS(c.Gap), QuietMS: rig.MS(c.Quiet), LingerMS: rig.MS(c.Linger),
		Concurrency: c.Concurrency, PollIntervalMS: rig.MS(c.PollInterval), DebounceMS: rig.MS(c.Debounce),
		SafetyIntervalMS: rig.MS(c.SafetyInterval), Scheme1DelayMS: rig.MS(trigger.DefaultDelay),
		FuseAttrTimeoutMS: rig.MS(c.FuseAttrTimeout), IdleSeconds: c.Idle.Seconds(), IdleKeys: c.IdleKeys,
	}
}

// Validate checks every name in c (columns, patterns, file systems),
// returning an error that lists the valid ones, so a run fails before
// anything starts.
func (c Config) Validate() error {
	check := func(kind string, got, valid []string) error {
		for _, g := range got {
			if !slices.Contains(valid, g) {
				return fmt.Errorf("detect: unknown %s %q (valid: %s)", kind, g, strings.Join(valid, ", "))
			}
		}
		return nil
	}
	if err := check("column", c.Columns, ColumnNames()); err != nil {
		return err
	}
	if err := check("write pattern", c.Patterns, writepattern.Names()); err != nil {
		return err
	}
	if err := check("file system", c.FileSystems, fsmount.Names()); err != nil {
		return err
	}
	if c.Trials < 0 || c.Concurrency < 0 || c.Keys < 0 {
		return fmt.Errorf("detect: trials, concurrency and keys must not be negative")
	}
	return nil
}

// needsChild reports whether the run starts child processes.
func (c Config) needsChild() bool {
	if c.Overflow || c.WatchLimit || c.InstanceLimit || c.Idle > 0 {
		return true
	}
	return slices.ContainsFunc(c.Columns, inChild)
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
