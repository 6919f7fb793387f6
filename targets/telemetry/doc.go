// Package telemetry is the always-on instrumentation of reloadlab's targets:
// a runtime/metrics sampler, and the switchable diagnosis tools (the
// runtime/trace flight recorder snapshotted around reloads).
//
// # Sampler
//
// A Sampler reads a fixed set of runtime/metrics every interval (default
// DefaultInterval, 10 ms) into a bounded ring. Cumulative histograms are
// turned into per-sample deltas, so each Sample says what happened since the
// previous one: which GC stop-the-world pauses ended, how long runnable
// goroutines waited. It never calls runtime.ReadMemStats, which would stop
// the world itself.
//
// # Sample format (metrics.jsonl, GET /debug/metrics)
//
// JSON Lines, one Sample per line, fields as in the Sample struct's json
// tags. Histogram deltas are arrays of [lo, hi, count] triples, bounds in
// seconds, only non-empty buckets; an unbounded edge bucket is clamped to
// its finite bound:
//
//	{"seq":812,"t":1764050000123456789,"goroutines":57,"waiting":44,
//	 "runnable":3,"running":2,"mutex_wait_s":0.0123,"heap_live":9123456,
//	 "heap_goal":18000000,"heap_objects":81234,"gc_cycles":41,
//	 "gc_pauses":[[6.4e-05,7.2e-05,1],[0.000112,0.000128,1]]}
//
// t is the wall clock in Unix nanoseconds. WriteSamples and ReadSamples
// encode and decode it.
//
// # Flight recorder
//
// FlightRecorder wraps runtime/trace.FlightRecorder (Go 1.25+): once
// started, each call to OnReload schedules a snapshot a little after the
// reload, so that the kept window spans the reload; snapshots are held in
// memory (bounded) until fetched. Tracing costs about 20% on request-heavy
// paths; keep it for diagnosis runs. Open a snapshot with `go tool trace`.
package telemetry
