package bench

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/harness/etcdcluster"
)

// etcdKey is the key a bench run's config lives in.
const etcdKey = "/reloadlab/bench/config"

// etcdSource is the etcd a run with the etcd trigger changes its config in:
// a member the run started, or a cluster it was pointed at.
type etcdSource struct {
	cluster   *etcdcluster.Cluster // nil for an existing cluster
	client    *clientv3.Client
	endpoints []string
	key       string
}

// startEtcdSource starts one etcd member in a temporary directory, or
// connects to endpoints when given.
func startEtcdSource(ctx context.Context, endpoints []string, logf func(string, ...any)) (*etcdSource, error) {
	s := &etcdSource{endpoints: endpoints, key: etcdKey}
	if len(endpoints) == 0 {
		logf("starting an etcd member on loopback")
		c, err := etcdcluster.Start(ctx)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		s.cluster, s.endpoints = c, c.Endpoints()
	} else {
		logf("using the etcd cluster at %v", endpoints)
	}
	cli, err := etcdcluster.NewClient(s.endpoints)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	s.client = cli
	return s, nil
}

// put writes data to the key.
func (s *etcdSource) put(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.client.Put(ctx, s.key, string(data)); err != nil {
		return fmt.Errorf("etcd put %s (%d bytes): %w", s.key, len(data), err)
	}
	return nil
}

// Close closes the client and stops the member the run started.
func (s *etcdSource) Close() error {
	if s.client != nil {
		s.client.Close()
	}
	if s.cluster != nil {
		return s.cluster.Close()
	}
	return nil
}
