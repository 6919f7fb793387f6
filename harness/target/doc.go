// Package target builds reloadlab's HTTP target, starts it as a separate
// process pinned to its own CPUs, and talks to its /debug endpoints.
//
// # CPU pinning
//
// Split divides the machine's CPUs between the load generator (the harness
// process itself) and the target, as golang.org/x/benchmarks' sweet does
// (a quarter for the client, at least one CPU each). PinSelf pins every
// thread of the calling process; Start pins the child before exec, so the
// target's Go runtime starts with GOMAXPROCS equal to its CPU count. With
// one CPU nothing is pinned and Split says so.
//
// # External targets
//
// External is a service the harness drives without having built it: an
// Anchor (nginx or Caddy from package anchors, started and pinned here) or
// a Remote service already running elsewhere, attached to by URL and
// changed through a hook (a shell command, a POST to a reload URL, a
// signal to a local process, or a rewritten file). Such a target has no
// /debug endpoints: the harness learns which config version answered from
// a response header (ParseVersion, FetchVersion) that a Probe polls on its
// own connections, one kept alive as the load's are and one new per
// request. ClassifyError sorts the load's failed requests into what a
// client saw: resets, EOFs, refusals, timeouts, error statuses.
package target
