package writepattern

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func content(v int) []byte {
	var b bytes.Buffer
	b.WriteString("version: " + strconv.Itoa(v) + "\n")
	for i := 0; i < 50; i++ {
		b.WriteString("key" + strconv.Itoa(i) + ": \"v" + strconv.Itoa(v) + "-" + strconv.Itoa(i) + "\"\n")
	}
	return b.Bytes()
}

// TestPatternsEndWithTheirLastContent runs every available pattern on a
// real directory and checks what a reader finds afterwards: the last
// content written for patterns that change the file, the original for
// those that must not; and that nothing is left behind beside the config.
func TestPatternsEndWithTheirLastContent(t *testing.T) {
	t.Parallel()
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			if err := p.Available(); err != nil {
				t.Skip(err)
			}
			dir := t.TempDir()
			require.NoError(t, p.Init(dir, "config.yaml", content(1)))
			before, err := os.Stat(p.HostPath(dir, "config.yaml"))
			require.NoError(t, err)
			entriesBefore := names(t, dir)

			v := 1
			next := func() []byte { v++; return content(v) }
			written, err := p.Write(context.Background(), dir, "config.yaml", next)
			require.NoError(t, err)
			got, err := os.ReadFile(p.HostPath(dir, "config.yaml"))
			require.NoError(t, err)
			if !p.ChangesContent {
				assert.Empty(t, written)
				assert.True(t, bytes.Equal(content(1), got), "content must not change (%d bytes now)", len(got))
				return
			}
			require.NotEmpty(t, written)
			assert.True(t, bytes.Equal(written[len(written)-1], got), "the file must hold the last content written (%d bytes, want %d)", len(got), len(written[len(written)-1]))
			assert.True(t, bytes.Equal(content(v), got), "the last content must be the last version")
			if p.Name != "k8s-configmap" {
				assert.Equal(t, entriesBefore, names(t, dir), "no stray files left beside the config")
			}
			after, err := os.Stat(p.HostPath(dir, "config.yaml"))
			require.NoError(t, err)
			if p.Name == "copy-preserve-mtime" || p.Name == "tar-real" {
				assert.Equal(t, before.ModTime().Truncate(time.Second), after.ModTime().Truncate(time.Second), "mtime preserved")
				assert.Equal(t, before.Size(), after.Size(), "same size")
			}
			if p.Name == "older-mtime" {
				assert.True(t, after.ModTime().Before(before.ModTime()), "the mtime went back: %s, was %s", after.ModTime(), before.ModTime())
				assert.Equal(t, before.Size(), after.Size(), "same size")
				assert.False(t, os.SameFile(before, after), "replaced by rename: a new inode")
			}
		})
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestK8sLayout(t *testing.T) {
	t.Parallel()
	p, err := Lookup("k8s-configmap")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, p.Init(dir, "config.yaml", content(1)))
	link, err := os.Readlink(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("..data", "config.yaml"), link)
	first, err := os.Readlink(filepath.Join(dir, "..data"))
	require.NoError(t, err)
	_, err = p.Write(context.Background(), dir, "config.yaml", func() []byte { return content(2) })
	require.NoError(t, err)
	second, err := os.Readlink(filepath.Join(dir, "..data"))
	require.NoError(t, err)
	assert.NotEqual(t, first, second, "..data must point at a new directory")
	_, err = os.Stat(filepath.Join(dir, first))
	assert.True(t, os.IsNotExist(err), "the old timestamped directory is removed")
	assert.Len(t, names(t, dir), 3, "..data, the new ..<ts> dir, config.yaml")
}

func TestLookupUnknownListsValid(t *testing.T) {
	t.Parallel()
	_, err := Lookup("emacs")
	require.Error(t, err)
	for _, n := range Names() {
		assert.Contains(t, err.Error(), n)
	}
}
