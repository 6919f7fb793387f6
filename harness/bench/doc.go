// Package bench runs one reload strategy under HTTP load while its config
// changes, and writes everything a performance engineer needs to judge it
// into one results directory (see DESIGN.md, "Results layout").
//
// # What a run does
//
//  1. Validates every name (strategy, store, trigger, write pattern) before
//     anything starts; builds the target once; writes a generated config of
//     Keys keys (values embed the version) into a temporary directory with
//     the write pattern's Init; starts the target as a separate process,
//     pinned to its own CPUs, and pins the harness (the load generator) to
//     the others.
//  2. warmup (1/12 of Duration, discarded): closed model, reloads on.
//  3. throughput (1/3): closed model at saturation (vegeta rate=0, Workers
//     workers). Reloads every ReloadEvery in alternating blocks: reloading,
//     quiet, reloading, … so that the phase has steady time to compare
//     reload windows against even when ReloadEvery is shorter than a
//     window (500 ms).
//  4. latency (1/3): open model (constant pacer, unbounded workers) at
//     Rate (default half the capacity just measured), same alternating
//     reloads; latency is reported as measured and corrected for
//     coordinated omission.
//  5. diagnosis (1/4): open model at Rate with continuous reloads, the
//     runtime/trace flight recorder capturing a window around each of the
//     first Captures reloads, block (rate 10 µs) and mutex (1/10)
//     profiling, and a CPU profile. Headline numbers never come from this
//     phase: tracing costs about 20% on request-heavy paths.
//  6. Collects the target's reload events and runtime/metrics samples,
//     stops it with SIGTERM, analyses, plots, and commits the results
//     directory in one rename.
//
// For the signal trigger the harness sends SIGUSR1 after each write, as an
// operator or a sidecar would.
//
// # Failure behaviour
//
// Results are written to a staging directory beside the destination and
// renamed into place only when complete: an interrupted run (Ctrl-C, a
// crash) leaves the previous results untouched, and the target (started
// with PDEATHSIG) is killed. If the target dies mid-run, Run stops and
// returns an error holding the target's last stderr lines.
package bench
