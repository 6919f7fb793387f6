// Package debugapi defines the documents a reloadlab target serves under
// /debug/, so the target and the harness share one definition of each.
//
// GET /debug/reload[?since=SEQ] returns a ReloadStatus as JSON; events are
// those with Seq > since. GET /debug/metrics[?since=SEQ] returns
// telemetry.Sample JSON Lines (package targets/telemetry). GET
// /debug/flightrecorder/snapshots returns []telemetry.Snapshot.
package debugapi

import (
	"time"

	"github.com/reloadlab/reloadlab/strategies"
)

// ReloadStatus is the /debug/reload document: the reload pipeline's status
// plus what the target's hot path observed. The status includes the stale
// state (stale, stale_reason: the config file was replaced where the
// trigger cannot follow, and what to do) and its counter (stale_reports),
// beside reloads, rejected, unchanged and trigger_errors.
type ReloadStatus struct {
	// Strategy is the preset name, or "<store>+<trigger>" when overridden.
	Strategy string `json:"strategy"`
	strategies.Status
	// TornRequests counts requests that read keys from two versions.
	TornRequests uint64 `json:"torn_requests"`
	// TornCheck is "ok", or "n/a" once a value without the v<version>-
	// prefix was read (the torn check cannot tell versions apart then).
	TornCheck string `json:"torn_check"`
	// MissingKeyRequests counts requests that found one of their keys absent.
	MissingKeyRequests uint64 `json:"missing_key_requests"`
	// Keys are the keys each request reads.
	Keys []string `json:"keys"`
	// ConsistentView is true when requests read through the store's
	// request-scoped snapshot (store.Viewer).
	ConsistentView bool `json:"consistent_view"`
	// GOMAXPROCS of the target (set by its CPU affinity at start).
	GOMAXPROCS int `json:"gomaxprocs"`
	// PID of the target, for signalling it.
	PID int `json:"pid"`
	// FlightRecorder is true while flight recording is on.
	FlightRecorder bool `json:"flight_recorder"`
	// BlockProfileRate and MutexProfileFraction as last set through
	// POST /debug/profiling (0 = off).
	BlockProfileRate     int64 `json:"block_profile_rate"`
	MutexProfileFraction int64 `json:"mutex_profile_fraction"`
	// RequestWork is the CPU each request spends computing (-work), as
	// calibrated at start, and RequestWorkIterations the loop count that
	// stands for it; 0 when off.
	RequestWork           time.Duration `json:"request_work_ns"`
	RequestWorkIterations uint64        `json:"request_work_iterations"`
	// ReloadExtraCost is the CPU every applied reload spends on purpose
	// (-reload-burn); 0 when off.
	ReloadExtraCost time.Duration `json:"reload_extra_cost_ns"`
}

// Burn is the answer to POST /debug/burn?cpu=D[&mode=clock|loop]: a sham
// reload that only spends D of CPU time on the handling goroutine, for
// calibration.
// Start and End bracket the burn (wall clock); CPU is the CPU time it took
// (at least Requested where the thread CPU clock exists).
type Burn struct {
	Requested time.Duration `json:"requested_ns"`
	Mode      string        `json:"mode"` // "clock" (the thread CPU clock, thread locked) or "loop" (a calibrated loop)
	CPU       time.Duration `json:"cpu_ns"`
	Start     time.Time     `json:"start"`
	End       time.Time     `json:"end"`
}
