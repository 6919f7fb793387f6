package config

import (
	"strconv"
	"testing"
)

// BenchmarkParse measures what every store pays before its apply: parsing
// and validating a generated config of 1k, 10k or 100k keys into a
// snapshot (YAML decode, validation, the map and the content hash). It is
// the CPU a reload spends in its parse stage; the report quotes it from
// results/micro.
func BenchmarkParse(b *testing.B) {
	for _, keys := range []int{1_000, 10_000, 100_000} {
		data := Generate(1, keys)
		b.Run("keys="+strconv.Itoa(keys/1000)+"k", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
