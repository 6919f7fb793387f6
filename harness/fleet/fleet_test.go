package fleet

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/etcdcluster"
	"github.com/reloadlab/reloadlab/strategies"
)

// TestMain lets this test binary run as an etcd member process.
func TestMain(m *testing.M) {
	etcdcluster.RunMemberIfChild()
	os.Exit(m.Run())
}

// TestQuickFleet runs the whole experiment small: three replicas, six
// updates per source, every fault. Every source must converge with
// nothing missed, torn or reordered; the faults must end with every
// replica on the last revision; the article's loop must apply nothing.
func TestQuickFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd members and target processes")
	}
	dir := t.TempDir()
	out, bin := filepath.Join(dir, "fleet"), filepath.Join(dir, "httpsvc")
	build, err := exec.Command("go", "build", "-o", bin, "github.com/reloadlab/reloadlab/targets/httpsvc").CombinedOutput()
	require.NoError(t, err, "build the target: %s", build)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sum, err := Run(ctx, Config{Quick: true, Faults: true, Out: out, TargetBinary: bin, CommandLine: "test"})
	require.NoError(t, err)
	for _, name := range []string{SummaryJSON, SummaryMD, ConvergencePNG} {
		assert.FileExists(t, filepath.Join(out, name))
	}
	loaded, err := Load(filepath.Join(out, SummaryJSON))
	require.NoError(t, err)
	require.Len(t, loaded.Series, 2*len(SourceNames()), "one replica alone, then the fleet, per source")
	for _, s := range loaded.Series {
		assert.Len(t, s.Convergence, s.Updates, "%s: every update converged", s.Source)
		assert.Zero(t, s.Missed, s.Source)
		assert.Zero(t, s.Torn, s.Source)
		assert.Zero(t, s.Reordered, s.Source)
		assert.Zero(t, s.FinalBehind, s.Source)
	}
	etcd := loaded.Find(SourceEtcd, 200)
	require.NotNil(t, etcd)
	require.NotNil(t, etcd.Article)
	assert.Zero(t, etcd.Article.Applied, "the article's loop reads the embedded file, not the put")
	assert.Positive(t, etcd.Article.Notices, "but its watch does fire")
	require.Len(t, sum.Faults, 5)
	for _, f := range loaded.Faults {
		// Skips (a later revision applied instead) are allowed under a
		// fault; ending behind or going back is not.
		assert.Zero(t, f.FinalBehind, f.Name)
		assert.Zero(t, f.Reordered, f.Name)
		assert.Zero(t, f.Torn, f.Name)
	}
	down := loaded.FindFault("etcd-down")
	require.NotNil(t, down)
	assert.True(t, down.KeptServing, "replicas keep serving while etcd is down")
	assert.Positive(t, down.Failed, "puts fail while etcd is down")
	cut := loaded.FindFault("compact-while-cut-off")
	require.NotNil(t, cut)
	assert.Equal(t, 1, cut.Compacted, "the cut-off replica resumes from a compacted revision and re-reads")
}

// TestAnalyse checks the convergence arithmetic on a made-up log: two
// replicas, two updates; replica 1 misses the second and applies a hash
// nobody wrote.
func TestAnalyse(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ups := []Update{
		{Version: 2, Start: at(0), End: at(1), Hash: "h2", Revision: 10},
		{Version: 3, Start: at(100), End: at(101), Hash: "h3", Revision: 11},
	}
	ev := func(v int64, rev int64, hash string, detected, end int) strategies.Event {
		return strategies.Event{Outcome: strategies.Applied, Version: v, Revision: rev, Hash: hash, Detected: at(detected), ApplyEnd: at(end)}
	}
	logs := [][]strategies.Event{
		{ev(2, 10, "h2", 2, 5), ev(3, 11, "h3", 102, 111)},
		{ev(2, 10, "hX", 3, 21)},
	}
	s := analyse(SourceEtcd, 10, time.Second, ups, logs)
	assert.Equal(t, []float64{21}, s.Convergence, "update 2: last apply at 21 ms, issued at 0 ms")
	assert.Equal(t, []float64{1, 1}, s.Write, "each write call took 1 ms")
	assert.Equal(t, []float64{16}, s.Skew)
	assert.Equal(t, 1, s.Missed)
	assert.Equal(t, 1, s.Torn)
	assert.Equal(t, 1, s.FinalBehind)
	assert.Zero(t, s.Reordered)
	logs[0] = append(logs[0], ev(2, 10, "h2", 120, 130))
	assert.Equal(t, 1, analyse(SourceEtcd, 10, time.Second, ups, logs).Reordered)

	// A run whose notice predates the update (coalesced) counts for
	// convergence but not for the source delay or the wait; a replica
	// with no applied run at all ends behind.
	coalesced := [][]strategies.Event{{ev(2, 10, "h2", 2, 5), ev(3, 11, "h3", 50, 140)}, {}}
	c := analyse(SourceEtcd, 10, time.Second, ups, coalesced)
	assert.Equal(t, 1, c.Coalesced)
	assert.Equal(t, []float64{2}, c.SourceDelay, "only replica 0's update 2")
	assert.Equal(t, 1, c.FinalBehind, "the replica that applied nothing")
	assert.Equal(t, 2, c.Missed)
}
