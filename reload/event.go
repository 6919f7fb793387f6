package reload

import "time"

// Outcome is what an Event records.
type Outcome string

// Outcomes.
const (
	// Applied: the file was new and valid; Load returns it now.
	Applied Outcome = "applied"
	// Rejected: the file could not be read, decoded or validated; the
	// previous value keeps serving and the Reloader is stale.
	Rejected Outcome = "rejected"
	// Unchanged: the content equals the serving value's or the last
	// rejected file's (then Event.Err is that file's *RejectError);
	// nothing was decoded.
	Unchanged Outcome = "unchanged"
	// TriggerError: a trigger reported a non-fatal problem (a lost watch,
	// an inotify queue overflow). No file was read.
	TriggerError Outcome = "trigger-error"
	// Degraded: a trigger's strength changed; Event.Degraded is the new
	// note, "" when it is back to full strength.
	Degraded Outcome = "degraded"
	// Stale: the trigger found that the file has been replaced where it
	// cannot follow (a single-file bind mount or a Kubernetes subPath whose
	// source was replaced: the path's inode has st_nlink 0). No file was
	// read; the previous value keeps serving; Event.StaleReason says why and
	// what to do, and Status.StaleReports counts it. Reported once per
	// episode; when the trigger can follow the file again it clears the
	// reason from Status.Stale (no event) and fires a rescan.
	Stale Outcome = "stale"
)

// Event is one pipeline run, trigger error, degradation or stale report, as the observer
// (WithObserver) is told of it.
type Event struct {
	Seq     uint64  // 1, 2, …: the order events were recorded in
	Outcome Outcome // what happened
	Trigger string  // the trigger that fired or reported ("manual" for Reload, "start" for Start)
	Reason  string  // what the trigger saw
	Rescan  bool    // the trigger asked for a re-read after missing events (overflow, lost watch)
	Version uint64  // the version serving after the event (0: nothing yet)
	Hash    string  // hex SHA-256 of the content read, "" if nothing was read
	Err     error   // Rejected: a *RejectError; TriggerError: the trigger's error
	// Stale reports that the file on disk is not what is serving (its
	// content was rejected or cannot be read, or the trigger reports that
	// it was replaced where it cannot be followed); StaleReason says why.
	Stale       bool
	StaleReason string
	Degraded    string    // Degraded: the note, "" when back to full strength
	Detected    time.Time // when the trigger first saw the change (or the event happened)
	Finished    time.Time // when the run ended (runs only)
}
