package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// TestRobustSafetyNetWaitsForTheWriter is the regression test for a defect
// the detect matrix found: robust's safety poll fired in the middle of a
// slow in-place write, and the pipeline applied the half-written file,
// which happens to parse (a prefix of whole lines). Here the safety poll
// runs every 20 ms and each write pauses 50 ms half-way, so a safety poll
// that does not wait for the content to settle reads half a file several
// times per write. Every applied content must be a complete version.
func TestRobustSafetyNetWaitsForTheWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ConfigName)
	const keys = 100
	require.NoError(t, os.WriteFile(path, config.Generate(1, keys), 0o644))

	var mu sync.Mutex
	complete := map[string]int64{}
	var torn []string
	var served int64
	addComplete := func(v int64) []byte {
		data := config.Generate(v, keys)
		sum := sha256.Sum256(data)
		mu.Lock()
		complete[hex.EncodeToString(sum[:])] = v
		mu.Unlock()
		return data
	}
	addComplete(1)
	tr, err := trigger.New("robust", trigger.WithSafetyInterval(20*time.Millisecond), trigger.WithDebounce(100*time.Millisecond))
	require.NoError(t, err)
	r := strategies.NewReloader(path, store.NewAtomic(), tr, strategies.WithObserver(func(e strategies.Event) {
		if e.Outcome != strategies.Applied {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, ok := complete[e.Hash]; !ok {
			torn = append(torn, State{Version: e.Version, Keys: e.Keys}.Describe())
		}
		served = e.Version
	}))
	require.NoError(t, r.Start())
	defer r.Close()

	const last = 6
	for v := int64(2); v <= last; v++ {
		data := addComplete(v)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		require.NoError(t, err)
		_, err = f.Write(data[:len(data)/2])
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond)
		_, err = f.Write(data[len(data)/2:])
		require.NoError(t, err)
		require.NoError(t, f.Close())
		time.Sleep(150 * time.Millisecond)
	}
	assert.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return served == last
	}, 10*time.Second, 20*time.Millisecond, "the last version is served")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, torn, "robust applied half-written files")
}
