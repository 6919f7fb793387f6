package kernel

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

func TestInstanceOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		facts instanceFacts
		want  string
	}{
		{"start error", instanceFacts{StartFailed: true}, OutcomeFailAtStart},
		{"start error wins over a death", instanceFacts{StartFailed: true, Died: true}, OutcomeFailAtStart},
		{"died during start", instanceFacts{Died: true}, OutcomeExit},
		{"died after serving", instanceFacts{Died: true, Applied: true}, OutcomeExit},
		{"served without a watcher", instanceFacts{Applied: true}, OutcomeFallbackPolling},
		{"served because signalled", instanceFacts{Applied: true, BySignal: true}, OutcomeServedBySignal},
		{"started, alive, not served", instanceFacts{}, OutcomeKeepServingStale},
		{"signalled but not served", instanceFacts{BySignal: true}, OutcomeKeepServingStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, instanceOutcome(tc.facts))
		})
	}
}

func TestSummarizeChanges(t *testing.T) {
	t.Parallel()
	l1, l2 := 12.5, 300.0
	row := InstanceLimitColumn{Changes: []InstanceLimitChange{
		{Pattern: "rename", Applied: true, LatencyMS: &l1, Via: "poll: mtime changed"},
		{Pattern: "inplace", Applied: true, LatencyMS: &l2, Via: "poll: mtime changed"},
	}}
	summarizeChanges(&row)
	assert.True(t, row.Applied)
	require.NotNil(t, row.LatencyMS)
	assert.Equal(t, l2, *row.LatencyMS, "the slowest change")
	assert.Equal(t, "poll: mtime changed", row.Via)

	row.Changes[1] = InstanceLimitChange{Pattern: "inplace"}
	row.LatencyMS, row.Via = nil, ""
	summarizeChanges(&row)
	assert.False(t, row.Applied, "one change not served")
	assert.Nil(t, row.LatencyMS)

	empty := InstanceLimitColumn{}
	summarizeChanges(&empty)
	assert.False(t, empty.Applied, "no change made is no change served")
}

func TestLastLine(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "exit status 1", lastLine("first\n\nexit status 1\n", 100))
	assert.Equal(t, "abc…", lastLine("abcdef", 3))
	assert.Empty(t, lastLine(" \n", 10))
}

// TestInstanceLimit runs the experiment for real: every column in its own
// child in its own user namespace with max_inotify_instances exhausted.
func TestInstanceLimit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child per column, about 10 s")
	}
	if skip := instanceLimitSkip(); skip != "" {
		t.Skip(skip)
	}
	cfg := Config{Child: testChild(), Deadline: max(3*time.Second, 3*trigger.DefaultPollInterval, 2*trigger.DefaultSafetyInterval)}
	columns := append(trigger.Names(), rig.ColViper, rig.ColKoanf)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	il := RunInstanceLimit(ctx, cfg, t.TempDir(), columns)
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
	if strings.HasPrefix(il.Error, "skipped:") {
		t.Skip(il.Error)
	}
	require.Empty(t, il.Error)
	t.Logf("host max_user_instances %d (unchanged %v), in use %d; child initial %s, set %d, created %d, %s (%s)",
		il.HostMaxUserInstances, il.HostUnchanged, il.HostInstancesInUse, il.ChildInitial, il.LimitSet, il.InstancesCreated, il.InitError, il.Errno)

	assert.True(t, il.HostUnchanged, "the host's limit is never written")
	assert.Equal(t, "EMFILE", il.Errno)
	assert.Equal(t, DefaultInstanceLimit, il.InstancesCreated)
	assert.True(t, il.LimitApplies)
	require.Len(t, il.Columns, len(columns))

	rows := map[string]InstanceLimitColumn{}
	for _, c := range il.Columns {
		rows[c.Column] = c
		lat := "-"
		if c.LatencyMS != nil {
			lat = fmt.Sprintf("%.1f ms", *c.LatencyMS)
		}
		exit := "-"
		if c.ExitCode != nil {
			exit = fmt.Sprint(*c.ExitCode)
		}
		t.Logf("%-9s %-18s applied=%-5v latency=%-8s created=%d %s start=%q errors=%q exit=%s stderr=%q via=%q err=%q",
			c.Column, c.Outcome, c.Applied, lat, c.InstancesCreated, c.Errno, c.StartError, c.Errors, exit, c.Stderr, c.Via, c.Error)
		assert.Equal(t, DefaultInstanceLimit, c.InstancesCreated, c.Column)
		assert.Equal(t, "EMFILE", c.Errno, c.Column)
	}

	for _, c := range []string{"poll", "pollhash"} {
		assert.Equal(t, OutcomeFallbackPolling, rows[c].Outcome, "%s needs no inotify", c)
		assert.True(t, rows[c].Applied, c)
		assert.Len(t, rows[c].Changes, len(instanceLimitChanges), c)
	}
	for _, c := range []string{"fsnotify", "dirwatch", rig.ColKoanf} {
		assert.False(t, rows[c].Applied, c)
		assert.Equal(t, OutcomeFailAtStart, rows[c].Outcome, c)
		assert.Contains(t, rows[c].StartError, "too many open files", c)
	}
	assert.Equal(t, OutcomeFallbackPolling, rows["robust"].Outcome, "robust runs on its safety poll")
	assert.True(t, rows["robust"].Applied)
	assert.Equal(t, OutcomeServedBySignal, rows["signal"].Outcome)

	v := rows[rig.ColViper]
	assert.Equal(t, OutcomeExit, v.Outcome, "viper v1.21.0 calls os.Exit(1) when fsnotify.NewWatcher fails")
	assert.False(t, v.Applied)
	if assert.NotNil(t, v.ExitCode) {
		assert.Equal(t, 1, *v.ExitCode)
	}
}
