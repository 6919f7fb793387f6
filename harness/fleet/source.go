package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/harness/etcdcluster"
	"github.com/reloadlab/reloadlab/harness/writepattern"
)

// Source names: how the replicas get their config.
const (
	SourceEtcd   = "etcd"   // one etcd key, the etcd trigger
	SourceRobust = "robust" // one shared directory, the robust trigger
	SourcePoll   = "poll"   // one shared directory, content polling (the polling preset)
)

// SourceNames lists the sources in presentation order.
func SourceNames() []string { return []string{SourceEtcd, SourceRobust, SourcePoll} }

// sourceDescription says how each source delivers a change.
var sourceDescription = map[string]string{
	SourceEtcd:   "one etcd key (a member on loopback); every replica runs the etcd trigger (preset etcd) and the harness changes the config by Put",
	SourceRobust: "one shared directory; every replica runs the robust trigger (preset robust: directory watch + safety poll) and the harness replaces the file by rename",
	SourcePoll:   "one shared directory; every replica polls the file's content every 250 ms (preset polling) and the harness replaces the file by rename",
}

// etcdFleetKey is the key the fleet's config lives in.
const etcdFleetKey = articlePrefix + articleFile // the article's own naming: /configs/app.yaml

// configSource is one source's running state: where the config lives and
// how a change is made.
type configSource struct {
	name    string
	preset  string
	dir     string // file sources: the shared directory
	cluster *etcdcluster.Cluster
	client  *clientv3.Client
}

// newSource prepares source name with initial config data. For etcd it
// starts members (members ≥ 1) in dir.
func newSource(ctx context.Context, name, dir string, members int, initial []byte) (*configSource, error) {
	s := &configSource{name: name}
	switch name {
	case SourceEtcd:
		s.preset = "etcd"
		c, err := etcdcluster.Start(ctx, etcdcluster.WithMembers(members), etcdcluster.WithDir(dir))
		if err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		s.cluster = c
		cli, err := etcdcluster.NewClient(c.Endpoints())
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("fleet: %w", err)
		}
		s.client = cli
	case SourceRobust, SourcePoll:
		s.preset = map[string]string{SourceRobust: "robust", SourcePoll: "polling"}[name]
		d, err := os.MkdirTemp(dir, name+"-")
		if err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		s.dir = d
	default:
		return nil, fmt.Errorf("fleet: unknown source %q (valid: %s)", name, strings.Join(SourceNames(), ", "))
	}
	if _, err := s.change(ctx, initial); err != nil {
		s.Close()
		return nil, fmt.Errorf("fleet: initial config: %w", err)
	}
	return s, nil
}

// replicaArgs are the target flags that point a replica at the source.
func (s *configSource) replicaArgs() []string {
	if s.cluster != nil {
		return []string{"-strategy", s.preset, "-etcd-endpoints", strings.Join(s.cluster.Endpoints(), ","), "-etcd-key", etcdFleetKey}
	}
	return []string{"-strategy", s.preset, "-config", filepath.Join(s.dir, "config.yaml")}
}

// change makes data the config and returns the store revision (etcd; 0
// for files).
func (s *configSource) change(ctx context.Context, data []byte) (int64, error) {
	if s.client != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		resp, err := s.client.Put(ctx, etcdFleetKey, string(data))
		if err != nil {
			return 0, fmt.Errorf("put %s: %w", etcdFleetKey, err)
		}
		return resp.Header.Revision, nil
	}
	p, err := writepattern.Lookup("rename")
	if err != nil {
		return 0, err
	}
	if _, err := os.Stat(filepath.Join(s.dir, "config.yaml")); os.IsNotExist(err) {
		return 0, p.Init(s.dir, "config.yaml", data)
	}
	_, err = p.Write(ctx, s.dir, "config.yaml", func() []byte { return data })
	return 0, err
}

// Close stops the source's members and removes its directory.
func (s *configSource) Close() error {
	if s.client != nil {
		s.client.Close()
	}
	if s.cluster != nil {
		return s.cluster.Close()
	}
	if s.dir != "" {
		return os.RemoveAll(s.dir)
	}
	return nil
}
