// Package tools runs the command-line tools reloadlab depends on, at the
// versions pinned in go.mod (tool directives), so every machine runs the
// same benchstat, vegeta and actionlint.
package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Go returns the path of the go command: the one on PATH, or the one of the
// toolchain that built this program.
func Go() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(p); err != nil {
		return "", errors.New("tools: the go command is not on PATH")
	}
	return p, nil
}

// Tool runs `go tool name args...` from the current directory (which must be
// inside the module) and returns its standard output; on failure the error
// includes standard error.
func Tool(ctx context.Context, name string, args ...string) ([]byte, error) {
	goBin, err := Go()
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, goBin, append([]string{"tool", name}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("tools: go tool %s: %w\n%s", name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// Benchstat runs the pinned benchstat.
func Benchstat(ctx context.Context, args ...string) ([]byte, error) {
	return Tool(ctx, "benchstat", args...)
}
