// Package fleet measures a fleet of replicas serving from one config
// source: how long a change takes to reach every replica (convergence),
// the skew between the first and the last, what is missed or torn, and
// what watching costs each replica idle and per update. It compares three
// sources on the same updates: one etcd key (the etcd trigger), one shared
// directory watched by the robust trigger, and the same directory polled
// by content. It also runs the article's chapter 4.2 loop as written
// beside the etcd fleet, and faults on a three-member etcd: a member
// killed, the whole cluster down for a while, the history compacted while
// a replica is stopped, and a replica stopped and resumed.
//
// Every replica is a real target process (targets/httpsvc); every etcd
// member is a real etcd (package etcdcluster). Convergence is read from
// the replicas' own event logs (Event.ApplyEnd, on this machine's clock)
// against the time each change was issued, so polling the replicas does not
// load them while they converge.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/ctxtime"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
)

// Defaults.
const (
	DefaultReplicas = 16
	DefaultUpdates  = 50
	// DefaultOut is where results go.
	DefaultOut = "results/fleet"
	// idleFor is how long the idle CPU is measured.
	idleFor = 3 * time.Second
	// convergeTimeout bounds the wait for the last update to reach every
	// replica.
	convergeTimeout = 15 * time.Second
)

// DefaultKeys are the config sizes measured: 1,000 keys, and 10,000 keys,
// where the parse of 16 replicas alone outweighs what 2 CPUs do in the
// interval a 1,000-key fleet needs.
var DefaultKeys = []int{1000, 10000}

// Config is one fleet run's parameters. Zero fields take defaults.
type Config struct {
	Replicas     int
	Updates      int
	Keys         []int
	Sources      []string
	Faults       bool // run the fault experiments on a three-member etcd
	Quick        bool // 3 replicas, 6 updates, 200 keys, short faults
	Out          string
	TargetBinary string // a prebuilt target (default: build ./targets/httpsvc)
	Log          io.Writer
	CommandLine  string
}

