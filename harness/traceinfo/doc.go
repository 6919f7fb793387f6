// Package traceinfo reads one Go execution trace (a runtime/trace
// flight-recorder snapshot that the target takes around a config reload, or
// any trace written by runtime/trace.Start) with golang.org/x/exp/trace and
// keeps only what the lab needs to judge that reload: stop-the-world pauses,
// GC mark phases, goroutines blocking (and which of them waited on a lock),
// and the reload's own annotations (task, regions, logs). Everything else in
// the trace is dropped while it streams past: a 10–30 MB trace is
// summarised in one pass without holding its events in memory.
//
// # Use
//
//	sum, err := traceinfo.ParseFile("results/atomic/trace-reload-3.out")
//	if err != nil { ... }            // nothing usable in the file
//	if sum.Truncated { ... }         // cut short; complete generations kept
//	from, to := apply.Add(-100*time.Millisecond), apply.Add(400*time.Millisecond)
//	pauses := sum.STWIn(from, to)              // stop-the-world ranges overlapping the window
//	waiters := sum.BlockedGoroutinesIn(from, to) // goroutines that waited on a sync lock
//	for _, l := range sum.LogsIn("reload") { fmt.Println(l.At, l.Message) }
//
// Parse does the same from an io.Reader. Both return an error, always
// prefixed "traceinfo: ", only when nothing usable could be read: a missing
// file, a bad or unsupported header, or a trace that fails before its first
// complete generation.
//
// # Definitions
//
//   - Time: every time in a Summary is wall clock. Go 1.25+ traces carry a
//     clock snapshot (trace clock, wall clock, monotonic clock read together)
//     in every generation's Sync event; a trace time t becomes
//     snapshot.Wall + (t − snapshot.Trace), using the most recent snapshot.
//     This aligns trace events with time.Now() readings of other processes
//     on the same machine, such as vegeta's Result.Timestamp. Without a
//     snapshot (older traces) Summary.WallClock is false and times are
//     time.Unix(0, 0) plus the offset from the start of the trace.
//   - Start, End: the first and last event of the trace (the parser's Sync
//     events); for a flight-recorder snapshot, the span of the generations
//     it kept.
//   - STW: every range named "stop-the-world (<reason>)"; Range.Reason is
//     <reason>, e.g. "GC sweep termination", "GC mark termination",
//     "start trace", "read mem stats", "goroutine profile". One runtime.GC()
//     gives two: sweep termination and mark termination.
//   - GCMark: every "GC concurrent mark phase" range. In the trace this
//     range spans the whole GC cycle up to mark termination: it begins just
//     before the sweep termination pause (runtime: gcStart) and ends inside
//     the mark termination pause (gcMarkTermination), so it contains the
//     first pause and overlaps the second.
//   - Ranges are paired begin to end by (name, scope); a range already in
//     progress when the trace starts (RangeActive) starts at the trace
//     start, and one still open at the end ends at the trace end. Dur is
//     measured in trace time.
//   - Block: a goroutine going from Running to Waiting, with the runtime's
//     reason ("sync", "chan receive", "select", "network", "sleep",
//     "sync.(*Cond).Wait", "GC background sweeper wait", ...). Lock marks a
//     wait on a user lock:
//     the blocking stack has a sync.(*Mutex) or sync.(*RWMutex) frame, and
//     Frame names the innermost such frame (for example
//     "sync.(*RWMutex).RLock"); otherwise Frame is the top frame (for
//     example "runtime.chanrecv1"). The reason "sync" alone is not enough:
//     sync.WaitGroup waits and runtime semaphores (worldsema, gcsema) report
//     it too. Status events at generation boundaries (from GoUndetermined)
//     are not blocks.
//   - Tasks, Regions, Logs: runtime/trace.NewTask, WithRegion/StartRegion
//     and Log. A task or region whose begin is not in the trace (it fell out
//     of the flight recorder's window) starts at the trace start, and one
//     whose end is not in the trace ends at the trace end; such a task may
//     have an empty Type. Note that StartRegion called while tracing is off
//     records nothing at all, not even the end.
//   - Truncated: the trace stopped with a read error (a file cut while it
//     was written) after at least one complete generation. The events of
//     the complete generations are kept; the rest is lost.
//
// # Looking further with go tool trace
//
// A Summary is a digest. The same file opens in the standard viewer:
//
//	go tool trace results/atomic/trace-reload-3.out
//
// "User-defined tasks" and "User-defined regions" list the reload task and
// its regions with their latency; "View trace by proc" shows the GC and
// stop-the-world slices next to the goroutines; "Goroutine analysis" breaks
// down block time by reason; the synchronization blocking profile
// (go tool trace -pprof=sync trace.out > sync.pprof, then go tool pprof)
// shows where lock waits come from. go tool trace also accepts traces
// truncated at a generation boundary.
package traceinfo
