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
package target
