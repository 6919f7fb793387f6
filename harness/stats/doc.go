// Package stats is the lab's one statistics package: every quantile,
// interval, bootstrap, noise-floor test and multiple-comparison correction
// the harness reports comes from here, so that compare, analysis, report
// and detect agree on what a number means.
//
// # Definitions
//
//   - Quantile: Hyndman and Fan's type 7 (linear interpolation between the
//     order statistics at rank (n−1)·p; R's and NumPy's default). The median
//     of an even count is the mean of the two middle values, as
//     golang.org/x/perf/benchmath reports it. HistQuantile applies the same
//     rank to a histogram and answers with the upper bound of the bucket
//     that holds it (an upper estimate: the values inside a bucket are
//     unknown).
//   - Confidence intervals are 95% and two-sided unless a function says
//     otherwise. MedianCI is distribution-free (benchmath's AssumeNothing);
//     with fewer than 6 values no 95% interval exists and it returns [min,
//     max] with that interval's own coverage, 1 − 2^(1−n).
//   - MeanCI is the interval of a mean of independent values: Student's t
//     below SmallSample values (a percentile bootstrap of a handful of
//     values is far too narrow), the percentile bootstrap from there on.
//   - Bootstrap intervals are percentile intervals from a fixed seed, so the
//     same data give the same interval. BootstrapMean resamples independent
//     values; BlockBootstrapMean resamples moving blocks of a time series,
//     keeping the correlation between neighbours that a plain bootstrap
//     would break (and so understate the interval).
//   - The noise floor of an A/A pair is measured on the log ratio:
//     |ln(a/a′)|. It is symmetric (a ratio of 2 and of 1/2 are equally far
//     from 1), so a lower-is-better metric whose A/A floor exceeds 100% can
//     still show a real improvement, which a floor on |ratio − 1| never
//     allows.
//   - Holm adjusts a family of p-values for multiple comparisons
//     (step-down, controls the family-wise error rate).
//
// Every function ignores NaN and ±Inf inputs (they are "no measurement")
// and returns NaN where no answer exists; none panics on empty input.
package stats
