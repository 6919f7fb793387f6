// Package results writes a run's output directory so that it appears
// complete or not at all: files go to a staging directory next to the
// destination, which replaces the destination in one rename when the run
// commits. An interrupted or failed run removes its staging directory and
// leaves the previous results untouched.
package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Stage is a staging directory for one output directory.
type Stage struct {
	// Dir is where the run writes its files.
	Dir  string
	dest string
	done bool
}

// NewStage creates a staging directory for dest (which need not exist),
// beside it so the final rename stays on one file system.
func NewStage(dest string) (*Stage, error) {
	dest = filepath.Clean(dest)
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	dir, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(dest)+"-")
	if err != nil {
		return nil, fmt.Errorf("results: staging dir for %s: %w", dest, err)
	}
	// MkdirTemp makes it private; results are for everyone to read.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("results: %w", err)
	}
	return &Stage{Dir: dir, dest: dest}, nil
}

// Path returns the staging path of name.
func (s *Stage) Path(name string) string { return filepath.Join(s.Dir, name) }

// Dest returns the destination directory.
func (s *Stage) Dest() string { return s.dest }

// Commit replaces the destination with the staging directory. The previous
// destination is moved aside first and removed only after the new one is in
// place.
func (s *Stage) Commit() error {
	if s.done {
		return fmt.Errorf("results: %s already committed or aborted", s.dest)
	}
	old := ""
	if _, err := os.Lstat(s.dest); err == nil {
		old = s.Dir + ".old"
		if err := os.Rename(s.dest, old); err != nil {
			return fmt.Errorf("results: move old %s aside: %w", s.dest, err)
		}
	}
	if err := os.Rename(s.Dir, s.dest); err != nil {
		if old != "" {
			os.Rename(old, s.dest)
		}
		return fmt.Errorf("results: commit %s: %w", s.dest, err)
	}
	s.done = true
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("results: remove previous %s: %w", old, err)
		}
	}
	return nil
}

// Abort removes the staging directory unless it was committed. It is safe
// to call more than once and after Commit, so `defer s.Abort()` is the
// idiom.
func (s *Stage) Abort() {
	if s.done {
		return
	}
	s.done = true
	os.RemoveAll(s.Dir)
}

// WriteFile writes a file atomically: to name.tmp, then renamed to name.
func WriteFile(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// WriteJSON writes v as indented JSON with WriteFile.
func WriteJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encode %s: %w", filepath.Base(name), err)
	}
	return WriteFile(name, append(data, '\n'))
}
