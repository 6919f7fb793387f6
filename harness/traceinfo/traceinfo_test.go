package traceinfo_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	rtrace "runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/traceinfo"
)

const contenders = 4

// scenario is what recordScenario did, in wall-clock time.
type scenario struct {
	before, after      time.Time // around the whole scenario
	lockFrom, lockTo   time.Time // around the writer's hold of the lock
	gcFrom, gcTo       time.Time // around runtime.GC
	reloadFrom, reload time.Time // around the reload task
}

// recordScenario records a flight-recorder snapshot while it runs a reload
// task with a region and a log, makes contenders readers wait on an RWMutex
// held by a writer, parks one goroutine on a channel receive and forces a GC.
func recordScenario(t *testing.T) ([]byte, scenario) {
	t.Helper()
	fr := rtrace.NewFlightRecorder(rtrace.FlightRecorderConfig{MinAge: 10 * time.Second, MaxBytes: 64 << 20})
	require.NoError(t, fr.Start())
	defer fr.Stop()

	var sc scenario
	sc.before = time.Now()

	// A goroutine blocked on a channel receive: a non-lock block.
	ch := make(chan struct{})
	chDone := make(chan struct{})
	go func() {
		<-ch
		close(chDone)
	}()

	// The reload: a task, a region inside it and a log inside the region.
	ctx := context.Background()
	sc.reloadFrom = time.Now()
	tctx, task := rtrace.NewTask(ctx, "reload")
	rtrace.WithRegion(tctx, "reload.apply", func() {
		time.Sleep(time.Millisecond)
		rtrace.Log(tctx, "reload", "applied version 7")
		time.Sleep(time.Millisecond)
	})
	task.End()
	sc.reload = time.Now()

	// Lock contention: a writer holds the RWMutex for ~20 ms while readers
	// try to read-lock it.
	var mu sync.RWMutex
	held := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	sc.lockFrom = time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		mu.Lock()
		close(held)
		<-release
		mu.Unlock()
	}()
	<-held
	for range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.RLock()
			runtime.Gosched()
			mu.RUnlock()
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	sc.lockTo = time.Now()

	sc.gcFrom = time.Now()
	runtime.GC()
	sc.gcTo = time.Now()

	close(ch)
	<-chDone
	sc.after = time.Now()

	var buf bytes.Buffer
	_, err := fr.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes(), sc
}

// slack absorbs the error of converting trace time to wall time and the gap
// between a time.Now() call and the event next to it.
const slack = 50 * time.Millisecond

