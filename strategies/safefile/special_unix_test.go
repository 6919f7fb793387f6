//go:build unix

package safefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// specialCases are the TestRead rows that need Unix file types: a FIFO, a
// symlink loop, a device. dir holds a regular file "ok" with "hello".
func specialCases(t *testing.T, dir string) []readCase {
	t.Helper()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	loop := filepath.Join(dir, "loop")
	require.NoError(t, os.Symlink(loop, loop))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("ok", link))
	return []readCase{
		{"symlink followed", link, 0, []byte("hello"), ""},
		{"fifo does not hang", fifo, 0, nil, "not a regular file (a FIFO)"},
		{"symlink loop", loop, 0, nil, "symlink loop"},
		{"device", "/dev/null", 0, nil, "a character device"},
	}
}
