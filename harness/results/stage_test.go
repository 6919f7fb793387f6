package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStageCommitReplaces(t *testing.T) {
	t.Parallel()
	dest := filepath.Join(t.TempDir(), "results", "atomic")
	require.NoError(t, os.MkdirAll(dest, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dest, "old.txt"), []byte("old"), 0o644))

	s, err := NewStage(dest)
	require.NoError(t, err)
	require.NoError(t, WriteFile(s.Path("new.txt"), []byte("new")))
	_, err = os.Stat(filepath.Join(dest, "new.txt"))
	assert.True(t, os.IsNotExist(err), "nothing appears before Commit")

	require.NoError(t, s.Commit())
	s.Abort() // harmless after Commit
	got, err := os.ReadFile(filepath.Join(dest, "new.txt"))
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	_, err = os.Stat(filepath.Join(dest, "old.txt"))
	assert.True(t, os.IsNotExist(err), "the old results are replaced as a whole")
	entries, err := os.ReadDir(filepath.Dir(dest))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no staging or old directory is left behind")
	assert.Error(t, s.Commit(), "a second Commit fails")
}

func TestStageAbortKeepsPrevious(t *testing.T) {
	t.Parallel()
	dest := filepath.Join(t.TempDir(), "micro")
	require.NoError(t, os.MkdirAll(dest, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dest, "bench.txt"), []byte("previous"), 0o644))
	s, err := NewStage(dest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.Path("bench.txt"), []byte("half"), 0o644))
	s.Abort()
	got, err := os.ReadFile(filepath.Join(dest, "bench.txt"))
	require.NoError(t, err)
	assert.Equal(t, "previous", string(got))
	_, err = os.Stat(s.Dir)
	assert.True(t, os.IsNotExist(err))
}

func TestStageCommitWithoutPrevious(t *testing.T) {
	t.Parallel()
	dest := filepath.Join(t.TempDir(), "new")
	s, err := NewStage(dest)
	require.NoError(t, err)
	require.NoError(t, WriteJSON(s.Path("plan.json"), map[string]int{"keys": 3}))
	require.NoError(t, s.Commit())
	got, err := os.ReadFile(filepath.Join(dest, "plan.json"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"keys":3}`, string(got))
}
