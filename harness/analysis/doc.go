// Package analysis turns one bench run's raw data (request records, reload
// events, the harness's write log, runtime/metrics samples, trace
// summaries) into the figures the lab reports. It does arithmetic only:
// no I/O, no plotting.
//
// # Definitions
//
//   - Reload window: [apply − 100 ms, apply + 400 ms] around each applied
//     reload (apply = the event's ApplyStart); overlapping windows merge.
//     Everything outside a window is steady time.
//   - QPS dip: 1 − (completed req/s in reload windows ÷ completed req/s in
//     steady time), over the throughput phase, counted in 100 ms bins by
//     completion time (a bin belongs to a window if its midpoint does), with
//     a 95% bootstrap confidence interval (resampling the window bins and
//     the steady bins, 2000 resamples, fixed seed).
//   - Latency: per request, from its actual send to its last byte, split by
//     whether it was sent inside a window; CO-corrected latency is measured
//     from the open model's intended send time instead (coordinated
//     omission).
//   - Detection latency: the harness's write finished → the target applied
//     that version (ApplyEnd). Apply duration: ApplyEnd − ApplyStart.
//   - Torn request: a request that read two config versions.
//   - Blocked goroutines: /sched/goroutines/waiting from the sampler, peak
//     and mean over samples inside vs outside windows (it counts every
//     waiting goroutine: idle keep-alive connections too, so compare the
//     two, not the absolute level); in trace windows, distinct goroutines
//     that blocked with a sync.(*Mutex)/sync.(*RWMutex) frame.
//   - GC pauses: stop-the-world GC pauses from the sampler's histogram
//     deltas (each pause valued at its bucket's midpoint), inside vs outside
//     windows; exact stop-the-world ranges from trace windows.
package analysis
