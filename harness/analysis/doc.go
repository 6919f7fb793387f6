// Package analysis turns one bench run's raw data (request records, reload
// events, the harness's write log, runtime/metrics samples, trace
// summaries) into the figures the lab reports. It does arithmetic only:
// no I/O, no plotting; every quantile, interval and bootstrap comes from
// package stats.
//
// # Shots and the paired estimate of what a reload costs
//
// A shot is one instant at which the target did reload work: a real reload
// (KindReload), a control that runs part of the pipeline (KindIdentical:
// the same content rewritten, noticed, read, hashed and dropped;
// KindReject: new content parsed to its last line and rejected), or a sham
// that only burns a known CPU time (KindBurn, for calibration). MatchShots
// pairs each write with the pipeline run that processed it (same content
// hash, the outcome its kind expects), so a shot's position is the
// target's own record of when it worked: pipeline start to end.
//
// Each shot i gets a window R_i = [start − Lead, end + Tail) (Geometry;
// 20 ms and 100 ms by default: the tail holds the garbage collection its
// allocations bring on) and a control C_i of the same length made of the
// two halves of adjacent time right before and right after R_i. In the
// closed-model phase (a saturated target: every CPU millisecond the reload
// takes is a millisecond no request is served), the lost throughput is
//
//	lost_i = (completions in C_i − completions in R_i) ÷ steady rate
//
// in milliseconds of the target's whole capacity (steady rate = all
// controls' completions ÷ their total length). A kind's cost is the mean of
// lost_i over its shots with a 95% interval over shots (stats.MeanCI),
// which are independent where 100 ms throughput bins are not; the symmetric control
// cancels a slow drift of the machine's speed to first order. A shot whose
// window or control overlaps another shot's window, or the trimmed edges
// of the phase (PhaseEdge), is dropped and counted.
//
// The QPS dip of a kind is its lost throughput per shot as a share of one
// QPS sample (QPSSample, 1 s: load testers print QPS per second), in
// percentage points: dip = lost ÷ 1 s, how much lower the second that
// holds one reload comes out. (With one reload every T, a whole test loses
// lost ÷ T.) It can be checked against the target's own accounting: the
// pipeline's CPU per stage (strategies.StageCPU, per-thread CPU clock) ÷
// 1 s ÷ target CPUs predicts it, and the GC CPU the runtime reports in
// windows minus controls adds the garbage's share.
//
// # Other definitions
//
//   - Reload windows and steady time, for every other split (latency, GC
//     pauses, lock waits, torn requests): the union of the reload shots'
//     windows and the union of their controls; time in neither (other
//     kinds of shot, dropped shots) is left out.
//   - Latency: per request, from its actual send to its last byte, split by
//     whether its intended send time fell in a window or a control;
//     CO-corrected latency is measured from the open model's intended send
//     time instead (coordinated omission).
//   - Detection latency: the harness's write finished → the target applied
//     that version (ApplyEnd). Apply duration: ApplyEnd − ApplyStart.
//   - Torn request: a request that read two config versions.
//   - Waiting goroutines: /sched/goroutines/waiting from the sampler. It
//     counts every waiting goroutine, idle keep-alive connections
//     included, so it is reported as a secondary figure; lock waits are
//     the growth of /sync/mutex/wait/total (ms of waiting per second) and,
//     in trace windows, the distinct goroutines that blocked with a
//     sync.(*Mutex)/sync.(*RWMutex) frame.
//   - GC pauses: stop-the-world GC pauses from the sampler's histogram
//     deltas (each pause valued at its bucket's midpoint), inside vs outside
//     windows; exact stop-the-world ranges from trace windows.
package analysis