func TestParseScenario(t *testing.T) {
	data, sc := recordScenario(t)
	s, err := traceinfo.Parse(bytes.NewReader(data))
	require.NoError(t, err)
	require.NotNil(t, s)

	assert.False(t, s.Truncated)
	assert.True(t, s.WallClock, "a Go 1.26 trace carries a clock snapshot")
	assert.True(t, s.Start.Before(s.End))
	assert.False(t, s.Start.After(sc.before.Add(slack)), "trace starts before the scenario")
	assert.False(t, s.End.Before(sc.after.Add(-slack)), "trace ends after the scenario")

	// The log, with its category and message, inside the reload task.
	logs := s.LogsIn("reload")
	require.Len(t, logs, 1)
	assert.Equal(t, "reload", logs[0].Category)
	assert.Equal(t, "applied version 7", logs[0].Message)
	assert.Empty(t, s.LogsIn("no such category"))

	var task *traceinfo.Task
	for i := range s.Tasks {
		if s.Tasks[i].Type == "reload" {
			require.Nil(t, task, "one reload task")
			task = &s.Tasks[i]
		}
	}
	require.NotNil(t, task)
	var region *traceinfo.Region
	for i := range s.Regions {
		if s.Regions[i].Type == "reload.apply" {
			require.Nil(t, region, "one reload.apply region")
			region = &s.Regions[i]
		}
	}
	require.NotNil(t, region)
	assert.Equal(t, task.ID, region.Task)
	assert.Equal(t, task.ID, logs[0].Task)
	assert.False(t, region.Start.Before(task.Start), "task begins before its region")
	assert.False(t, logs[0].At.Before(region.Start), "region begins before the log")
	assert.False(t, region.End.Before(logs[0].At), "log comes before the region ends")
	assert.False(t, task.End.Before(region.End), "region ends before its task")
	assert.True(t, region.Start.Before(region.End))
	// Wall-clock alignment: the task lies inside the time.Now() readings
	// taken around it.
	assert.WithinRange(t, task.Start, sc.reloadFrom.Add(-slack), sc.reload.Add(slack))
	assert.WithinRange(t, task.End, sc.reloadFrom.Add(-slack), sc.reload.Add(slack))

	// runtime.GC: stop-the-world ranges with a GC reason and a mark phase.
	gcSTW := 0
	for _, r := range s.STW {
		assert.NotEmpty(t, r.Reason)
		assert.GreaterOrEqual(t, r.Dur, time.Duration(0))
		if strings.Contains(r.Reason, "GC") {
			gcSTW++
		}
	}
	assert.GreaterOrEqual(t, gcSTW, 1, "STW ranges: %+v", s.STW)
	assert.NotEmpty(t, s.GCMark)
	inGC := s.STWIn(sc.gcFrom.Add(-slack), sc.gcTo.Add(slack))
	assert.NotEmpty(t, inGC)
	for _, r := range inGC {
		assert.True(t, r.Start.Before(sc.gcTo.Add(slack)) && !r.End().Before(sc.gcFrom.Add(-slack)))
	}
	assert.Empty(t, s.STWIn(s.End.Add(time.Hour), s.End.Add(2*time.Hour)))

	// Lock contention: the readers blocked with a sync.(*RWMutex) frame.
	from, to := sc.lockFrom.Add(-slack), sc.lockTo.Add(slack)
	n := s.BlockedGoroutinesIn(from, to)
	assert.GreaterOrEqual(t, n, 1)
	assert.LessOrEqual(t, n, contenders)
	lockBlocks := s.LockBlocksIn(from, to)
	require.NotEmpty(t, lockBlocks)
	for _, b := range lockBlocks {
		assert.True(t, b.Lock)
		assert.Equal(t, "sync", b.Reason)
		assert.True(t, strings.HasPrefix(b.Frame, "sync.(*RWMutex)."), "frame %q", b.Frame)
		assert.WithinRange(t, b.At, from, to)
	}
	assert.Equal(t, 0, s.BlockedGoroutinesIn(s.End.Add(time.Hour), s.End.Add(2*time.Hour)))

	// The channel receiver blocked too, but not on a lock.
	chanBlocks := 0
	for _, b := range s.Blocks {
		if b.Reason == "chan receive" {
			chanBlocks++
			assert.False(t, b.Lock, "%+v", b)
			assert.NotEmpty(t, b.Frame)
		}
	}
	assert.Positive(t, chanBlocks)
	for _, b := range s.LockBlocksIn(s.Start, s.End.Add(time.Nanosecond)) {
		assert.True(t, b.Lock)
		assert.NotEqual(t, "chan receive", b.Reason)
	}

	// Ordering guarantees.
	for i := 1; i < len(s.STW); i++ {
		assert.False(t, s.STW[i].Start.Before(s.STW[i-1].Start))
	}
	for i := 1; i < len(s.Blocks); i++ {
		assert.False(t, s.Blocks[i].At.Before(s.Blocks[i-1].At))
	}
}

func TestParseFile(t *testing.T) {
	data, _ := recordScenario(t)
	path := filepath.Join(t.TempDir(), "trace.out")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	s, err := traceinfo.ParseFile(path)
	require.NoError(t, err)
	assert.Len(t, s.LogsIn("reload"), 1)

	_, err = traceinfo.ParseFile(filepath.Join(t.TempDir(), "missing.out"))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "traceinfo: "), err.Error())
}

// recordGenerations records a flight-recorder snapshot with several
// generations: every WriteTo advances the trace to a new generation.
func recordGenerations(t *testing.T, gens int) []byte {
	t.Helper()
	fr := rtrace.NewFlightRecorder(rtrace.FlightRecorderConfig{MinAge: 10 * time.Second, MaxBytes: 64 << 20})
	require.NoError(t, fr.Start())
	defer fr.Stop()
	ctx := context.Background()
	var buf bytes.Buffer
	for i := range gens {
		_, task := rtrace.NewTask(ctx, "reload")
		rtrace.Logf(ctx, "gen", "generation %d", i)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Millisecond)
			}()
		}
		wg.Wait()
		task.End()
		buf.Reset()
		_, err := fr.WriteTo(&buf)
		require.NoError(t, err)
	}
	return bytes.Clone(buf.Bytes())
}

