package detect

import (
	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/detect/kernel"
)

// The kernel experiments live in package kernel; these aliases keep their
// result types reachable as detect.X, the names Matrix's fields have in
// matrix.json and the names the ledger, verdict and report packages use.

// Overflow is the result of the inotify queue overflow experiment.
type Overflow = kernel.Overflow

// OverflowColumn is what one column did in the overflow experiment.
type OverflowColumn = kernel.OverflowColumn

// ArticleLoop is the article's chapter-2.2 stress test, run as written and
// with two variants that give it its best chance to overflow.
type ArticleLoop = kernel.ArticleLoop

// ArticleLoopRun is one variant of the article's loop.
type ArticleLoopRun = kernel.ArticleLoopRun

// WatchLimit is the result of the inotify watch limit experiment.
type WatchLimit = kernel.WatchLimit

// WatchLimitColumn is what one column did with no watch left.
type WatchLimitColumn = kernel.WatchLimitColumn

// InstanceLimit is the result of the inotify instance limit experiment.
type InstanceLimit = kernel.InstanceLimit

// InstanceLimitColumn is what one column did with no inotify instance left
// in its namespace.
type InstanceLimitColumn = kernel.InstanceLimitColumn

// InstanceLimitChange is one change made to the config after a column
// started in the instance limit experiment, and whether it was served.
type InstanceLimitChange = kernel.InstanceLimitChange

// Idle is the result of the idle-cost experiment.
type Idle = kernel.Idle

// IdleRow is one column's idle cost.
type IdleRow = kernel.IdleRow

// Outcomes of a column in the instance limit experiment (see package
// kernel).
const (
	OutcomeFailAtStart      = kernel.OutcomeFailAtStart
	OutcomeExit             = kernel.OutcomeExit
	OutcomeFallbackPolling  = kernel.OutcomeFallbackPolling
	OutcomeServedBySignal   = kernel.OutcomeServedBySignal
	OutcomeKeepServingStale = kernel.OutcomeKeepServingStale
)

// Limits and sizes of the experiments (see package kernel).
const (
	// DefaultWatchLimit is the watch limit the watch-limit child sets in
	// its user namespace.
	DefaultWatchLimit = kernel.DefaultWatchLimit
	// DefaultInstanceLimit is the max_inotify_instances each
	// instance-limit child sets in its user namespace.
	DefaultInstanceLimit = kernel.DefaultInstanceLimit
	// ArticleLoopIterations is the loop count of the article's stress
	// snippet.
	ArticleLoopIterations = kernel.ArticleLoopIterations
)

// State identifies the content a column serves: the SHA-256 of the bytes
// our pipeline read (Hash), or the canonical digest of the map a peer
// loaded (Digest).
type State = rig.State
