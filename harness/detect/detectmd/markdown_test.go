package detectmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/fsmount"
)

func TestCellText(t *testing.T) {
	t.Parallel()
	p := func(f float64) *float64 { return &f }
	tests := []struct {
		c    detect.Cell
		want string
	}{
		{detect.Cell{Changes: true, Trials: 10, P50MS: p(3), P99MS: p(12)}, "0/10 missed · p50 3.0 ms · p99 12 ms"},
		{detect.Cell{Changes: true, Trials: 10, Missed: 10}, "**⚠ 10/10 missed**"},
		{detect.Cell{Changes: true, Trials: 10, Missed: 2, P50MS: p(0.01), P99MS: p(1), Torn: 1, Rejected: 3}, "**⚠ 2/10 missed** · p50 <0.1 ms · **⚠ 1 torn** · 3 rejected"},
		{detect.Cell{Trials: 10}, "no reload"},
		{detect.Cell{Trials: 10, Spurious: 4}, "**⚠ 4 spurious**"},
		{detect.Cell{Changes: true, Trials: 3, StartFailed: 3, Missed: 3}, "**⚠ did not start**"},
		{detect.Cell{Changes: true, Trials: 10, Missed: 10, StaleReported: 10, StaleP50MS: p(12)}, "0/10 missed · 10 stale reported (p50 12 ms)"},
		{detect.Cell{Changes: true, Trials: 10, Missed: 10, MissedSilently: 3, StaleReported: 7}, "**⚠ 3/10 missed** · 7 stale reported"},
		{detect.Cell{Changes: true, Trials: 10, P50MS: p(3), P99MS: p(12), StaleAlarms: 1}, "0/10 missed · p50 3.0 ms · p99 12 ms · 1 stale alarms"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cellText(&tt.c))
	}
}

// TestTables renders a small synthetic matrix and checks the tables: one
// grid per file system, a why line per problem cell, the wasted-read
// table (peers have no dedup), the witness events with a "|" escaped, and
// the experiments.
func TestTables(t *testing.T) {
	t.Parallel()
	p := func(f float64) *float64 { return &f }
	exit := 1
	m := &detect.Matrix{
		Columns:     []detect.Column{{Name: "robust", Kind: detect.KindTrigger}, {Name: detect.ColViper, Kind: detect.KindPeer}},
		Patterns:    []detect.PatternInfo{{Name: "rename", Models: "mv | atomic", ChangesContent: true}},
		FileSystems: []fsmount.Info{{Name: fsmount.Disk, Type: "ext4", Note: "the local disk", Setup: "none"}},
		Rows: []detect.Row{{FS: fsmount.Disk, Pattern: "rename", Trials: 10,
			DirEvents: map[string]int{"CREATE config.yaml": 10, "CHMOD|WRITE x": 3}}},
		Cells: []detect.Cell{
			{FS: fsmount.Disk, Pattern: "rename", Column: "robust", Changes: true, Trials: 10, P50MS: p(3), P99MS: p(12), WastedReads: 4},
			{FS: fsmount.Disk, Pattern: "rename", Column: detect.ColViper, Changes: true, Trials: 10, Missed: 2, P50MS: p(5), Rejected: 1, Why: "it lost the watch", Problem: true},
		},
		InstanceLimit: &detect.InstanceLimit{HostMaxUserInstances: 128, LimitSet: 4, LimitApplies: true, Columns: []detect.InstanceLimitColumn{
			{Column: detect.ColViper, Outcome: detect.OutcomeExit, InstancesCreated: 4, Errno: "EMFILE", ExitCode: &exit},
			{Column: "poll", Outcome: detect.OutcomeFallbackPolling, InstancesCreated: 4, Errno: "EMFILE", Applied: true,
				Changes: []detect.InstanceLimitChange{{Pattern: "rename", Applied: true, LatencyMS: p(120), Via: "poll"}}},
		}},
		Idle: &detect.Idle{Rows: []detect.IdleRow{{Column: "robust", CPUSecPerMin: 0.01}, {Column: detect.ColViper, Error: "no measurement"}}},
	}
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, m))
	md := b.String()
	for _, want := range []string{
		"| pattern | robust | viper |\n|---|---|---|\n| rename | 0/10 missed · p50 3.0 ms · p99 12 ms | **⚠ 2/10 missed** · p50 5.0 ms · 1 rejected |\n",
		"- **viper × rename**: it lost the watch.\n",
		"| rename | mv \\| atomic |\n",
		"| file system | robust | viper |\n|---|---|---|\n| disk | 4 / 0 | — / 1 |\n",
		"| disk | rename | CREATE config.yaml, CHMOD\\|WRITE x (3) | none |  |\n",
		"## Instance limit",
		"| viper | **⚠ exit** | 4 (EMFILE) | process exited with status 1 |  | **⚠ no** (no change could be served) |\n",
		"| poll | fallback-polling | 4 (EMFILE) | started |  | rename: yes, after 120 ms (poll) |\n",
		"| viper | error: no measurement |  |\n",
	} {
		assert.Contains(t, md, want)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") {
			assert.True(t, strings.HasSuffix(line, "|"), "a table line ends its last cell: %q", line)
		}
	}
}

