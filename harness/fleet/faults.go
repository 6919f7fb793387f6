package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/ctxtime"
	"slices"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/harness/etcdcluster"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
)

// Fault is one fault experiment's outcome.
type Fault struct {
	Name string `json:"name"`
	What string `json:"what"` // what was done
	// Attempted and Failed count the harness's puts (a failed put is
	// retried for up to putRetryFor, as a real writer would; Failed counts
	// those that never succeeded).
	Attempted int `json:"attempted"`
	Failed    int `json:"failed"`
	// Missed counts (replica, successful update) pairs the replicas other
	// than the fault's subject never applied: each applied a later
	// revision instead (coalesced: it was cut off while several updates
	// were made) unless FinalBehind says it ended behind.
	Missed  int `json:"missed"`
	Skipped int `json:"skipped"` // intermediate versions the stopped replica never applied (coalesced or compacted away)
	// Reordered counts applied runs with a revision or version lower than
	// the run before, over every replica.
	Reordered int `json:"reordered"`
	Torn      int `json:"torn"`
	// FinalBehind counts replicas not serving the last successful update
	// at the end.
	FinalBehind int `json:"final_behind"`
	// KeptServing is true when every replica served the last good version
	// at every check during the fault (checked once a second, in the
	// etcd-down fault only); Checks counts the checks.
	KeptServing bool `json:"kept_serving"`
	Checks      int  `json:"checks"`
	// RecoverMs is the time from the fault's end (members back, replica
	// continued) to every replica serving the newest version; 0 where the
	// fault has no end to recover from (kill-leader: updates go on).
	RecoverMs float64 `json:"recover_ms"`
	// MaxConvergenceMs is the longest convergence (put issued → every
	// replica applied) of the fault's updates that every replica applied.
	MaxConvergenceMs float64 `json:"max_convergence_ms"`
	// Compacted counts replicas whose events say they re-read after a
	// compaction ("history compacted"), each once.
	Compacted int `json:"compacted"`
	// TriggerErrors counts trigger-error events during the fault.
	TriggerErrors int `json:"trigger_errors"`
	// Outcome is a sentence computed from the fields above.
	Outcome string `json:"outcome"`
}

// putRetryFor is how long the harness retries a put that failed.
const putRetryFor = 3 * time.Second

// faultRig is the three-member cluster and the replicas the faults run on.
type faultRig struct {
	cfg     Config
	cluster *etcdcluster.Cluster
	client  *clientv3.Client
	reps    []*replica
	keys    int
	version int64 // the last version put successfully
	rev     int64 // its revision
}

