// Package etcdwatch is the etcd trigger: the config lives in one etcd key
// and a watch on it asks for a reload (the article's chapter 4.2, config
// moved out of files into a config centre). It is a trigger.Source: the
// value comes with the event, and the pipeline applies it through the same
// stages as a file's bytes (size limit, hash dedup, parse, validate,
// apply, event record).
//
// It lives in a package of its own so that a program that watches files
// (the reload library, the detect lab) does not link the etcd client and
// gRPC.
//
// # What it guarantees
//
//   - It starts from a Get of the key (the value and the store's revision)
//     and watches from the next revision, so no put made after Start
//     returns is missed.
//   - It remembers the last revision it saw. When a watch ends (a member
//     restarts, the cluster loses its leader: watches are made with
//     clientv3.WithRequireLeader, so a partitioned member cancels them
//     rather than going quiet) it watches again from the next revision,
//     after a bounded back-off. The client also resumes a broken stream by
//     itself from the same point.
//   - When the revision it needs has been compacted away (ErrCompacted: it
//     was cut off while the history was compacted), it re-reads the key,
//     watches from the re-read's revision, and fires a rescan notice that
//     says so ("history compacted …; re-read at rev N"). Intermediate
//     values are gone then; the newest is not.
//   - A deleted key is reported by Current as an error: the run is
//     rejected and the config serving stays. A later put is applied.
//
// Notices coalesce as for every trigger: a run applies the newest value
// known when it starts, so a replica that falls behind skips intermediate
// revisions rather than applying stale ones; the revision of every run is
// in the event log (Event.Revision), never out of order.
package etcdwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Name is the trigger's registry name.
const Name = "etcd"

// Defaults.
const (
	// DefaultDialTimeout bounds the connection to the cluster and the
	// initial Get.
	DefaultDialTimeout = 5 * time.Second
	// MinBackoff and MaxBackoff bound the wait before watching again after
	// a watch ended.
	MinBackoff = 50 * time.Millisecond
	MaxBackoff = 2 * time.Second
)

// MaxReconnectDelay caps gRPC's reconnection back-off in ClientConfig.
// gRPC's default grows to 120 s (1 s base, ×1.6): a client cut off for 10 s
// would wait up to about 6 s more after etcd is back before it tries again.
const MaxReconnectDelay = time.Second

// ClientConfig returns the client settings the trigger dials with: a quiet
// logger, keepalive pings every 2 s (a dead member is noticed), and a
// reconnection back-off from 100 ms capped at MaxReconnectDelay, so a
// replica resumes within about a second of etcd coming back.
func ClientConfig(endpoints []string, dialTimeout time.Duration) clientv3.Config {
	if dialTimeout <= 0 {
		dialTimeout = DefaultDialTimeout
	}
	return clientv3.Config{
		Endpoints:            append([]string(nil), endpoints...),
		DialTimeout:          dialTimeout,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: MaxReconnectDelay},
			MinConnectTimeout: time.Second,
		})},
	}
}

// errRewatch ends a watch that must be started again at once, from the
// revision a re-read left in next (after a compaction).
var errRewatch = errors.New("re-read after a compaction; watching again")

// Option configures a Watch.
type Option func(*Watch)

// WithClient makes the trigger use cli instead of dialling its endpoints;
// Close leaves cli open.
func WithClient(cli *clientv3.Client) Option { return func(w *Watch) { w.client = cli } }

// WithDialTimeout sets the dial and initial-Get timeout (default
// DefaultDialTimeout).
func WithDialTimeout(d time.Duration) Option {
	return func(w *Watch) {
		if d > 0 {
			w.dialTimeout = d
		}
	}
}

// Watch is the etcd trigger. Create it with New; it may be started once.
type Watch struct {
	endpoints   []string
	key         string
	dialTimeout time.Duration
	client      *clientv3.Client // given by WithClient, or dialled by Start

	mu      sync.Mutex
	cur     trigger.Content
	present bool  // the key exists at cur's revision
	deleted int64 // revision of the delete, when !present after a delete
	next    int64 // the revision the watch resumes from
	stats   Stats
}

// Stats counts what the watch loop went through.
type Stats struct {
	Events      int // watch events for the key
	Rewatches   int // watches started again after one ended
	Compactions int // re-reads after ErrCompacted
}

var _ trigger.Source = (*Watch)(nil)

