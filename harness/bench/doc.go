// Package bench runs one reload strategy under HTTP load while its config
// changes, and writes everything a performance engineer needs to judge it
// into one results directory (see DESIGN.md, "Results layout").
//
// # What a run does
//
//  1. Validates every name (strategy, store, trigger, write pattern, shot
//     kinds, CPU lists) before anything starts; builds the target once;
//     writes a generated config of Keys keys (values embed the version)
//     into a temporary directory with the write pattern's Init; starts the
//     target as a separate process with Work of CPU per request, pinned to
//     its own CPUs, and pins the harness (the load generator) to the others
//     (TargetCPUs and LoadCPUs choose them; the same CPUs for both share
//     them, and every output says so).
//  2. warmup (Fractions.Warmup of Duration, discarded): closed model,
//     reloads on.
//  3. throughput (1/3 by default): closed model at saturation (vegeta
//     rate=0, Workers workers). One shot every ReloadEvery, dealt from
//     shuffled blocks of Mix: reloads, and the controls that split a
//     reload's cost into stages — identical rewrites (noticed, read,
//     hashed, dropped) and rejected parses (parsed to the last line and
//     rejected there). Package analysis estimates each shot's lost
//     throughput against adjacent steady time.
//  4. latency (1/3): open model (constant pacer, unbounded workers) at Rate,
//     or Utilization × the capacity just measured, or else the probed rate
//     (probeRate: two thirds of the highest rate a short probe did not
//     saturate); reloads only. Latency is reported as measured and
//     corrected for coordinated omission, in reload windows and in their
//     controls.
//  5. diagnosis (1/6): open model, the runtime/trace flight recorder
//     capturing a window around each of the first Captures reloads, block
//     (rate 10 µs) and mutex (1/10) profiling, and a CPU profile.
//  6. goroutines (1/12): closed model, goroutine profiles (debug=1) taken
//     back to back, each classified by whether a reload pipeline run was in
//     progress and which goroutines sat in a sync lock call
//     (ParseGoroutineProfile, SummarizeGoroutines).
//  7. Collects the target's reload events (with their per-stage CPU) and
//     runtime/metrics samples, stops it with SIGTERM, analyses, plots, and
//     commits the results directory in one rename.
//
// Headline numbers never come from the diagnosis and goroutines phases:
// tracing and profiling cost CPU on this request path. For the signal
// trigger the harness sends SIGUSR1 after each write, as an operator or a
// sidecar would.
//
// # External targets
//
// A Strategy naming an anchor (nginx, caddy: package anchors) or a
// TargetURL with one reload hook runs an external target instead
// (target.External): a server the harness starts pinned to the target's
// CPUs, or a service already running elsewhere. The harness changes it
// every ReloadEvery (its own reload: nginx -t and SIGHUP, Caddy's /load,
// or the remote hook) and a probe separate from the load
// (target.StartProbe) reads the version header of its responses, so each
// change gets the times of its first new-version and last old-version
// response (ChangeTiming). Reload windows are the harness's own: [change
// issued − Lead, first new-version response + Tail] of the geometry the
// lab's target uses, and the dip, latency in windows, failed requests and
// plots are computed from them as for httpsvc. Only the warm-up,
// throughput (reloads only: the controls need the lab's pipeline) and
// latency phases run. What cannot be captured from outside — traces,
// profiles, runtime/metrics, the pipeline's per-stage CPU and reload
// events, torn requests — is listed in Summary.NotAvailable and written as
// null in summary.json, never as zeros.
//
// Every run, the lab's target too, counts the load generator's failed
// requests by class (target.ClassifyError: reset, EOF, refused, timeout,
// error status) overall and in reload windows (RequestErrors).
//
// # Failure behaviour
//
// Results are written to a staging directory beside the destination and
// renamed into place only when complete: an interrupted run (Ctrl-C, a
// crash) leaves the previous results untouched, and the target (started
// with PDEATHSIG) is killed. If the target dies mid-run, Run stops and
// returns an error holding the target's last stderr lines.
package bench
