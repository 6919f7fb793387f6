package target

import (
	"fmt"
	"github.com/reloadlab/reloadlab/internal/childproc"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Split returns the CPUs for the load generator and for the target: a
// quarter of the CPUs (at least one) for load, the rest for the target.
// With fewer than two CPUs it returns nil, nil: nothing can be separated.
func Split(n int) (load, target []int) {
	if n < 2 {
		return nil, nil
	}
	nl := max(1, n/4)
	for i := 0; i < n; i++ {
		if i < nl {
			load = append(load, i)
		} else {
			target = append(target, i)
		}
	}
	return load, target
}

// PinSelf pins every existing thread of this process to cpus and sets
// GOMAXPROCS to len(cpus); threads created later inherit the mask of the
// thread that creates them. A nil cpus does nothing.
func PinSelf(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	set := childproc.CPUSet(cpus)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("target: list threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("target: pin thread %d to CPUs %v: %w", tid, cpus, err)
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// Affinity returns the CPUs process pid may run on.
func Affinity(pid int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		return nil, fmt.Errorf("target: affinity of %d: %w", pid, err)
	}
	var cpus []int
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// ParseCPUs parses a CPU list as taskset and cpusets write it: "1",
// "0,1", "0-3", "0-1,3" ("" is no list). CPUs are returned sorted, each
// once.
func ParseCPUs(s string) ([]int, error) {
	if s = strings.TrimSpace(s); s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("target: CPU list %q: %q is not a CPU number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("target: CPU list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			seen[c] = true
		}
	}
	out := make([]int, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}