func (c Config) withDefaults() Config {
	if c.Quick {
		if c.Replicas == 0 {
			c.Replicas = 3
		}
		if c.Updates == 0 {
			c.Updates = 6
		}
		if len(c.Keys) == 0 {
			c.Keys = []int{200}
		}
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.Updates == 0 {
		c.Updates = DefaultUpdates
	}
	if len(c.Keys) == 0 {
		c.Keys = DefaultKeys
	}
	if len(c.Sources) == 0 {
		c.Sources = SourceNames()
	}
	if c.Out == "" {
		c.Out = DefaultOut
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// interval is the time between updates for a config of keys keys: long
// enough for every replica to parse it on this machine's CPUs (about
// 3 ms of CPU per 1,000 keys per replica, measured by make micro), with
// room, so that each update is its own event and none coalesces with the
// next by design.
func interval(keys, replicas int) time.Duration {
	perReplica := time.Duration(keys) * 4 * time.Microsecond
	need := perReplica * time.Duration(replicas) * 3
	return max(300*time.Millisecond, need)
}

// Update is one change the harness made.
type Update struct {
	Version  int64     `json:"version"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"` // the write or put returned
	Revision int64     `json:"revision,omitempty"`
	Hash     string    `json:"hash"`
}

// Run measures every source at every size, then the faults, and commits
// the results directory.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	cfg = cfg.withDefaults()
	for _, s := range cfg.Sources {
		if !slices.Contains(SourceNames(), s) {
			return nil, fmt.Errorf("fleet: unknown source %q (valid: %v)", s, SourceNames())
		}
	}
	stage, err := results.NewStage(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	work, err := os.MkdirTemp("", "reloadlab-fleet-")
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	defer os.RemoveAll(work)
	bin := cfg.TargetBinary
	if bin == "" {
		fmt.Fprintln(cfg.Log, "fleet: building the target")
		if bin, err = target.Build(ctx, work); err != nil {
			return nil, err
		}
	}
	sum := &Summary{
		Machine: machine.Read(), Made: cfg.CommandLine, Date: time.Now().UTC().Format(time.DateOnly),
		Replicas: cfg.Replicas, Updates: cfg.Updates, Quick: cfg.Quick,
		Sources: map[string]string{},
	}
	for _, s := range cfg.Sources {
		sum.Sources[s] = sourceDescription[s]
	}
	// One replica alone first (what a source costs with no CPU contention),
	// at the smallest size; then the fleet at every size.
	type run struct{ replicas, keys int }
	runs := []run{}
	if cfg.Replicas > 1 {
		runs = append(runs, run{1, cfg.Keys[0]})
	}
	for _, keys := range cfg.Keys {
		runs = append(runs, run{cfg.Replicas, keys})
	}
	for _, r := range runs {
		for _, src := range cfg.Sources {
			fmt.Fprintf(cfg.Log, "fleet: %s, %d replica(s), %d keys, %d updates every ~%v\n", src, r.replicas, r.keys, cfg.Updates, interval(r.keys, r.replicas))
			s, err := runSeries(ctx, cfg, bin, work, src, r.keys, r.replicas)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(cfg.Log, "fleet: %s\n", s.Line())
			sum.Series = append(sum.Series, s)
		}
	}
	if cfg.Faults && slices.Contains(cfg.Sources, SourceEtcd) {
		fr, err := runFaults(ctx, cfg, bin, work)
		if err != nil {
			return nil, err
		}
		sum.Faults = fr
	}
	if err := sum.write(stage); err != nil {
		return nil, err
	}
	if err := stage.Commit(); err != nil {
		return nil, err
	}
	return sum, nil
}

// runSeries measures one source at one size.
func runSeries(ctx context.Context, cfg Config, bin, work, srcName string, keys, replicas int) (*Series, error) {
	src, err := newSource(ctx, srcName, work, 1, config.Generate(1, keys))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	reps, err := startReplicas(ctx, bin, replicas, src.replicaArgs())
	if err != nil {
		return nil, err
	}
	defer stopReplicas(reps)

	// The article's loop, in this process, on the etcd fleet.
	var article *strategies.Reloader
	if src.client != nil && replicas == cfg.Replicas {
		loop, err := newArticleLoop(src.client, config.Generate(1, keys))
		if err != nil {
			return nil, err
		}
		article = strategies.NewReloader("etcd:"+articlePrefix, store.NewAtomic(), loop)
		if err := article.Start(); err != nil {
			return nil, fmt.Errorf("fleet: the article's loop: %w", err)
		}
		defer article.Close()
	}

	idle := cfg.idleFor()
	cpu0, err := fleetCPU(reps)
	if err != nil {
		return nil, err
	}
	idleStart := time.Now()
	if err := ctxtime.Sleep(ctx, idle); err != nil {
		return nil, err
	}
	cpu1, err := fleetCPU(reps)
	if err != nil {
		return nil, err
	}
	idleDur := time.Since(idleStart)

	every := interval(keys, replicas)
	rng := rand.New(rand.NewPCG(uint64(keys), 42))
	var ups []Update
	updStart := time.Now()
	for i := range cfg.Updates {
		v := int64(i + 2)
		data := config.Generate(v, keys)
		h := sha256.Sum256(data)
		u := Update{Version: v, Start: time.Now(), Hash: hex.EncodeToString(h[:])}
		rev, err := src.change(ctx, data)
		if err != nil {
			return nil, fmt.Errorf("fleet: update %d: %w", v, err)
		}
		u.End, u.Revision = time.Now(), rev
		ups = append(ups, u)
		// ±20% jitter, so the updates do not beat with a poll interval.
		if err := ctxtime.Sleep(ctx, time.Duration(float64(every)*(0.8+0.4*rng.Float64()))); err != nil {
			return nil, err
		}
	}
	last := ups[len(ups)-1].Version
	if _, err := waitAll(ctx, reps, last, convergeTimeout); err != nil {
		return nil, err
	}
	cpu2, err := fleetCPU(reps)
	if err != nil {
		return nil, err
	}
	updDur := time.Since(updStart)

	logs := make([][]strategies.Event, len(reps))
	for i, r := range reps {
		if logs[i], err = r.events(ctx); err != nil {
			return nil, err
		}
	}
	s := analyse(srcName, keys, every, ups, logs)
	s.CPU = cpuCost(cpu0, cpu1, cpu2, idleDur, updDur, len(ups))
	if article != nil {
		s.Article = articleOutcome(article.Status(0), ups)
	}
	return s, nil
}

func (c Config) idleFor() time.Duration {
	if c.Quick {
		return 500 * time.Millisecond
	}
	return idleFor
}

// resultsPath joins a results file name to the stage.
func resultsPath(stage *results.Stage, name string) string { return filepath.Join(stage.Dir, name) }