// put puts version v, retrying for putRetryFor; it returns the update
// and whether the put succeeded, and counts into f.
func (g *faultRig) put(ctx context.Context, v int64, f *Fault, retry time.Duration) (Update, bool) {
	data := config.Generate(v, g.keys)
	h := sha256.Sum256(data)
	u := Update{Version: v, Start: time.Now(), Hash: hex.EncodeToString(h[:])}
	f.Attempted++
	deadline := time.Now().Add(retry)
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		resp, err := g.client.Put(pctx, etcdFleetKey, string(data))
		cancel()
		if err == nil {
			u.End, u.Revision = time.Now(), resp.Header.Revision
			g.version, g.rev = v, resp.Header.Revision
			return u, true
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			f.Failed++
			return u, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// check records whether every replica serves the last good version.
func (g *faultRig) check(ctx context.Context, f *Fault) {
	f.Checks++
	for _, r := range g.reps {
		v, err := r.version(ctx)
		if err != nil || v != g.version {
			f.KeptServing = false
		}
	}
}

// finish waits for every replica to serve the newest version, reads the
// event logs, and fills the outcome counts for the updates ups; subject
// is the replica the fault stopped (-1 for none), whose skipped versions
// are counted apart.
func (g *faultRig) finish(ctx context.Context, f *Fault, ups []Update, since time.Time, recoverFrom time.Time, subject int) error {
	at, err := waitAll(ctx, g.reps, g.version, convergeTimeout)
	if err != nil {
		return err
	}
	if !at.IsZero() && !recoverFrom.IsZero() {
		f.RecoverMs = ms(at.Sub(recoverFrom))
	}
	logs := make([][]strategies.Event, len(g.reps))
	compacted := make([]bool, len(g.reps))
	for i, r := range g.reps {
		evs, err := r.events(ctx)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.Detected.Before(since) {
				continue
			}
			logs[i] = append(logs[i], e)
			if strings.Contains(e.Reason, "history compacted") && !compacted[i] {
				compacted[i] = true
				f.Compacted++
			}
			if e.Outcome == strategies.TriggerError {
				f.TriggerErrors++
			}
		}
	}
	if len(ups) > 0 {
		s := analyse(SourceEtcd, g.keys, 0, ups, logs)
		f.Missed, f.Reordered, f.Torn, f.FinalBehind = s.Missed, s.Reordered, s.Torn, s.FinalBehind
		if len(s.Convergence) > 0 {
			f.MaxConvergenceMs = slices.Max(s.Convergence)
		}
		if subject >= 0 {
			sub := analyse(SourceEtcd, g.keys, 0, ups, logs[subject:subject+1])
			f.Skipped = sub.Missed
			f.Missed -= sub.Missed
		}
	}
	f.Outcome = f.sentence()
	return nil
}

// sentence states the outcome from the counts.
func (f *Fault) sentence() string {
	var parts []string
	if f.FinalBehind == 0 {
		parts = append(parts, "every replica converged to the last revision")
	} else {
		parts = append(parts, fmt.Sprintf("%d replica(s) did NOT converge to the last revision", f.FinalBehind))
	}
	if f.RecoverMs > 0 {
		parts = append(parts, fmt.Sprintf("%.0f ms after the fault ended", f.RecoverMs))
	}
	if f.MaxConvergenceMs > 0 {
		parts = append(parts, fmt.Sprintf("slowest update converged in %.0f ms", f.MaxConvergenceMs))
	}
	if f.Missed > 0 {
		parts = append(parts, fmt.Sprintf("the other replicas skipped %d (replica, update) pair(s) for a later revision", f.Missed))
	}
	parts = append(parts, fmt.Sprintf("%d reordered, %d torn", f.Reordered, f.Torn))
	if f.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("the stopped replica skipped %d intermediate version(s)", f.Skipped))
	}
	if f.Checks > 0 {
		if f.KeptServing {
			parts = append(parts, fmt.Sprintf("every replica kept serving the last good config at all %d checks", f.Checks))
		} else {
			parts = append(parts, "some replica did not serve the last good config at some check")
		}
	}
	if f.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d puts failed", f.Failed, f.Attempted))
	}
	if f.Compacted > 0 {
		parts = append(parts, fmt.Sprintf("%d replica(s) re-read after a compaction", f.Compacted))
	}
	return strings.Join(parts, "; ")
}

// runFaults runs the fault experiments on a three-member cluster.
func runFaults(ctx context.Context, cfg Config, bin, work string) ([]Fault, error) {
	keys := 1000
	if cfg.Quick {
		keys = 200
	}
	src, err := newSource(ctx, SourceEtcd, work, 3, config.Generate(1, keys))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	reps, err := startReplicas(ctx, bin, cfg.Replicas, src.replicaArgs())
	if err != nil {
		return nil, err
	}
	defer stopReplicas(reps)
	g := &faultRig{cfg: cfg, cluster: src.cluster, client: src.client, reps: reps, keys: keys, version: 1}
	outage, pause, steps := 10*time.Second, 5*time.Second, 10
	if cfg.Quick {
		outage, pause, steps = 2*time.Second, time.Second, 4
	}
	var out []Fault
	for _, fn := range []func(context.Context, *faultRig, time.Duration, time.Duration, int) (Fault, error){
		faultKillLeader, faultOutage, faultCompactStopped, faultCompactCutOff, faultPause,
	} {
		f, err := fn(ctx, g, outage, pause, steps)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(cfg.Log, "fleet: fault %s: %s\n", f.Name, f.Outcome)
		out = append(out, f)
	}
	return out, nil
}

// leader returns the index of the member that leads, or -1.
func (g *faultRig) leader(ctx context.Context) int {
	for i, ep := range g.cluster.Endpoints() {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := g.client.Status(sctx, ep)
		cancel()
		if err == nil && st.Leader == st.Header.MemberId {
			return i
		}
	}
	return -1
}

func faultKillLeader(ctx context.Context, g *faultRig, _, _ time.Duration, steps int) (Fault, error) {
	f := Fault{Name: "kill-leader"}
	lead, which := g.leader(ctx), "the leader"
	if lead < 0 {
		lead, which = 0, "member 0 (no leader was found)"
	}
	f.What = fmt.Sprintf("SIGKILL %s (member %d of 3) after %d updates, %d more updates while it is down, restart it, %d more; an update every 300 ms, each put retried for up to %v", which, lead, steps/2, steps, steps/2, putRetryFor)
	since := time.Now()
	var ups []Update
	step := func(n int) {
		for range n {
			if u, ok := g.put(ctx, g.version+1, &f, putRetryFor); ok {
				ups = append(ups, u)
			}
			ctxtime.Sleep(ctx, 300*time.Millisecond)
		}
	}
	step(steps / 2)
	if err := g.cluster.Stop(lead); err != nil {
		return f, err
	}
	step(steps)
	if err := g.cluster.Restart(ctx, lead); err != nil {
		return f, err
	}
	step(steps / 2)
	return f, g.finish(ctx, &f, ups, since, time.Time{}, -1)
}

