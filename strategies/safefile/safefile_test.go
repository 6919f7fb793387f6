package safefile

import (
	"bytes"
	"os"
	"path/filepath"
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

	tests := []readCase{
		{"regular", write("ok", []byte("hello")), 0, []byte("hello"), ""},
		{"empty", write("empty", nil), 0, []byte{}, ""},
		{"at limit", write("big", big), 2048, big, ""},
		{"over limit", filepath.Join(dir, "big"), 2047, nil, "exceeds the size limit (2048 > 2047 bytes)"},
		{"missing", filepath.Join(dir, "nope"), 0, nil, "missing file"},
		{"directory", dir, 0, nil, "not a regular file (a directory)"},
	}
	tests = append(tests, specialCases(t, dir)...)
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

// readCase is one row of TestRead.
type readCase struct {
	name  string
	path  string
	limit int64
	want  []byte
	err   string // substring of the expected error, "" for success
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
