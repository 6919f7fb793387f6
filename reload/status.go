package reload

import "time"

// Status is a Reloader's state, as Status returns it: a copy, safe to keep.
type Status struct {
	Path    string `json:"path"`
	Trigger string `json:"trigger"` // e.g. "robust", "robust+signal(SIGHUP)"
	Running bool   `json:"running"` // started and not closed

	Version  uint64    `json:"version"`   // 1 after the first load, +1 per applied reload
	Hash     string    `json:"hash"`      // hex SHA-256 of the serving file content
	LoadedAt time.Time `json:"loaded_at"` // when the serving value was applied

	Applied       uint64 `json:"applied"`   // reloads applied after the first load
	Rejected      uint64 `json:"rejected"`  // files rejected (read, decode, validate)
	Unchanged     uint64 `json:"unchanged"` // runs that found nothing new
	TriggerErrors uint64 `json:"trigger_errors"`
	Overflows     uint64 `json:"overflows"` // inotify queue overflows reported (Robust rescans after each)
	Rescans       uint64 `json:"rescans"`   // runs a trigger asked for after missing events

	LastError   string    `json:"last_error,omitempty"` // the last rejection or trigger error
	LastErrorAt time.Time `json:"last_error_at,omitzero"`

	// Stale reports that the file on disk is not what is serving: its
	// content was rejected or it cannot be read, or the trigger reports
	// that it was replaced where it cannot be followed (a single-file bind
	// mount or a Kubernetes subPath mount whose source was replaced: mount
	// the directory, not the file). StaleReason says why, the trigger's
	// reason first when both hold.
	Stale       bool   `json:"stale"`
	StaleReason string `json:"stale_reason,omitempty"`
	// StaleReports counts the stale episodes the trigger reported (one
	// Stale event each), not rejected files.
	StaleReports uint64 `json:"stale_reports"`

	// Degraded is set while a trigger runs with less than its full
	// strength, e.g. "robust: no directory watch (…); running on the 1s
	// safety poll", or signals the platform cannot deliver.
	Degraded string `json:"degraded,omitempty"`
}
