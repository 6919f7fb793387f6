// Package machine describes the machine and source tree a measurement ran
// on, so that every result file can say where it came from.
package machine

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Info identifies the machine, toolchain and commit of a run.
type Info struct {
	GoVersion string `json:"go_version"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	Kernel    string `json:"kernel"` // uname -r
	CPU       string `json:"cpu"`    // model name from /proc/cpuinfo
	NumCPU    int    `json:"num_cpu"`
	Commit    string `json:"commit"` // git HEAD, "+dirty" if code (not results/) has changes, "" outside git
	Root      bool   `json:"root"`   // running as root (mounts possible)
}

// Read gathers Info. Missing pieces are left empty, never an error.
func Read() Info {
	info := Info{
		GoVersion: runtime.Version(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		NumCPU:    runtime.NumCPU(),
		CPU:       cpuModel(),
		Commit:    commit(),
		Root:      os.Geteuid() == 0,
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		info.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return info
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// commit returns git HEAD with "+dirty" if tracked files other than the
// generated results (results/, REPORT.md) have changes: a results directory
// regenerated in place must not mark the code that produced it as modified.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)results", ":(top,exclude)REPORT.md").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "+dirty"
	}
	return c
}

// ConfigLines returns the Info as benchfmt configuration lines
// ("key: value"), for the top of a bench.txt.
func (i Info) ConfigLines() string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"goos", i.GOOS}, {"goarch", i.GOARCH}, {"go", i.GoVersion}, {"kernel", i.Kernel},
		{"cpu", i.CPU}, {"commit", i.Commit},
	} {
		if kv[1] != "" {
			b.WriteString(kv[0] + ": " + kv[1] + "\n")
		}
	}
	return b.String()
}
