package kernel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/safefile"
)

// Idle is the result of the idle-cost experiment.
type Idle struct {
	Method  string  `json:"method"`
	Seconds float64 `json:"seconds"` // measurement window
	Keys    int     `json:"keys"`
	Bytes   int     `json:"bytes"`
	// BaselineCPUSecPerMin is the CPU of a child that loaded the config
	// and watches nothing: the Go runtime's own background cost.
	BaselineCPUSecPerMin float64   `json:"baseline_cpu_s_per_min"`
	Rows                 []IdleRow `json:"rows"`
	Error                string    `json:"error,omitempty"`
}

// IdleRow is one column's idle cost.
type IdleRow struct {
	Column string `json:"column"`
	// CPUSecPerMin is user+system CPU seconds per minute of wall time of
	// the child over the window; NetCPUSecPerMin subtracts the baseline.
	CPUSecPerMin    float64 `json:"cpu_s_per_min"`
	NetCPUSecPerMin float64 `json:"net_cpu_s_per_min"`
	Error           string  `json:"error,omitempty"`
}

const idleMethod = "every column, and a baseline that loaded the config but watches nothing, runs in its own child process watching the same unchanging config, all at the same time; each child reads getrusage(RUSAGE_SELF) user+system time at the start and end of the window (after a 300 ms settle), so start-up is not counted."

// idleBaseline is the column name of the no-trigger child.
const idleBaseline = "none"

// RunIdle measures the CPU of each of cols (column names), each in its
// own child, while the config does not change, over cfg.Idle, in a
// directory it makes under base and removes.
func RunIdle(ctx context.Context, cfg Config, base string, cols []string) *Idle {
	res := &Idle{Method: idleMethod, Seconds: cfg.Idle.Seconds(), Keys: cfg.IdleKeys}
	dir := filepath.Join(base, "idle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Error = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, rig.ConfigName)
	data := config.Generate(1, cfg.IdleKeys)
	res.Bytes = len(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		res.Error = err.Error()
		return res
	}
	params := cfg.params()
	all := append([]string{idleBaseline}, cols...)
	rows := make([]IdleRow, len(all))
	var wg sync.WaitGroup
	for i, c := range all {
		rows[i].Column = c
		var mu sync.Mutex
		var cpu, wall int64
		var errs []string
		emit := func(o rig.Observation) {
			mu.Lock()
			defer mu.Unlock()
			switch o.Kind {
			case rig.ObsIdle:
				cpu, wall = o.CPUNanos, o.WallNanos
			case rig.ObsStartError, rig.ObsError:
				errs = append(errs, o.Msg)
			}
		}
		ch, err := rig.StartChild(cfg.Child, rig.Spec{Mode: modeIdle, Path: path, Columns: []string{c}, Params: params, Duration: cfg.Idle}, nil, emit)
		if err != nil {
			rows[i].Error = err.Error()
			continue
		}
		wg.Go(func() {
			err := ch.Wait(ctx, cfg.Idle+30*time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				rows[i].Error = err.Error()
			case wall == 0:
				rows[i].Error = fmt.Sprintf("no measurement: %v", errs)
			default:
				rows[i].CPUSecPerMin = rig.Round3(float64(cpu) / float64(wall) * 60)
			}
		})
	}
	wg.Wait()
	res.BaselineCPUSecPerMin = rows[0].CPUSecPerMin
	for _, r := range rows[1:] {
		if r.Error == "" {
			r.NetCPUSecPerMin = rig.Round3(r.CPUSecPerMin - res.BaselineCPUSecPerMin)
		}
		res.Rows = append(res.Rows, r)
	}
	if rows[0].Error != "" {
		res.Error = "baseline: " + rows[0].Error
	}
	return res
}

// childIdle is the child's side of the idle-cost experiment.
func childIdle(ctx context.Context, spec rig.Spec, out *rig.LineWriter) error {
	col := spec.Columns[0]
	if col == idleBaseline {
		data, err := safefile.Read(spec.Path, 0)
		if err == nil {
			_, err = config.Parse(data)
		}
		if err != nil {
			out.Emit(rig.Observation{Col: col, Kind: rig.ObsStartError, Msg: err.Error()})
			return nil
		}
	} else {
		run, err := rig.StartColumn(col, spec.Path, spec.Params, out.Emit)
		if err != nil {
			out.Emit(rig.Observation{Col: col, Kind: rig.ObsStartError, Msg: err.Error()})
			return nil
		}
		defer run.Close()
	}
	if err := rig.SleepCtx(ctx, 300*time.Millisecond); err != nil {
		return err
	}
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	t0 := time.Now()
	if err := rig.SleepCtx(ctx, spec.Duration); err != nil {
		return err
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	wall := time.Since(t0)
	cpu := tvNanos(r1.Utime) + tvNanos(r1.Stime) - tvNanos(r0.Utime) - tvNanos(r0.Stime)
	out.Emit(rig.Observation{T: time.Now().UnixNano(), Col: col, Kind: rig.ObsIdle, CPUNanos: cpu, WallNanos: wall.Nanoseconds()})
	return nil
}

func tvNanos(tv syscall.Timeval) int64 { return tv.Nano() }
