package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/strategies"
)

// replica is one target process of the fleet.
type replica struct {
	id   int
	proc *target.Process
}

// startReplicas starts n targets with args, concurrently, and stops them
// all if one fails.
func startReplicas(ctx context.Context, bin string, n int, args []string) ([]*replica, error) {
	rs := make([]*replica, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			full := append([]string{"-metrics-interval", "1s", "-metrics-keep", "16", "-events-keep", "4096"}, args...)
			p, err := target.Start(ctx, bin, full, nil, nil)
			if err != nil {
				errs[i] = fmt.Errorf("replica %d: %w", i, err)
				return
			}
			rs[i] = &replica{id: i, proc: p}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stopReplicas(rs)
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return rs, nil
}

// stopReplicas stops every replica (SIGTERM, then SIGKILL); a stopped
// (SIGSTOP) replica is continued first so it can exit.
func stopReplicas(rs []*replica) {
	var wg sync.WaitGroup
	for _, r := range rs {
		if r == nil {
			continue
		}
		wg.Go(func() {
			r.proc.Signal(syscall.SIGCONT)
			if err := r.proc.Stop(3 * time.Second); err != nil {
				r.proc.Kill()
			}
		})
	}
	wg.Wait()
}

// cpuTime returns the CPU time the process's threads have spent on a CPU,
// in nanoseconds: the sum of the first field of /proc/<pid>/task/*/schedstat
// (a thread that has exited no longer counts; a Go program's threads
// rarely exit). Where schedstat is missing it falls back to utime+stime of
// /proc/<pid>/stat, in 10 ms ticks.
func cpuTime(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err == nil {
		var sum time.Duration
		ok := true
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/schedstat")
			if err != nil {
				ok = false
				break
			}
			f := strings.Fields(string(b))
			if len(f) == 0 {
				ok = false
				break
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				ok = false
				break
			}
			sum += time.Duration(ns)
		}
		if ok {
			return sum, nil
		}
	}
	return statCPUTime(pid)
}

// statCPUTime returns utime+stime from /proc/<pid>/stat (10 ms ticks).
func statCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("fleet: %w", err)
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces.
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("fleet: /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("fleet: /proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("fleet: /proc/%d/stat: %w", pid, err)
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick, nil
}

// fleetCPU returns the replicas' CPU times.
func fleetCPU(rs []*replica) ([]time.Duration, error) {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		d, err := cpuTime(r.proc.PID)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// events returns every event a replica recorded.
func (r *replica) events(ctx context.Context) ([]strategies.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := r.proc.Client().Status(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("replica %d: %w", r.id, err)
	}
	return st.Events, nil
}

// version returns the version a replica serves.
func (r *replica) version(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := r.proc.Client().Status(ctx, ^uint64(0)>>1)
	if err != nil {
		return 0, fmt.Errorf("replica %d: %w", r.id, err)
	}
	return st.Version, nil
}

// waitAll polls until every replica serves version v or timeout passes,
// and returns when they all did (zero time if not).
func waitAll(ctx context.Context, rs []*replica, v int64, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	pending := append([]*replica(nil), rs...)
	for len(pending) > 0 {
		var still []*replica
		for _, r := range pending {
			got, err := r.version(ctx)
			if err != nil || got < v {
				still = append(still, r)
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return time.Time{}, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Now(), nil
}
