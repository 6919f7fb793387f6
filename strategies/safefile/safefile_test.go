package safefile

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	big := bytes.Repeat([]byte("x"), 2048)
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	loop := filepath.Join(dir, "loop")
	require.NoError(t, os.Symlink(loop, loop))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("ok", link))

	tests := []struct {
		name  string
		path  string
		limit int64
		want  []byte
		err   string
	}{
		{"regular", write("ok", []byte("hello")), 0, []byte("hello"), ""},
		{"empty", write("empty", nil), 0, []byte{}, ""},
		{"symlink followed", link, 0, []byte("hello"), ""},
		{"at limit", write("big", big), 2048, big, ""},
		{"over limit", filepath.Join(dir, "big"), 2047, nil, "exceeds the size limit (2048 > 2047 bytes)"},
		{"missing", filepath.Join(dir, "nope"), 0, nil, "missing file"},
		{"directory", dir, 0, nil, "not a regular file (a directory)"},
		{"fifo does not hang", fifo, 0, nil, "not a regular file (a FIFO)"},
		{"symlink loop", loop, 0, nil, "symlink loop"},
		{"device", "/dev/null", 0, nil, "a character device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.path, tt.limit)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReadUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not stop root from reading, so an unreadable file cannot be made")
	}
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o000))
	_, err := Read(p, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "permission denied")
}
