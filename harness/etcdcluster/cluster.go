// Package etcdcluster starts real etcd members on loopback ports in a
// temporary directory, and stops them: one member for a bench run, three
// for fault experiments. Each member is go.etcd.io/etcd/server/v3/embed
// running in a child process: the calling program itself, re-executed with
// ChildEnv set, so the program (and a test binary, through TestMain) must
// call RunMemberIfChild first thing. A child process is what makes a kill
// a kill: Stop sends SIGKILL, and clients see their connections reset, as
// when a member crashes (embed's in-process Close drains watch streams
// gracefully for up to 6 s instead). Members can be restarted on the same
// data directory, one at a time or all together.
//
// Close kills every member and removes the directory; call it on every
// path, failure and interrupt included. Children are also killed by the
// kernel when the parent dies (PR_SET_PDEATHSIG), so an interrupted run
// leaves no member behind.
package etcdcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/strategies/trigger/etcdwatch"
)

// DefaultStartTimeout bounds how long Start and Restart wait for members
// to be ready (a leader elected and the member published).
const DefaultStartTimeout = 30 * time.Second

// Option configures Start.
type Option func(*options)

type options struct {
	members int
	dir     string
	timeout time.Duration
	fsync   bool
}

// WithMembers sets the cluster size (default 1).
func WithMembers(n int) Option { return func(o *options) { o.members = n } }

// WithDir puts the members' data under dir instead of a new temporary
// directory. Close still removes what it created under dir.
func WithDir(dir string) Option { return func(o *options) { o.dir = dir } }

// WithStartTimeout bounds the wait for readiness (default
// DefaultStartTimeout).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithoutFsync turns etcd's fsync off (etcd's --unsafe-no-fsync). By
// default members fsync as a production etcd does.
func WithoutFsync() Option { return func(o *options) { o.fsync = false } }

// Member is one etcd member of a Cluster.
type Member struct {
	// Name is the member's name ("m0", "m1", …).
	Name string
	// Dir is its data directory.
	Dir string
	// ClientURL and PeerURL are its loopback URLs; they stay the same
	// across restarts.
	ClientURL, PeerURL url.URL

	proc *memberProc // nil while stopped
}

// Running reports whether the member's process runs. Call it from the
// goroutine that starts and stops members.
func (m *Member) Running() bool { return m.proc != nil }

// Pid returns the member's process id, 0 while stopped. Call it from the
// goroutine that starts and stops members.
func (m *Member) Pid() int {
	if m.proc == nil {
		return 0
	}
	return m.proc.cmd.Process.Pid
}

// Cluster is a set of embedded etcd members.
type Cluster struct {
	opts    options
	dir     string
	ownDir  bool
	initial string // --initial-cluster

	mu      sync.Mutex
	members []*Member
	closed  bool
}

// Start starts the members and returns when every one is ready.
func Start(ctx context.Context, opts ...Option) (*Cluster, error) {
	o := options{members: 1, timeout: DefaultStartTimeout, fsync: true}
	for _, opt := range opts {
		opt(&o)
	}
	if o.members < 1 {
		return nil, fmt.Errorf("etcdcluster: %d members: need at least one", o.members)
	}
	c := &Cluster{opts: o}
	if o.dir == "" {
		d, err := os.MkdirTemp("", "reloadlab-etcd-")
		if err != nil {
			return nil, fmt.Errorf("etcdcluster: %w", err)
		}
		c.dir, c.ownDir = d, true
	} else {
		d, err := os.MkdirTemp(o.dir, "etcd-")
		if err != nil {
			return nil, fmt.Errorf("etcdcluster: %w", err)
		}
		c.dir, c.ownDir = d, true
	}
	var peers []string
	for i := range o.members {
		client, err := freeURL()
		if err != nil {
			c.Close()
			return nil, err
		}
		peer, err := freeURL()
		if err != nil {
			c.Close()
			return nil, err
		}
		m := &Member{Name: fmt.Sprintf("m%d", i), Dir: filepath.Join(c.dir, fmt.Sprintf("m%d", i)), ClientURL: client, PeerURL: peer}
		c.members = append(c.members, m)
		peers = append(peers, m.Name+"="+peer.String())
	}
	c.initial = strings.Join(peers, ",")
	if err := c.startMembers(ctx, c.members); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// freeURL returns an http URL on a loopback port that was free a moment ago.
func freeURL() (url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, fmt.Errorf("etcdcluster: find a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return url.URL{Scheme: "http", Host: addr}, nil
}

// memberSpec is what a member process is told, as JSON in ChildEnv.
type memberSpec struct {
	Name, Dir, ClientURL, PeerURL, InitialCluster, Token, LogFile string
	Fsync                                                         bool
}

func (c *Cluster) spec(m *Member) memberSpec {
	return memberSpec{
		Name: m.Name, Dir: m.Dir, ClientURL: m.ClientURL.String(), PeerURL: m.PeerURL.String(),
		InitialCluster: c.initial, Token: filepath.Base(c.dir),
		LogFile: filepath.Join(c.dir, m.Name+".log"), Fsync: c.opts.fsync,
	}
}

// startMembers starts ms concurrently (a member of a multi-member cluster
// is ready only once a quorum runs) and waits for all of them.
func (c *Cluster) startMembers(ctx context.Context, ms []*Member) error {
	type started struct {
		m   *Member
		p   *memberProc
		err error
	}
	ch := make(chan started, len(ms))
	for _, m := range ms {
		go func() {
			p, err := startMemberProc(ctx, c.spec(m), c.opts.timeout)
			ch <- started{m, p, err}
		}()
	}
	var errs []error
	var up []started
	for range ms {
		s := <-ch
		if s.err != nil {
			errs = append(errs, fmt.Errorf("etcdcluster: start %s: %w (log: %s)", s.m.Name, s.err, filepath.Join(c.dir, s.m.Name+".log")))
			continue
		}
		up = append(up, s)
	}
	if len(errs) > 0 {
		for _, s := range up {
			s.p.kill()
		}
		return errors.Join(errs...)
	}
	c.mu.Lock()
	closed := c.closed
	if !closed {
		for _, s := range up {
			s.m.proc = s.p
		}
	}
	c.mu.Unlock()
	if closed {
		for _, s := range up {
			s.p.kill()
		}
		return errors.New("etcdcluster: closed while members were starting")
	}
	return nil
}

// Dir returns the directory holding the members' data and logs.
func (c *Cluster) Dir() string { return c.dir }

// Members returns the members, running or not.
func (c *Cluster) Members() []*Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Member(nil), c.members...)
}

