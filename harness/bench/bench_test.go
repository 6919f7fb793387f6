package bench

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/tools"
	"github.com/reloadlab/reloadlab/strategies"
)

// moduleRoot changes to the module root (bench.Run builds ./targets/httpsvc
// relative to the working directory) for the rest of the test binary.
func moduleRoot(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(filepath.Dir(strings.TrimSpace(string(out)))))
}

func TestResolveRejectsBadNamesFirst(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Strategy: "nope"}, "valid: atomic, lockmap"},
		{Config{Store: "btree"}, "valid: lockmap, lockswap"},
		{Config{Trigger: "kqueue"}, "valid: fsnotify, dirwatch"},
		{Config{Pattern: "emacs"}, "valid: inplace"},
		{Config{Pattern: "touch"}, "does not change the content"},
		{Config{ReloadEvery: time.Millisecond}, "below 10ms"},
		{Config{Duration: time.Second}, "too short"},
		{Config{Mix: []string{"reload", "touch"}}, `unknown shot kind "touch"`},
		{Config{Mix: []string{"identical"}}, "at least one reload"},
		{Config{Utilization: 2}, "utilization 2 is outside"},
		{Config{ReloadBurn: -time.Millisecond}, "must not be negative"},
		{Config{TargetCPUs: []int{1}}, "or neither"},
		{Config{TargetCPUs: []int{0}, LoadCPUs: []int{4096}}, "CPU 4096 does not exist"},
	}
	for _, tt := range tests {
		_, err := resolve(tt.cfg)
		require.Error(t, err, "%+v", tt.cfg)
		assert.Contains(t, err.Error(), tt.want)
	}
	r, err := resolve(Config{Strategy: "lockmap", Trigger: "poll"})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("results", "lockmap+poll"), r.Out)
	assert.Equal(t, DefaultKeys, r.Keys)
	require.Len(t, r.phases, 5)
	assert.Equal(t, DefaultWork, r.Work)
	assert.Equal(t, DefaultMix, r.Mix)
	assert.Equal(t, DefaultMix, r.phases[1].Mix, "the throughput phase carries the controls")
	var total time.Duration
	for _, p := range r.phases {
		total += p.Duration
	}
	assert.InDelta(t, float64(DefaultDuration), float64(total), float64(time.Second))
}

// TestQuickBenchEveryPreset runs a quick bench of every preset and checks
// that every output exists and that the tools users open them with accept
// them: vegeta report, go tool trace, go tool pprof, benchstat.
func TestQuickBenchEveryPreset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the target under load for every preset")
	}
	moduleRoot(t)
	out := t.TempDir()
	for _, preset := range strategies.Names() {
		t.Run(preset, func(t *testing.T) {
			dir := filepath.Join(out, preset)
			rep, err := Run(context.Background(), Config{Strategy: preset, Quick: true, Keys: 1000, Out: dir, Log: testLog{t}, CommandLine: "test"})
			require.NoError(t, err)
			assert.Equal(t, dir, rep.Dir)
			checkOutputs(t, dir)

			var s Summary
			data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &s))
			assert.Equal(t, preset, s.Strategy)
			assert.Positive(t, s.Results.Throughput.CapacityRPS)
			assert.Positive(t, s.Results.Reloads.Applied, "reloads must be applied during the run")
			assert.Zero(t, s.Results.Reloads.Rejected, "controls rejected on purpose are not rejections")
			assert.Positive(t, s.Results.Reloads.Controls["reject"]+s.Results.Reloads.Controls["identical"], "the throughput phase writes controls beside its reloads")
			require.NotNil(t, s.Results.Throughput.Kind("reload"), "the dip of reloads is estimated")
			assert.Equal(t, 1, s.GOMAXPROCS)
			assert.False(t, s.SharedCPUs)
			assert.Positive(t, s.Goroutines.Profiles, "the goroutines phase takes goroutine profiles")
			assert.InDelta(t, float64(DefaultWork), float64(s.RequestWork), float64(DefaultWork)/10)
			if s.ConsistentView {
				assert.Zero(t, s.TargetTorn, "a consistent view never tears")
			}
		})
	}
}

