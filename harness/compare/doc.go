// Package compare runs every strategy with identical parameters, repeated
// and interleaved, and says which differences are real.
//
// # Method
//
// A calibration run of the baseline (atomic) fixes the open-model rate
// (bench's upward probe), so every run of the comparison offers the same
// load. Then each round runs every strategy once, in an order rotated by
// one each round, plus the baseline a second time (the A/A pair). Runs skip
// bench's diagnosis and goroutines phases and give half their time to the
// closed-model phase (RunFractions), where the QPS dip is measured.
//
// The QPS dip (DipComparison): every reload of every round is pooled per
// strategy (package analysis: each reload against adjacent steady time),
// giving the lost throughput per reload and the dip in pp of a 1 s QPS
// sample, the dip predicted by the target's CPU accounting, and the stages
// from the interleaved controls. Intervals are 95% and allow for a random
// run effect (stats.TwoLevelMean: between-run plus between-reload
// variance), since the shots of one run share its machine's state. The
// A/A floor is the half-width of the interval of the baseline minus its
// repeat: the smallest difference between two strategies the comparison
// resolves. Each strategy's difference from the baseline gets a two-sided
// p-value (normal approximation), Holm-adjusted across the strategies. The
// same is done for the open-model phase (OpenDip).
//
// Every other metric: the median over the repeats with a distribution-free
// confidence interval (stats.MedianCI: 95% from 6 repeats, [min, max] with
// its own coverage below), the ratio of medians to the baseline, and a
// Mann-Whitney U p-value against the baseline. Each metric's comparisons
// form one family under Holm's correction. The A/A pair sets the noise
// floor on the log ratio, the largest |ln(A/A′)| over rounds (symmetric: a
// lower-is-better metric can improve past a floor above 100%); for a
// baseline median of 0, the largest absolute A/A difference. A difference
// is reported as real only when the Holm-adjusted p < 0.05 and the ratio
// lies beyond the floor; otherwise "no difference".
//
// # External targets and what clients saw
//
// Anchors (bench.IsAnchor: nginx, caddy) may be listed among the
// strategies: they run in the same rotation against the same baseline and
// A/A floor, with the harness's own reload windows (package bench). The
// metrics only the lab's target reports (internalMetrics) are NaN for them
// and judged "not available"; their dips carry no prediction or stages.
// Every point also has a ClientView per strategy: the load's failed
// requests and connection resets/EOFs in reload windows and overall, and
// change → serving time — write → applied for the lab's strategies (their
// reload events), change → first new-version and → last old-version
// response for anchors (the probe).
//
// # Sweeps
//
// Sweep "keys" repeats the comparison at 1k, 10k and 100k keys, sweep
// "rate" at reload intervals of 100 ms, 500 ms and 2 s, sweep "util" with
// the open-model phase at 25, 50, 75 and 90% of each run's own capacity
// (UtilFractions: the open-model phase gets half of each run), and plots
// each metric against the swept value, one line per strategy
// (sweep-qps-dip.png: the pooled dips; for "util", the open-model dip at
// each utilization and the closed model's at 1).
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
//	bars-qps-dip.png           the pooled dips with their intervals
//	timelines.png              every strategy's throughput and lock waits
//	                           on one time axis (last round)
//	sweep-<metric>.png         with a sweep: metric vs the swept value
//	raw/                       every run's own results directory (git-ignored)
package compare
