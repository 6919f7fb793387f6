// Package strategies names reloadlab's reload strategies and runs the reload
// pipeline they share.
//
// A strategy is a pair of a store (how the live config is held and swapped,
// package store) and a trigger (how a change is noticed, package trigger).
// Presets name useful pairs; either half can be overridden:
//
//	atomic    atomic   + dirwatch
//	lockmap   lockmap  + dirwatch
//	lockswap  lockswap + dirwatch
//	syncmap   syncmap  + dirwatch
//	polling   atomic   + pollhash
//	signal    atomic   + signal
//	robust    atomic   + robust
//
// # The reload pipeline
//
// A Reloader runs: trigger fires → read the file (size-limited, never
// blocking on a FIFO, package safefile) → skip if the content hash equals
// the serving config's or the last rejected file's → parse and validate
// (package config) → store.Apply → record an Event. A file that fails to
// read, parse or validate is rejected: the old config keeps serving, the
// rejection is counted and its reason kept in the event and in LastError.
// Fires that arrive while a reload runs coalesce into one more run.
//
// Each run is an execution-trace task "reload" with regions "reload.read",
// "reload.parse" and "reload.apply" and a trace.Log in category "reload", so
// a trace or flight-recorder snapshot shows reloads on the timeline (go tool
// trace → User-defined tasks). Annotations cost next to nothing while
// tracing is off.
//
// # Event log format (reloads.jsonl)
//
// Events are written as JSON Lines, one Event object per line, fields as in
// the Event struct's json tags; times are RFC 3339 with nanoseconds:
//
//	{"seq":3,"outcome":"applied","version":17,"prev_version":16,"trigger":"dirwatch",
//	 "reason":"dirwatch: CREATE config.yaml","detected":"…","read_start":"…",
//	 "apply_start":"…","apply_end":"…","bytes":412345,"keys":10000,"hash":"9f86d0…"}
//
// WriteEvents and ReadEvents encode and decode it.
package strategies
