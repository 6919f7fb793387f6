package analysis

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
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

// Summarize returns the exact quantiles (nearest rank) of xs, scaled by
// scale (e.g. 1e-6 to turn nanoseconds into milliseconds). xs is sorted in
// place.
func Summarize(xs []float64, scale float64) Quantiles {
	q := Quantiles{N: len(xs)}
	if len(xs) == 0 {
		return q
	}
	slices.Sort(xs)
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	q.P50 = rank(xs, 0.50) * scale
	q.P99 = rank(xs, 0.99) * scale
	q.P999 = rank(xs, 0.999) * scale
	q.Max = xs[len(xs)-1] * scale
	q.Mean = sum / float64(len(xs)) * scale
	return q
}

// rank returns the nearest-rank quantile p of sorted xs.
func rank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Estimate is a point estimate with a 95% confidence interval. An estimate
// that could not be made is NaN, encoded in JSON as null.
type Estimate struct {
	Value float64
	Lo    float64
	Hi    float64
}

type estimateJSON struct {
	Value *float64 `json:"value"`
	Lo    *float64 `json:"ci_lo"`
	Hi    *float64 `json:"ci_hi"`
}

func finiteOrNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON encodes NaN as null.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return json.Marshal(estimateJSON{finiteOrNil(e.Value), finiteOrNil(e.Lo), finiteOrNil(e.Hi)})
}

// UnmarshalJSON decodes null as NaN.
func (e *Estimate) UnmarshalJSON(data []byte) error {
	var j estimateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	e.Value, e.Lo, e.Hi = orNaN(j.Value), orNaN(j.Lo), orNaN(j.Hi)
	return nil
}

// Valid reports whether the estimate could be made.
func (e Estimate) Valid() bool { return !math.IsNaN(e.Value) }

// bootstrapRatio estimates 1 − mean(a)/mean(b) with a percentile bootstrap
// CI, resampling a and b independently.
func bootstrapDip(a, b []float64, resamples int) Estimate {
	if len(a) == 0 || len(b) == 0 {
		return Estimate{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	dip := func(ma, mb float64) float64 {
		if mb == 0 {
			return math.NaN()
		}
		return 1 - ma/mb
	}
	est := Estimate{Value: dip(mean(a), mean(b))}
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 0, resamples)
	for i := 0; i < resamples; i++ {
		vals = append(vals, dip(resampleMean(rng, a), resampleMean(rng, b)))
	}
	slices.Sort(vals)
	est.Lo = vals[int(0.025*float64(resamples))]
	est.Hi = vals[int(0.975*float64(resamples))-1]
	return est
}

func resampleMean(rng *rand.Rand, xs []float64) float64 {
	s := 0.0
	for range xs {
		s += xs[rng.IntN(len(xs))]
	}
	return s / float64(len(xs))
}

// mean returns the mean of xs, 0 for none.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