// TestShapeSection renders a deployment shape's row: its why line once,
// then each column's part; the combinations left out; the summary with
// stale reports apart from silent misses.
func TestShapeSection(t *testing.T) {
	t.Parallel()
	p := func(f float64) *float64 { return &f }
	rowWhy := "the host renamed a new file over host/config.yaml; the mount pins the old inode"
	m := &detect.Matrix{
		Columns:     []detect.Column{{Name: "robust", Kind: detect.KindTrigger}, {Name: detect.ColViper, Kind: detect.KindPeer}},
		Patterns:    []detect.PatternInfo{{Name: "bindmount-file-rename", Models: "docker -v file:file", ChangesContent: true, Shape: "a file bind mount", CannotFollow: "pinned"}},
		FileSystems: []fsmount.Info{{Name: fsmount.Disk, Type: "ext4", Note: "the local disk", Setup: "none"}, {Name: fsmount.FuseRemote, Type: "fuse", Note: "fuse", Setup: "none"}},
		NotRun:      []detect.NotRun{{FS: fsmount.FuseRemote, Pattern: "bindmount-file-rename", Reason: "it would repeat disk"}},
		Rows:        []detect.Row{{FS: fsmount.Disk, Pattern: "bindmount-file-rename", Trials: 10, WatchNlinkZero: 10, WatchOld: 10, Why: rowWhy}},
		Cells: []detect.Cell{
			{FS: fsmount.Disk, Pattern: "bindmount-file-rename", Column: "robust", Changes: true, Trials: 10, Missed: 10, StaleReported: 10, StaleP50MS: p(1), Why: rowWhy + "; reported stale in 10/10 trials"},
			{FS: fsmount.Disk, Pattern: "bindmount-file-rename", Column: detect.ColViper, Changes: true, Trials: 10, Missed: 10, MissedSilently: 10, Problem: true, Why: rowWhy + "; missed silently in 10/10 trials"},
		},
	}
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, m))
	md := b.String()
	for _, want := range []string{
		"| bindmount-file-rename | 0/10 missed · 10 stale reported (p50 1.0 ms) | **⚠ 10/10 missed** |\n",
		"- **bindmount-file-rename**: " + rowWhy + ".\n  - `robust`: reported stale in 10/10 trials.\n  - `viper`: missed silently in 10/10 trials.\n",
		"Not run on fuse-remote: `bindmount-file-rename` (it would repeat disk).",
		"`robust`: no silent miss, no torn read, no spurious or duplicate reload in 1 cells; reported stale (could not follow, said so) in 1 of 1 cells (disk/bindmount-file-rename 10/10).",
		"`viper`: missed silently in 1 of 1 cells (disk/bindmount-file-rename 10/10).",
		"| bindmount-file-rename | docker -v file:file. Shape: a file bind mount. Cannot be followed: pinned |",
		"watched path st_nlink 0 10/10, watched path still old at the end 10/10",
	} {
		assert.Contains(t, md, want)
	}
	assert.NotContains(t, md, "**robust × bindmount-file-rename**", "a shape's cells are under its row line, not in the problem list")
}