// Endpoints returns every member's client URL (running or not), which is
// what a client configured for the cluster is given.
func (c *Cluster) Endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	eps := make([]string, len(c.members))
	for i, m := range c.members {
		eps[i] = m.ClientURL.String()
	}
	return eps
}

// Client returns a client for every member; close it when done.
func (c *Cluster) Client() (*clientv3.Client, error) {
	return NewClient(c.Endpoints())
}

// NewClient returns a client for endpoints with the etcd trigger's
// settings (etcdwatch.ClientConfig: quiet, keepalive, reconnection within
// about a second).
func NewClient(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(etcdwatch.ClientConfig(endpoints, 0))
	if err != nil {
		return nil, fmt.Errorf("etcdcluster: client for %v: %w", endpoints, err)
	}
	return cli, nil
}

// Stop kills member i (SIGKILL: a crash, connections reset at once, no
// graceful hand-off); its data stays for Restart.
func (c *Cluster) Stop(i int) error {
	c.mu.Lock()
	if i < 0 || i >= len(c.members) {
		c.mu.Unlock()
		return fmt.Errorf("etcdcluster: no member %d", i)
	}
	m := c.members[i]
	p := m.proc
	m.proc = nil
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("etcdcluster: %s is not running", m.Name)
	}
	p.kill()
	return nil
}

// StopAll kills every running member.
func (c *Cluster) StopAll() {
	c.mu.Lock()
	var ps []*memberProc
	for _, m := range c.members {
		if m.proc != nil {
			ps = append(ps, m.proc)
			m.proc = nil
		}
	}
	c.mu.Unlock()
	for _, p := range ps {
		p.kill()
	}
}

// Restart starts member i again on its data directory and URLs.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	c.mu.Lock()
	if i < 0 || i >= len(c.members) {
		c.mu.Unlock()
		return fmt.Errorf("etcdcluster: no member %d", i)
	}
	m := c.members[i]
	c.mu.Unlock()
	if m.Running() {
		return fmt.Errorf("etcdcluster: %s is running", m.Name)
	}
	return c.startMembers(ctx, []*Member{m})
}

// RestartAll starts every stopped member again.
func (c *Cluster) RestartAll(ctx context.Context) error {
	var stopped []*Member
	for _, m := range c.Members() {
		if !m.Running() {
			stopped = append(stopped, m)
		}
	}
	if len(stopped) == 0 {
		return nil
	}
	return c.startMembers(ctx, stopped)
}

// RestartHidden restarts a one-member cluster's member on a different,
// fresh client URL that no client knows, runs fn with a client for it, and
// then stops it and restarts it on its usual URL. It lets an experiment
// change the store (puts, a compaction) while every existing client is
// cut off, deterministically: they reconnect only after fn returns.
func (c *Cluster) RestartHidden(ctx context.Context, fn func(*clientv3.Client) error) error {
	c.mu.Lock()
	if len(c.members) != 1 || c.members[0].Running() {
		c.mu.Unlock()
		return errors.New("etcdcluster: RestartHidden needs a one-member cluster, stopped")
	}
	m := c.members[0]
	c.mu.Unlock()
	hidden, err := freeURL()
	if err != nil {
		return err
	}
	usual := m.ClientURL
	m.ClientURL = hidden
	err = c.startMembers(ctx, []*Member{m})
	m.ClientURL = usual
	if err != nil {
		return err
	}
	cli, err := NewClient([]string{hidden.String()})
	if err == nil {
		err = fn(cli)
		cli.Close()
	}
	if serr := c.Stop(0); serr != nil && err == nil {
		err = serr
	}
	if rerr := c.Restart(ctx, 0); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// Log returns the tail of member i's log (for error messages).
func (c *Cluster) Log(i int) string {
	c.mu.Lock()
	if i < 0 || i >= len(c.members) {
		c.mu.Unlock()
		return ""
	}
	name := c.members[i].Name
	c.mu.Unlock()
	f, err := os.Open(filepath.Join(c.dir, name+".log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Close stops every member and removes the data directory.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.StopAll()
	if c.ownDir {
		if err := os.RemoveAll(c.dir); err != nil {
			return fmt.Errorf("etcdcluster: remove %s: %w", c.dir, err)
		}
	}
	return nil
}
