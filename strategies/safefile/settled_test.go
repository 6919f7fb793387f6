package safefile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadSettled: a stable file is read as it is; an empty file is read
// again (a writer between its truncate and its write) and returned empty
// if it stays so; a file written meanwhile is read whole.
func TestReadSettled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("a: 1\n"), 0o644))
	data, err := ReadSettled(path, DefaultLimit)
	require.NoError(t, err)
	assert.Equal(t, "a: 1\n", string(data))

	require.NoError(t, os.WriteFile(path, nil, 0o644))
	start := time.Now()
	data, err = ReadSettled(path, DefaultLimit)
	require.NoError(t, err)
	assert.Empty(t, data)
	assert.GreaterOrEqual(t, time.Since(start), (readTries-1)*emptyRetry, "an empty file is looked at again")

	_, err = ReadSettled(filepath.Join(t.TempDir(), "missing"), DefaultLimit)
	assert.Error(t, err)
}
