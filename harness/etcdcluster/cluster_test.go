package etcdcluster

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets this test binary run as a member process.
func TestMain(m *testing.M) {
	RunMemberIfChild()
	os.Exit(m.Run())
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	return err == nil && !containsZombie(string(b))
}

func itoa(n int) string { return strconv.Itoa(n) }

func containsZombie(stat string) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return len(stat) > i+2 && stat[i+2] == 'Z'
		}
	}
	return false
}

// TestLifecycle starts a member, puts, kills it, restarts it on the same
// data (the value survives), and closes: no process and no directory left.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	c, err := Start(ctx, WithoutFsync())
	require.NoError(t, err)
	dir := c.Dir()
	cli, err := c.Client()
	require.NoError(t, err)
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = cli.Put(pctx, "k", "v1")
	cancel()
	require.NoError(t, err)

	pid := c.Members()[0].Pid()
	require.True(t, alive(pid))
	require.NoError(t, c.Stop(0))
	assert.False(t, alive(pid), "Stop kills the member process")
	require.Error(t, c.Stop(0), "a stopped member cannot be stopped again")

	require.NoError(t, c.Restart(ctx, 0))
	gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	resp, err := cli.Get(gctx, "k")
	cancel()
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, "v1", string(resp.Kvs[0].Value), "the data survive a kill")

	pid = c.Members()[0].Pid()
	require.NoError(t, c.Close())
	assert.False(t, alive(pid), "Close kills every member")
	assert.NoDirExists(t, dir, "Close removes the data directory")
	require.NoError(t, c.Close(), "Close twice is fine")
}

func TestStartRejectsNoMembers(t *testing.T) {
	_, err := Start(context.Background(), WithMembers(0))
	require.ErrorContains(t, err, "at least one")
}