// New returns an etcd trigger for key on the cluster at endpoints
// ("http://127.0.0.1:2379", …).
func New(endpoints []string, key string, opts ...Option) *Watch {
	w := &Watch{endpoints: append([]string(nil), endpoints...), key: key, dialTimeout: DefaultDialTimeout}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Name returns "etcd".
func (w *Watch) Name() string { return Name }

// Key returns the watched key.
func (w *Watch) Key() string { return w.key }

// Stats returns the watch loop's counters.
func (w *Watch) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Current returns the newest value seen, or an error when the key does not
// exist (never written, or deleted).
func (w *Watch) Current() (trigger.Content, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.present {
		if w.deleted > 0 {
			return trigger.Content{}, fmt.Errorf("etcd: key %q was deleted (absent at revision %d); the config serving stays", w.key, w.deleted)
		}
		return trigger.Content{}, fmt.Errorf("etcd: key %q does not exist", w.key)
	}
	return w.cur, nil
}

// Start connects (unless WithClient gave a client), reads the key, and
// watches it from the next revision. The path argument only labels the
// trigger's events; the key was given to New.
func (w *Watch) Start(path string, sink trigger.Sink) (io.Closer, error) {
	if sink == nil {
		return nil, errors.New("trigger etcd: nil Sink")
	}
	if w.key == "" {
		return nil, errors.New("trigger etcd: empty key")
	}
	cli, own := w.client, false
	if cli == nil {
		if len(w.endpoints) == 0 {
			return nil, errors.New("trigger etcd: no endpoints")
		}
		var err error
		cli, err = clientv3.New(ClientConfig(w.endpoints, w.dialTimeout))
		if err != nil {
			return nil, fmt.Errorf("trigger etcd: connect to %v: %w", w.endpoints, err)
		}
		own = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := w.read(ctx, cli); err != nil {
		cancel()
		if own {
			cli.Close()
		}
		return nil, fmt.Errorf("trigger etcd: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.loop(ctx, cli, sink)
	}()
	var once sync.Once
	return closerFunc(func() error {
		var err error
		once.Do(func() {
			cancel()
			wg.Wait()
			if own {
				err = cli.Close()
			}
		})
		return err
	}), nil
}

// read Gets the key and makes it the current value; the watch resumes
// after the Get's store revision. It returns that revision.
func (w *Watch) read(ctx context.Context, cli *clientv3.Client) (int64, error) {
	gctx, cancel := context.WithTimeout(ctx, w.dialTimeout)
	defer cancel()
	resp, err := cli.Get(gctx, w.key)
	if err != nil {
		return 0, fmt.Errorf("get %q: %w", w.key, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(resp.Kvs) == 0 {
		if w.present {
			w.deleted = resp.Header.Revision
		}
		w.present = false
	} else {
		kv := resp.Kvs[0]
		w.cur = trigger.Content{Data: kv.Value, Revision: kv.ModRevision, Origin: "etcd key " + w.key}
		w.present = true
	}
	w.next = resp.Header.Revision + 1
	return resp.Header.Revision, nil
}

// loop watches until ctx ends, watching again whenever a watch ends.
func (w *Watch) loop(ctx context.Context, cli *clientv3.Client, sink trigger.Sink) {
	backoff := MinBackoff
	for ctx.Err() == nil {
		w.mu.Lock()
		from := w.next
		w.mu.Unlock()
		progressed, err := w.watchOnce(ctx, cli, sink, from)
		if ctx.Err() != nil {
			return
		}
		if cerr := cli.Ctx().Err(); cerr != nil {
			// A client given by WithClient was closed under the trigger.
			sink.Error(fmt.Errorf("etcd: the client was closed (%v); no longer watching %q", cerr, w.key))
			return
		}
		if errors.Is(err, errRewatch) {
			backoff = MinBackoff
			continue // re-read after a compaction, already reported: watch again at once
		}
		if progressed {
			backoff = MinBackoff
		}
		w.mu.Lock()
		w.stats.Rewatches++
		resume := w.next
		w.mu.Unlock()
		if err == nil {
			err = errors.New("watch channel closed")
		}
		sink.Error(fmt.Errorf("etcd: watch on %q ended (%v); watching again from revision %d in %v", w.key, err, resume, backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, MaxBackoff)
	}
}

// watchOnce runs one watch from revision from until its channel closes. It
// returns whether any event arrived, and why the watch ended.
func (w *Watch) watchOnce(ctx context.Context, cli *clientv3.Client, sink trigger.Sink, from int64) (bool, error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	progressed := false
	for resp := range cli.Watch(wctx, w.key, clientv3.WithRev(from), clientv3.WithProgressNotify()) {
		seen := time.Now()
		if resp.IsProgressNotify() {
			// The store moved on without touching the key: resume from
			// there, so a compaction of those revisions is no reason to
			// re-read after the next re-watch.
			w.mu.Lock()
			w.next = max(w.next, resp.Header.Revision+1)
			w.mu.Unlock()
			continue
		}
		if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
			rev, err := w.read(ctx, cli)
			if err != nil {
				return progressed, fmt.Errorf("history compacted to revision %d; re-read failed: %w", resp.CompactRevision, err)
			}
			w.mu.Lock()
			w.stats.Compactions++
			w.mu.Unlock()
			sink.Fire(trigger.Notice{
				Reason: fmt.Sprintf("etcd: history compacted to revision %d while watching %q from %d; re-read at revision %d", resp.CompactRevision, w.key, from, rev),
				Seen:   seen, Rescan: true,
			})
			return true, errRewatch // watch again from the re-read
		}
		if err := resp.Err(); err != nil {
			return progressed, err
		}
		if resp.Canceled {
			return progressed, errors.New("watch canceled by the server")
		}
		if len(resp.Events) == 0 {
			continue
		}
		first, last, kept := w.apply(resp.Events)
		if kept == 0 {
			continue // a resumed stream repeated what was already seen
		}
		progressed = true
		reason := fmt.Sprintf("etcd: %s %s at revision %d", last.Type, w.key, last.Kv.ModRevision)
		if kept > 1 {
			reason = fmt.Sprintf("etcd: %d events on %s, revisions %d-%d", kept, w.key, first.Kv.ModRevision, last.Kv.ModRevision)
		}
		sink.Fire(trigger.Notice{Reason: reason, Seen: seen})
	}
	return progressed, ctx.Err()
}

// apply records events (in revision order) into the current value and
// returns the first and the last new ones and how many were new.
func (w *Watch) apply(evs []*clientv3.Event) (first, last *clientv3.Event, kept int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range evs {
		rev := ev.Kv.ModRevision
		if rev < w.next {
			continue // already seen (a resumed stream may repeat)
		}
		if first == nil {
			first = ev
		}
		last = ev
		kept++
		w.stats.Events++
		switch ev.Type {
		case mvccpb.PUT:
			w.cur = trigger.Content{Data: ev.Kv.Value, Revision: rev, Origin: "etcd key " + w.key}
			w.present, w.deleted = true, 0
		case mvccpb.DELETE:
			w.present, w.deleted = false, rev
		}
		w.next = rev + 1
	}
	return first, last, kept
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
