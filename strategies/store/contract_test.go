package store

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/strategies/config"
)

const (
	contractKeys     = 64
	contractVersions = 400
	contractReaders  = 3
)

// present reports whether version v of the contract configs has key i: keys
// come and go between versions so that deletion is exercised too.
func present(v int64, i int) bool { return (int64(i)+v)%7 != 0 }

func contractSnapshot(v int64) *config.Snapshot {
	m := make(map[string]string, contractKeys)
	for i := 0; i < contractKeys; i++ {
		if present(v, i) {
			m[config.KeyName(i)] = config.Value(v, i)
		}
	}
	return config.NewSnapshot(v, m, [32]byte{})
}

// TestContract runs every store through the same concurrent contract: readers
// never crash, never see a value that was never written, never see one key go
// back in time, and (for Viewers) never see two versions in one view.
func TestContract(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		// Not parallel: each subtest already runs readers on every CPU, and
		// stacking them would starve the writer.
		t.Run(name, func(t *testing.T) {
			s, err := New(name)
			require.NoError(t, err)
			assert.Equal(t, name, s.Name())
			assert.Equal(t, int64(0), s.Version(), "empty store version")
			_, ok := s.Get(config.KeyName(1))
			assert.False(t, ok, "empty store must have no keys")

			snaps := make([]*config.Snapshot, contractVersions+1)
			for v := range snaps {
				snaps[v] = contractSnapshot(int64(v))
			}
			s.Apply(snaps[1])

			var started atomic.Int64 // highest version whose Apply has begun
			started.Store(1)
			done := make(chan struct{})
			var wg, ready sync.WaitGroup
			ready.Add(contractReaders)
			errs := make(chan string, contractReaders)
			for r := 0; r < contractReaders; r++ {
				wg.Add(1)
				go func(seed uint64) {
					defer wg.Done()
					if msg := readUntil(s, done, &ready, &started, seed); msg != "" {
						errs <- msg
					}
				}(uint64(r))
			}
			ready.Wait() // every reader is reading before the first reload
			for v := 2; v <= contractVersions; v++ {
				started.Store(int64(v))
				s.Apply(snaps[v])
				runtime.Gosched()
			}
			close(done)
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}

			assert.Equal(t, int64(contractVersions), s.Version())
			for i := 0; i < contractKeys; i++ {
				got, ok := s.Get(config.KeyName(i))
				want, wantOK := snaps[contractVersions].Get(config.KeyName(i))
				assert.Equal(t, wantOK, ok, "key %d presence after last apply", i)
				assert.Equal(t, want, got, "key %d after last apply", i)
			}
		})
	}
}

// readUntil reads random keys until done is closed and returns the first
// contract violation it saw, or "".
func readUntil(s Store, done <-chan struct{}, ready *sync.WaitGroup, started *atomic.Int64, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 99))
	last := make([]int64, contractKeys) // per key, the newest version this reader saw
	viewer, _ := s.(Viewer)
	for n := 0; ; n++ {
		if n == 100 {
			ready.Done()
		}
		if n > 100 {
			select {
			case <-done:
				return ""
			default:
			}
		}
		i := rng.IntN(contractKeys)
		v, ok := s.Get(config.KeyName(i))
		if ok {
			ver, conv := config.ValueVersion(v)
			switch {
			case !conv || v != config.Value(ver, i):
				return "Get(" + config.KeyName(i) + ") = " + strconv.Quote(v) + ", a value never written"
			case !present(ver, i):
				return "Get(" + config.KeyName(i) + ") returned a value from version " + strconv.FormatInt(ver, 10) + ", which has no such key"
			case ver > started.Load():
				return "Get returned version " + strconv.FormatInt(ver, 10) + " before it was applied"
			case ver < last[i]:
				return "key " + strconv.Itoa(i) + " went back in time: version " + strconv.FormatInt(last[i], 10) + " then " + strconv.FormatInt(ver, 10)
			}
			last[i] = ver
		}
		if viewer != nil && n%8 == 0 {
			if msg := checkView(viewer.View()); msg != "" {
				return msg
			}
		}
	}
}

// checkView reads every key of one view and reports a view that mixes versions.
func checkView(view *config.Snapshot) string {
	want := view.Version()
	var seen []string
	for i := 0; i < contractKeys; i++ {
		v, ok := view.Get(config.KeyName(i))
		if ok != present(want, i) {
			return "view of version " + strconv.FormatInt(want, 10) + " has the wrong key set"
		}
		if !ok {
			continue
		}
		if ver, _ := config.ValueVersion(v); ver != want {
			seen = append(seen, strconv.FormatInt(ver, 10))
		}
	}
	if len(seen) > 0 {
		return "torn view: version " + strconv.FormatInt(want, 10) + " also holds values of versions " + strings.Join(seen, ",")
	}
	return ""
}

func TestNewUnknownListsValid(t *testing.T) {
	t.Parallel()
	_, err := New("rcu")
	require.Error(t, err)
	for _, name := range Names() {
		assert.Contains(t, err.Error(), name)
	}
	assert.Contains(t, err.Error(), `"rcu"`)
}

func TestViewerOnlyWhereHonest(t *testing.T) {
	t.Parallel()
	want := map[string]bool{"lockmap": false, "lockswap": true, "syncmap": false, "lockparse": false, "atomic": true}
	for _, name := range Names() {
		s, err := New(name)
		require.NoError(t, err)
		_, ok := s.(Viewer)
		assert.Equal(t, want[name], ok, "store %s Viewer", name)
		assert.NotEmpty(t, Describe(name))
	}
}

func TestZeroValues(t *testing.T) {
	t.Parallel()
	for _, s := range []Store{&LockSwap{}, &SyncMap{}, &Atomic{}} {
		_, ok := s.Get("x")
		assert.False(t, ok, s.Name())
		assert.Equal(t, int64(0), s.Version(), s.Name())
		s.Apply(contractSnapshot(3))
		assert.Equal(t, int64(3), s.Version(), s.Name())
	}
}

// TestRawApplierHoldsTheLockForTheParse checks lockparse's defining trait:
// a reader that arrives while ApplyRaw is parsing waits until the parse and
// rebuild are done, and a failed parse changes nothing.
func TestRawApplierHoldsTheLockForTheParse(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		s, err := New(name)
		require.NoError(t, err)
		ra, ok := s.(RawApplier)
		if name != "lockparse" {
			assert.False(t, ok, "%s parses outside the store", name)
			continue
		}
		require.True(t, ok)
		s.Apply(contractSnapshot(1))
		parsing := make(chan struct{})
		release := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err := ra.ApplyRaw([]byte("v2"), func([]byte) (*config.Snapshot, error) {
				close(parsing)
				<-release
				return contractSnapshot(2), nil
			})
			assert.NoError(t, err)
		}()
		<-parsing
		read := make(chan string, 1)
		go func() {
			v, _ := s.Get(config.KeyName(1))
			read <- v
		}()
		select {
		case v := <-read:
			t.Fatalf("a reader got %q while the parse held the lock", v)
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		assert.Equal(t, config.Value(2, 1), <-read, "the blocked reader sees the new version")
		<-done

		_, err = ra.ApplyRaw([]byte("bad"), func([]byte) (*config.Snapshot, error) { return nil, errors.New("bad") })
		require.Error(t, err)
		assert.Equal(t, int64(2), s.Version(), "a failed parse leaves the serving version")
	}
}
