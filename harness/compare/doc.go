// Package compare runs every strategy with identical parameters, repeated
// and interleaved, and says which differences are real.
//
// # Method
//
// A calibration run of the baseline (atomic) fixes the open-model rate
// (bench's upward probe), so every run of the comparison offers the same
// load. Then each round runs every strategy once, in an order rotated by
// one each round, plus the baseline a second time (the A/A pair). Runs skip
// bench's diagnosis phase: the metrics compared all come from the
// throughput and latency phases.
//
// For each metric and strategy: the median over the repeats with a
// distribution-free confidence interval (golang.org/x/perf/benchmath,
// AssumeNothing; 95% needs at least 6 repeats, and with fewer the widest
// interval available, [min, max], is reported with its own confidence
// 1 − 2^(1−n)), the ratio of medians to the baseline, and a Mann-Whitney U
// p-value against the baseline (benchmath). The A/A pair sets the noise
// floor: per round, the relative difference between the baseline's two
// runs; the floor is the largest of those. A difference is reported as
// real only when p < 0.05 and the ratio differs from 1 by more than the
// noise floor (for a baseline median of 0, the absolute difference must
// exceed the largest absolute A/A difference); otherwise "no difference".
//
// # Sweeps
//
// Sweep "keys" repeats the comparison at 1k, 10k and 100k keys, sweep
// "rate" at reload intervals of 100 ms, 500 ms and 2 s, and plots each
// metric against the swept value, one line per strategy.
//
// # Outputs (Out, default results/compare)
//
//	summary.md, summary.json   the tables and every number behind them
//	bench.txt                  every run as a benchfmt line named
//	                           Reload/strategy=<name> (per sweep value:
//	                           Reload/<key>=<v>/strategy=<name>), so
//	                           `go tool benchstat -col /strategy bench.txt`
//	                           gives the classic table
//	bars-<metric>.png          medians with confidence intervals
//	timelines.png              every strategy's throughput and waiting
//	                           goroutines on one time axis (last round)
//	sweep-<metric>.png         with a sweep: metric vs the swept value
//	raw/                       every run's own results directory (git-ignored)
package compare
