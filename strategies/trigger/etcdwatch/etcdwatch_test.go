package etcdwatch_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/harness/etcdcluster"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger/etcdwatch"
)

const key = "/reloadlab/test/config"

// wait polls cond until it holds or 15 s pass.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startCluster(t *testing.T, members int) (*etcdcluster.Cluster, *clientv3.Client) {
	t.Helper()
	c, err := etcdcluster.Start(context.Background(), etcdcluster.WithMembers(members), etcdcluster.WithoutFsync())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	cli, err := c.Client()
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return c, cli
}

// put puts value, retrying for up to 10 s: a put in flight on a member
// that is killed fails (it is not retried by the client, as it is not
// idempotent), and a writer retries it, as a real one must.
func put(t *testing.T, cli *clientv3.Client, value []byte) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := cli.Put(ctx, key, string(value))
		cancel()
		if err == nil {
			return resp.Header.Revision
		}
		require.True(t, time.Now().Before(deadline), "put: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

func newReloader(t *testing.T, endpoints []string, opts ...strategies.Option) (*strategies.Reloader, *etcdwatch.Watch) {
	t.Helper()
	w := etcdwatch.New(endpoints, key)
	r := strategies.NewReloader("etcd:"+key, store.NewAtomic(), w, opts...)
	return r, w
}

func TestStartFailsWithoutTheKey(t *testing.T) {
	t.Parallel()
	c, _ := startCluster(t, 1)
	r, _ := newReloader(t, c.Endpoints())
	err := r.Start()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not exist")
}

func TestStartFailsWithoutACluster(t *testing.T) {
	t.Parallel()
	w := etcdwatch.New([]string{"http://127.0.0.1:1"}, key, etcdwatch.WithDialTimeout(300*time.Millisecond))
	r := strategies.NewReloader("etcd:"+key, store.NewAtomic(), w)
	require.Error(t, r.Start())
}

// TestPipeline drives one replica through the value kinds the trigger must
// handle: each row puts (or deletes) and says what the replica must serve
// afterwards and what the run's outcome is.
func TestPipeline(t *testing.T) {
	t.Parallel()
	c, cli := startCluster(t, 1)
	put(t, cli, config.Generate(1, 50))
	r, _ := newReloader(t, c.Endpoints(), strategies.WithSizeLimit(64<<10))
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	require.EqualValues(t, 1, r.Store().Version())

	big := config.Generate(9, 5000) // over the 64 KiB limit
	require.Greater(t, len(big), 64<<10)
	rows := []struct {
		name    string
		do      func() // the change
		outcome strategies.Outcome
		serving int64
		errHas  string
	}{
		{"put applies", func() { put(t, cli, config.Generate(2, 50)) }, strategies.Applied, 2, ""},
		{"identical put is unchanged", func() { put(t, cli, config.Generate(2, 50)) }, strategies.Unchanged, 2, ""},
		{"invalid YAML is rejected", func() { put(t, cli, []byte("version: 3\nkeys: [unterminated\n")) }, strategies.Rejected, 2, ""},
		{"oversized value is rejected", func() { put(t, cli, big) }, strategies.Rejected, 2, "size limit"},
		{"delete is rejected", func() {
			_, err := cli.Delete(context.Background(), key)
			require.NoError(t, err)
		}, strategies.Rejected, 2, "deleted"},
		{"put after delete applies", func() { put(t, cli, config.Generate(4, 50)) }, strategies.Applied, 4, ""},
	}
	for _, row := range rows {
		before := r.Status(0).Events
		last := before[len(before)-1].Seq
		row.do()
		var got strategies.Event
		wait(t, row.name, func() bool {
			for _, e := range r.Status(last).Events {
				if e.Outcome == strategies.Applied || e.Outcome == strategies.Rejected || e.Outcome == strategies.Unchanged {
					got = e
					return true
				}
			}
			return false
		})
		assert.Equal(t, row.outcome, got.Outcome, row.name)
		assert.EqualValues(t, row.serving, r.Store().Version(), row.name)
		assert.Contains(t, got.Error, row.errHas, row.name)
		if row.outcome != strategies.Rejected || row.errHas == "size limit" {
			assert.Positive(t, got.Revision, "%s: the run records the revision", row.name)
		}
	}
}

// TestRevisionsInOrder puts many values quickly: the replica may skip
// (coalesce) but never applies an older revision after a newer one, and
// ends on the last.
func TestRevisionsInOrder(t *testing.T) {
	t.Parallel()
	c, cli := startCluster(t, 1)
	put(t, cli, config.Generate(1, 20))
	r, _ := newReloader(t, c.Endpoints())
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	var lastRev int64
	for v := int64(2); v <= 60; v++ {
		lastRev = put(t, cli, config.Generate(v, 20))
	}
	wait(t, "the last version", func() bool { return r.Store().Version() == 60 })
	var prev int64
	for _, e := range r.Status(0).Events {
		if e.Outcome != strategies.Applied {
			continue
		}
		assert.Greater(t, e.Revision, prev, "revisions applied in order")
		prev = e.Revision
	}
	assert.Equal(t, lastRev, prev)
}

// TestResumesAcrossRestart stops the only member, restarts it, and puts:
// the watch resumes and the put is applied.
func TestResumesAcrossRestart(t *testing.T) {
	t.Parallel()
	c, cli := startCluster(t, 1)
	put(t, cli, config.Generate(1, 20))
	r, _ := newReloader(t, c.Endpoints())
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	require.NoError(t, c.Stop(0))
	time.Sleep(300 * time.Millisecond)
	assert.EqualValues(t, 1, r.Store().Version(), "the old config keeps serving while etcd is down")
	require.NoError(t, c.Restart(context.Background(), 0))
	put(t, cli, config.Generate(2, 20))
	wait(t, "version 2 after the restart", func() bool { return r.Store().Version() == 2 })
}

// TestCompactionWhileCutOff changes the key several times and compacts the
// history while the replica cannot reach etcd (the member is restarted on
// a URL it does not know), then lets it reconnect: its watch resumes from
// a compacted revision, and it must re-read, say so, and serve the last
// value.
func TestCompactionWhileCutOff(t *testing.T) {
	t.Parallel()
	c, cli := startCluster(t, 1)
	put(t, cli, config.Generate(1, 20))
	r, w := newReloader(t, c.Endpoints())
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	require.NoError(t, c.Stop(0))
	err := c.RestartHidden(context.Background(), func(hidden *clientv3.Client) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var rev int64
		for v := 2; v <= 5; v++ {
			resp, err := hidden.Put(ctx, key, string(config.Generate(int64(v), 20)))
			if err != nil {
				return err
			}
			rev = resp.Header.Revision
		}
		_, err := hidden.Compact(ctx, rev)
		return err
	})
	require.NoError(t, err)
	wait(t, "version 5 after the compaction", func() bool { return r.Store().Version() == 5 })
	assert.Equal(t, 1, w.Stats().Compactions)
	var reasons []string
	for _, e := range r.Status(0).Events {
		reasons = append(reasons, e.Reason)
	}
	assert.True(t, strings.Contains(strings.Join(reasons, "\n"), "history compacted"), "the re-read is recorded: %q", reasons)
	// The re-read is a notice, not a trigger error: no error is recorded
	// from the moment the compaction was seen.
	var seen time.Time
	for _, e := range r.Status(0).Events {
		if strings.Contains(e.Reason, "history compacted") {
			seen = e.Detected
		}
	}
	for _, e := range r.Status(0).Events {
		if e.Outcome == strategies.TriggerError && !e.Detected.Before(seen) {
			t.Errorf("trigger error after the compaction was handled: %s", e.Error)
		}
	}
}

// TestThreeMembersOneKilled kills the member the replica's client may be
// connected to, one after another, keeping a quorum: every put is applied.
func TestThreeMembersOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-member cluster")
	}
	t.Parallel()
	c, _ := startCluster(t, 3)
	writer, err := etcdcluster.NewClient(c.Endpoints())
	require.NoError(t, err)
	defer writer.Close()
	put(t, writer, config.Generate(1, 20))
	r, _ := newReloader(t, c.Endpoints())
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	for i := range 3 {
		require.NoError(t, c.Stop(i), "stop m%d", i)
		v := int64(i + 2)
		put(t, writer, config.Generate(v, 20))
		wait(t, fmt.Sprintf("version %d with m%d down", v, i), func() bool { return r.Store().Version() == v })
		require.NoError(t, c.Restart(context.Background(), i))
	}
}

// TestMain lets this test binary run as an etcd member process when
// etcdcluster re-executes it.
func TestMain(m *testing.M) {
	etcdcluster.RunMemberIfChild()
	os.Exit(m.Run())
}