func TestParseTruncated(t *testing.T) {
	data := recordGenerations(t, 4)
	full, err := traceinfo.Parse(bytes.NewReader(data))
	require.NoError(t, err)
	assert.False(t, full.Truncated)
	require.Len(t, full.LogsIn("gen"), 4)

	// Cut inside the last generation: the earlier ones survive.
	cut, err := traceinfo.Parse(bytes.NewReader(data[:len(data)-1]))
	require.NoError(t, err)
	assert.True(t, cut.Truncated)
	assert.NotEmpty(t, cut.LogsIn("gen"))
	assert.Less(t, len(cut.LogsIn("gen")), 4)
	assert.True(t, cut.Start.Before(cut.End))
	// Tasks still open at the cut end at the trace end.
	for _, tk := range cut.Tasks {
		assert.False(t, tk.End.Before(tk.Start))
		assert.False(t, tk.End.After(cut.End))
	}

	// Any cut: a truncated summary or a clean error, never a panic.
	for _, n := range []int{17, 100, len(data) / 8, len(data) / 4, len(data) / 2, 3 * len(data) / 4, len(data) - 100} {
		if n <= 0 || n >= len(data) {
			continue
		}
		var s *traceinfo.Summary
		require.NotPanics(t, func() { s, err = traceinfo.Parse(bytes.NewReader(data[:n])) }, "cut at %d", n)
		if err != nil {
			assert.Nil(t, s)
			assert.True(t, strings.HasPrefix(err.Error(), "traceinfo: "), err.Error())
			continue
		}
		assert.True(t, s.Truncated, "cut at %d of %d", n, len(data))
	}
}

func TestParseGarbage(t *testing.T) {
	header := []byte("go 1.26 trace\x00\x00\x00")
	for name, in := range map[string][]byte{
		"empty":          nil,
		"text":           []byte("this is not an execution trace\n"),
		"header only":    header,
		"header+garbage": append(bytes.Clone(header), bytes.Repeat([]byte{0xff, 0x01, 0x7f}, 1000)...),
	} {
		t.Run(name, func(t *testing.T) {
			var s *traceinfo.Summary
			var err error
			require.NotPanics(t, func() { s, err = traceinfo.Parse(bytes.NewReader(in)) })
			require.Error(t, err)
			assert.Nil(t, s)
			assert.True(t, strings.HasPrefix(err.Error(), "traceinfo: "), err.Error())
		})
	}
	_, err := traceinfo.Parse(io.LimitReader(strings.NewReader("go 1.26 trace"), 5))
	require.Error(t, err)
}

// TestParseClamped checks that a task and a region whose begin fell out of
// the flight recorder's window start at the trace start, and that a task
// still open when the snapshot is taken ends at the trace end.
func TestParseClamped(t *testing.T) {
	// A tiny MinAge makes the recorder drop every generation but the last.
	fr := rtrace.NewFlightRecorder(rtrace.FlightRecorderConfig{MinAge: time.Millisecond, MaxBytes: 64 << 20})
	require.NoError(t, fr.Start())
	defer fr.Stop()
	ctx, task := rtrace.NewTask(context.Background(), "reload")
	region := rtrace.StartRegion(ctx, "reload.apply")
	for range 3 {
		time.Sleep(5 * time.Millisecond)
		_, err := fr.WriteTo(io.Discard) // advances to a new generation
		require.NoError(t, err)
	}
	time.Sleep(5 * time.Millisecond)
	rtrace.Log(ctx, "reload", "late")
	region.End()
	task.End()
	_, open := rtrace.NewTask(context.Background(), "open")
	defer open.End()
	var buf bytes.Buffer
	_, err := fr.WriteTo(&buf)
	require.NoError(t, err)

	s, err := traceinfo.Parse(&buf)
	require.NoError(t, err)
	require.Len(t, s.LogsIn("reload"), 1)
	lg := s.LogsIn("reload")[0]

	require.Len(t, s.Regions, 1)
	assert.Equal(t, "reload.apply", s.Regions[0].Type)
	assert.Equal(t, s.Start, s.Regions[0].Start, "region began before the trace")
	assert.Equal(t, lg.Task, s.Regions[0].Task)
	assert.False(t, s.Regions[0].End.Before(lg.At))

	var early, late *traceinfo.Task
	for i := range s.Tasks {
		switch s.Tasks[i].ID {
		case lg.Task:
			early = &s.Tasks[i]
		default:
			if s.Tasks[i].Type == "open" {
				late = &s.Tasks[i]
			}
		}
	}
	require.NotNil(t, early, "tasks: %+v", s.Tasks)
	require.NotNil(t, late, "tasks: %+v", s.Tasks)
	assert.Equal(t, s.Start, early.Start, "task began before the trace")
	assert.False(t, early.End.Before(s.Regions[0].End))
	assert.Equal(t, s.End, late.End, "task still open at the end of the trace")
	assert.True(t, late.Start.Before(late.End))
}
