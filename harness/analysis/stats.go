package analysis

import (
	"github.com/reloadlab/reloadlab/harness/stats"
)

// Quantiles summarises a distribution. Values are in the unit the caller
// chose (the JSON field names say which).
type Quantiles struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Summarize returns the quantiles (stats.Quantile's definition) of the
// finite values of xs, scaled by scale (e.g. 1e-6 to turn nanoseconds into
// milliseconds).
func Summarize(xs []float64, scale float64) Quantiles {
	sorted := stats.Clean(xs)
	q := Quantiles{N: len(sorted)}
	if len(sorted) == 0 {
		return q
	}
	q.P50 = stats.QuantileSorted(sorted, 0.50) * scale
	q.P99 = stats.QuantileSorted(sorted, 0.99) * scale
	q.P999 = stats.QuantileSorted(sorted, 0.999) * scale
	q.Max = sorted[len(sorted)-1] * scale
	q.Mean = stats.Mean(sorted) * scale
	return q
}