func faultOutage(ctx context.Context, g *faultRig, outage, _ time.Duration, _ int) (Fault, error) {
	f := Fault{Name: "etcd-down", KeptServing: true}
	f.What = fmt.Sprintf("SIGKILL all 3 members; for %v a put is attempted every second (each given 500 ms) and every replica's serving version is checked; restart all members and put once more (retried for up to %v)", outage, putRetryFor)
	since := time.Now()
	g.cluster.StopAll()
	end := time.Now().Add(outage)
	for time.Now().Before(end) {
		g.put(ctx, g.version+1, &f, 0)
		g.check(ctx, &f)
		ctxtime.Sleep(ctx, time.Second)
	}
	if err := g.cluster.RestartAll(ctx); err != nil {
		return f, err
	}
	back := time.Now()
	var ups []Update
	if u, ok := g.put(ctx, g.version+1, &f, putRetryFor); ok {
		ups = append(ups, u)
	}
	return f, g.finish(ctx, &f, ups, since, back, -1)
}

// compactAfterStop SIGSTOPs replica subject, runs between (which may cut
// its connection), puts n updates, compacts the history to the last, and
// SIGCONTs the replica.
func compactAfterStop(ctx context.Context, g *faultRig, f *Fault, subject, n int, between func() error) ([]Update, time.Time, error) {
	r := g.reps[subject]
	if err := r.proc.Signal(syscall.SIGSTOP); err != nil {
		return nil, time.Time{}, err
	}
	defer r.proc.Signal(syscall.SIGCONT)
	if between != nil {
		if err := between(); err != nil {
			return nil, time.Time{}, err
		}
	}
	var ups []Update
	for range n {
		if u, ok := g.put(ctx, g.version+1, f, putRetryFor); ok {
			ups = append(ups, u)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := g.client.Compact(cctx, g.rev, clientv3.WithCompactPhysical())
	cancel()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("fleet: compact to %d: %w", g.rev, err)
	}
	ctxtime.Sleep(ctx, 500*time.Millisecond)
	if err := r.proc.Signal(syscall.SIGCONT); err != nil {
		return nil, time.Time{}, err
	}
	return ups, time.Now(), nil
}

func faultCompactStopped(ctx context.Context, g *faultRig, _, _ time.Duration, steps int) (Fault, error) {
	f := Fault{Name: "compact-while-stopped"}
	f.What = fmt.Sprintf("SIGSTOP replica 0, put %d updates, compact the history to the last revision (physical), SIGCONT it; its watch stream stays open meanwhile", steps/2)
	since := time.Now()
	ups, back, err := compactAfterStop(ctx, g, &f, 0, steps/2, nil)
	if err != nil {
		return f, err
	}
	return f, g.finish(ctx, &f, ups, since, back, 0)
}

func faultCompactCutOff(ctx context.Context, g *faultRig, _, _ time.Duration, steps int) (Fault, error) {
	f := Fault{Name: "compact-while-cut-off"}
	f.What = fmt.Sprintf("SIGSTOP replica 0, SIGKILL and restart all 3 members (its connection dies while it cannot notice), put %d updates, compact to the last revision, SIGCONT it: its watch must resume from a compacted revision", steps/2)
	since := time.Now()
	ups, back, err := compactAfterStop(ctx, g, &f, 0, steps/2, func() error {
		g.cluster.StopAll()
		return g.cluster.RestartAll(ctx)
	})
	if err != nil {
		return f, err
	}
	return f, g.finish(ctx, &f, ups, since, back, 0)
}

func faultPause(ctx context.Context, g *faultRig, _, pause time.Duration, _ int) (Fault, error) {
	f := Fault{Name: "replica-paused"}
	f.What = fmt.Sprintf("SIGSTOP replica 1 for %v while an update is put every 300 ms, then SIGCONT it", pause)
	since := time.Now()
	r := g.reps[min(1, len(g.reps)-1)]
	if err := r.proc.Signal(syscall.SIGSTOP); err != nil {
		return f, err
	}
	var ups []Update
	end := time.Now().Add(pause)
	for time.Now().Before(end) {
		if u, ok := g.put(ctx, g.version+1, &f, putRetryFor); ok {
			ups = append(ups, u)
		}
		ctxtime.Sleep(ctx, 300*time.Millisecond)
	}
	if err := r.proc.Signal(syscall.SIGCONT); err != nil {
		return f, err
	}
	back := time.Now()
	return f, g.finish(ctx, &f, ups, since, back, min(1, len(g.reps)-1))
}
