package reload

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
)

// benchKeys is the size of the config both sides read from, as in the lab's
// store benchmarks.
const benchKeys = 10_000

// BenchmarkLoad measures the hot path a service pays per read: Load and a
// key lookup in the loaded map (src=reload), beside the lab's atomic store
// Get (src=store-atomic), the same atomic.Pointer load and map lookup. Both
// read the same 10k-key config from GOMAXPROCS goroutines (run with
// -cpu 1,2); nothing reloads meanwhile. Compare with
// benchstat -col /src.
func BenchmarkLoad(b *testing.B) {
	data := config.Generate(1, benchKeys)
	snap, err := config.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	keys := snap.Keys()

	b.Run("src=reload", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		r, err := New(path, func(d []byte) (*config.Snapshot, error) { return config.Parse(d) },
			WithTrigger(Poll(time.Hour))) // no background work during the measurement
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		benchReads(b, func(k string) (string, bool) { return r.Load().Get(k) }, keys)
	})
	b.Run("src=store-atomic", func(b *testing.B) {
		s := store.NewAtomic()
		s.Apply(snap)
		benchReads(b, s.Get, keys)
	})
}

// benchReads runs get over keys from GOMAXPROCS goroutines, each from its
// own offset, yielding every 1024 reads, as the lab's store benchmark does.
func benchReads(b *testing.B, get func(string) (string, bool), keys []string) {
	b.ReportAllocs()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) * 7919
		n := len(keys)
		for pb.Next() {
			if _, ok := get(keys[i%n]); !ok {
				b.Error("key missing: " + keys[i%n])
				return
			}
			i++
			if i%1024 == 0 {
				runtime.Gosched()
			}
		}
	})
}
