package bench

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata is this package's testdata directory, resolved before any test
// changes the working directory (moduleRoot does).
var testdata = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "testdata")
}()

func TestParseGoroutineProfile(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(testdata, "goroutine-lockparse.txt"))
	require.NoError(t, err)
	defer f.Close()
	g, err := ParseGoroutineProfile(f)
	require.NoError(t, err)
	assert.Equal(t, 47, g.Total)
	assert.Equal(t, 31, g.InLock, "30 readers in RLock and one goroutine in Mutex.Lock")
	assert.Equal(t, 30, g.InConfigLock, "only the readers wait on the config store")
	assert.Equal(t, 33, g.Serving, "30 blocked requests and 3 idle connections")
	assert.Equal(t, 2, g.BgReaders, "net/http's per-request background readers")
	assert.True(t, g.Reloading)
	assert.True(t, g.HoldingParse)
	assert.InDelta(t, 31.0/47, g.Share(), 1e-12)
}

func TestParseGoroutineProfileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, err string }{
		{"not a profile", "hello\n", "not a goroutine profile"},
		{"bad count", "goroutine profile: total 1\nx @ 0x1\n", "goroutine profile record"},
	}
	for _, tt := range tests {
		_, err := ParseGoroutineProfile(strings.NewReader(tt.in))
		require.Error(t, err, tt.name)
		assert.Contains(t, err.Error(), tt.err, tt.name)
	}
	g, err := ParseGoroutineProfile(strings.NewReader("goroutine profile: total 0\n"))
	require.NoError(t, err)
	assert.True(t, math.IsNaN(g.Share()), "no goroutines: no share")
}

func TestSummarizeGoroutines(t *testing.T) {
	t.Parallel()
	at := time.Unix(1_700_000_000, 0)
	samples := []GoroutineSample{
		{At: at, Total: 40, InLock: 30, InConfigLock: 30, Serving: 32, Reloading: true, HoldingParse: true},
		{At: at, Total: 40, InLock: 20, InConfigLock: 20, Serving: 32, Reloading: true},
		{At: at, Total: 40, InLock: 0, Serving: 32},
		{At: at, Total: 40, InLock: 1, Serving: 32},
	}
	s := SummarizeGoroutines(samples)
	assert.Equal(t, 4, s.Profiles)
	assert.Equal(t, 2, s.DuringReload)
	assert.Equal(t, 1, s.DuringParse)
	assert.InDelta(t, 0.625, s.ShareDuringReload.Value, 1e-12)
	assert.InDelta(t, 0.0125, s.ShareSteady.Value, 1e-12)
	assert.InDelta(t, 0.75, s.MaxShare, 1e-12)
	assert.Equal(t, 30, s.MaxInLock)
	assert.InDelta(t, 50.0/64, s.ServingShareDuringReload.Value, 1e-12)
	assert.InDelta(t, 1, float64(s.ConfigLockShare), 1e-12)
	assert.InDelta(t, 40, float64(s.DuringTotal), 1e-12)
	assert.InDelta(t, 25, float64(s.DuringInLock), 1e-12)
	none := SummarizeGoroutines(nil)
	assert.False(t, none.ShareDuringReload.Valid())
	assert.True(t, math.IsNaN(float64(none.ConfigLockShare)))
}
