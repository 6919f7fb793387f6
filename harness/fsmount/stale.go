package fsmount

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// mountPoints returns the mount points of the calling process's mount
// namespace (/proc/self/mountinfo field 5, unescaped).
func mountPoints() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			out = append(out, unescapeMountinfo(fields[4]))
		}
	}
	return out
}

// unescapeMountinfo undoes the octal escapes (\040 for a space …) of
// /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountsUnder returns the mount points at or below dir, deepest first (the
// order to unmount them in).
func mountsUnder(dir string) []string {
	dir = filepath.Clean(dir)
	var out []string
	for _, m := range mountPoints() {
		if m == dir || strings.HasPrefix(m, dir+"/") {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// CleanStale unmounts and removes base directories under parent ("" for
// the same default as NewBase) that were left by a lab process that is no
// longer running. It returns what it cleaned, for the progress log.
func CleanStale(parent string) ([]string, error) {
	var parents []string
	if parent == "" {
		parents = []string{os.TempDir(), "/var/tmp"}
	} else {
		parents = []string{parent}
	}
	var cleaned []string
	var errs []error
	for _, p := range parents {
		entries, err := os.ReadDir(p)
		if err != nil {
			continue
		}
		for _, e := range entries {
			pid, ok := basePID(e.Name())
			if !ok || !e.IsDir() || processAlive(pid) {
				continue
			}
			dir := filepath.Join(p, e.Name())
			if err := RemoveBase(dir); err != nil {
				errs = append(errs, err)
				continue
			}
			cleaned = append(cleaned, dir)
		}
	}
	return cleaned, errors.Join(errs...)
}

// basePID extracts the process id from a base directory name
// "reloadlab-detect-<pid>-<random>".
func basePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, basePrefix)
	if !ok {
		return 0, false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

// processAlive reports whether pid is a running process (a zombie counts as
// gone).
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Field 3, after the parenthesised command name, is the state.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return true
	}
	return s[i+2] != 'Z'
}