func checkOutputs(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"plan.json", "attack.bin", "reloads.jsonl", "metrics.jsonl", "writes.jsonl", "goroutines.jsonl",
		"cpu.pprof", "heap.pprof", "block.pprof", "mutex.pprof", "goroutine.pprof",
		"summary.json", "summary.md", "bench.txt", "latency.png", "throughput.png", "gc-pauses.png", "blocked-goroutines.png"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, "missing %s", f)
		assert.Positive(t, fi.Size(), "%s is empty", f)
	}
	ctx := context.Background()
	rep, err := tools.Tool(ctx, "vegeta", "report", filepath.Join(dir, "attack.bin"))
	require.NoError(t, err)
	assert.Contains(t, string(rep), "Requests")
	assert.Contains(t, string(rep), "Success")

	traces, err := filepath.Glob(filepath.Join(dir, "trace-reload-*.out"))
	require.NoError(t, err)
	require.NotEmpty(t, traces, "the diagnosis phase must capture at least one reload")
	goBin, err := tools.Go()
	require.NoError(t, err)
	for _, tr := range traces {
		out, err := exec.Command(goBin, "tool", "trace", "-d=parsed", tr).CombinedOutput()
		require.NoError(t, err, "go tool trace -d=parsed %s: %s", tr, tail(out))
	}
	for _, p := range []string{"cpu", "heap", "block", "mutex", "goroutine"} {
		out, err := exec.Command(goBin, "tool", "pprof", "-top", filepath.Join(dir, p+".pprof")).CombinedOutput()
		require.NoError(t, err, "go tool pprof -top %s.pprof: %s", p, tail(out))
	}
	bs, err := tools.Benchstat(ctx, filepath.Join(dir, "bench.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(bs), "capacity-req/s")
	assert.Contains(t, string(bs), "qps-dip-pp")
	for _, png := range []string{"latency.png", "throughput.png", "gc-pauses.png", "blocked-goroutines.png"} {
		checkPNG(t, filepath.Join(dir, png))
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "**Verdict:**")
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, err, path)
	assert.Greater(t, cfg.Width, 300, path)
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestInterruptedRunKeepsPreviousResults cancels a run midway: the previous
// results stay as they were, no staging directory is left, and the target
// is gone.
func TestInterruptedRunKeepsPreviousResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the target")
	}
	moduleRoot(t)
	dir := filepath.Join(t.TempDir(), "atomic")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.md"), []byte("previous"), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Config{Quick: true, Duration: 30 * time.Second, Keys: 500, Out: dir, Log: testLog{t}})
		errc <- err
	}()
	pid := waitForChild(t, "httpsvc")
	time.Sleep(2 * time.Second)
	cancel()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	got, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	assert.Equal(t, "previous", string(got))
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no staging directory left behind")
	assert.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 10*time.Second, 50*time.Millisecond, "the target must be gone")
}

// TestTargetDeathStopsTheRun kills the target mid-run: Run must stop with
// an error that carries the target's last stderr lines.
func TestTargetDeathStopsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the target")
	}
	moduleRoot(t)
	dir := filepath.Join(t.TempDir(), "lockmap")
	errc := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), Config{Strategy: "lockmap", Quick: true, Duration: 30 * time.Second, Keys: 500, Out: dir, Log: testLog{t}})
		errc <- err
	}()
	pid := waitForChild(t, "httpsvc")
	time.Sleep(2 * time.Second)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	select {
	case err := <-errc:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "target died")
		assert.Contains(t, err.Error(), "serving", "the error must quote the target's stderr")
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not stop after the target died")
	}
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "no results from a failed run")
}

// waitForChild returns the pid of this process's child named comm.
func waitForChild(t *testing.T, comm string) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		procs, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, p := range procs {
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			s := string(data)
			open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
			if open < 0 || close < 0 || s[open+1:close] != comm {
				continue
			}
			fields := strings.Fields(s[close+1:])
			if len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid()) {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no child process %q appeared", comm)
	return 0
}
