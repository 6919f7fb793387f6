// Command httpsvc is reloadlab's instrumented target: an HTTP service that
// reads several config keys on every request while a reload strategy swaps
// its config underneath.
//
// It binds to loopback only (default 127.0.0.1:0, a free port) and prints
// exactly one line to stdout once it serves:
//
//	listening on http://127.0.0.1:41234
//
// Logs go to stderr. When the trigger reports that the config file was
// replaced where it cannot be followed (robust: a single-file bind mount or
// a Kubernetes subPath whose source was replaced), one error line says so
// and what to do (mount the directory, not the file), /debug/reload shows
// "stale": true with its stale_reason and counts it in stale_reports, and
// the last good config keeps serving. SIGTERM or SIGINT shut it down cleanly. SIGUSR1 and
// SIGHUP ask for a reload when the trigger is signal or robust; with other
// triggers they keep Go's default action (SIGHUP and SIGUSR1 terminate the
// process), as in a service that never installed a handler.
//
// # Parameters
//
//	-config PATH           config file (required)
//	-strategy NAME         preset: atomic, lockmap, lockswap, syncmap, lockparse, polling, signal, robust (default atomic)
//	-store NAME            override the preset's store
//	-trigger NAME          override the preset's trigger
//	-keys N                keys read per request (default 4), spread over the initial config's keys
//	-addr HOST:PORT        loopback address (default 127.0.0.1:0)
//	-poll-interval D       poll and pollhash interval (default 250ms)
//	-debounce D            dirwatch and robust debounce (default 100ms)
//	-safety-interval D     robust's safety poll (default 1s)
//	-delay D               fsnotify (scheme 1) re-read delay (default 100ms)
//	-size-limit BYTES      largest config accepted (default 64 MiB)
//	-metrics-interval D    runtime/metrics sampling period (default 10ms)
//	-metrics-keep N        samples kept in memory (default 60000)
//	-events-keep N         reload events kept in memory (default 1024)
//	-work D                CPU time each request spends computing (default 0): a
//	                       calibrated loop that lowers capacity into the load
//	                       generator's reach, as a real handler's work does
//	-reload-burn D         extra CPU time every applied reload spends after its
//	                       apply (default 0; calibration)
//
// # Endpoints
//
//	GET  /                              the hot path: reads the keys, answers
//	                                    {"version":17} or, when the keys came from
//	                                    two versions, {"versions":[16,17],"torn":true}
//	GET  /debug/reload[?since=SEQ]      strategy, store, trigger, version, reloads,
//	                                    rejected, last_error, stale, stale_reason,
//	                                    stale_reports, torn_requests and the recent
//	                                    reload events (see package strategies)
//	GET  /debug/metrics[?since=SEQ]     runtime/metrics samples as JSON Lines
//	                                    (format: package targets/telemetry)
//	POST /debug/flightrecorder/start    ?min_age=2s&max_bytes=33554432&captures=3&after=500ms
//	POST /debug/flightrecorder/stop
//	GET  /debug/flightrecorder/snapshots       captured windows, JSON
//	GET  /debug/flightrecorder/snapshot?seq=N  one window, a trace for `go tool trace`
//	POST /debug/profiling?block=RATE&mutex=FRACTION   block and mutex profiling (0 = off)
//	POST /debug/burn?cpu=D[&mode=M]     a sham reload for calibration: spends D of
//	                                    CPU time and answers when (debugapi.Burn);
//	                                    mode clock (default: locked thread, its CPU
//	                                    clock) or loop (a calibrated loop, no lock)
//	GET  /debug/pprof/...               net/http/pprof
//
// # Examples
//
//	go run ./targets/httpsvc -config /tmp/cfg.yaml -strategy lockmap
//	curl -s localhost:PORT/debug/reload | jq .version
//	curl -s -X POST 'localhost:PORT/debug/flightrecorder/start?captures=2'
//	go tool pprof -top http://localhost:PORT/debug/pprof/mutex
package main
