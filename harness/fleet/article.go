package fleet

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// articlePrefix and articleFile are the article's names: it watches
// "/configs/" and maps a key such as /configs/db.yaml to the embedded
// file db.yaml. The fleet's etcd key is /configs/app.yaml so that the
// article's loop sees the fleet's puts.
const (
	articlePrefix = "/configs/"
	articleFile   = "app.yaml"
)

// articleLoop is the article's chapter 4.2 loop as written, made a
// trigger.Source so it runs through the lab's pipeline:
//
//	embedFS, _ := fs.Sub(assets, "config")
//	watchChan := client.Watch(ctx, "/configs/", clientv3.WithPrefix())
//	for resp := range watchChan {
//	  for _, ev := range resp.Events {
//	    if path, ok := parseConfigPath(ev.Kv.Key); ok {
//	      content, _ := fs.ReadFile(embedFS, path)
//	      applyConfig(content)
//	    }
//	  }
//	}
//
// On every event it reads the config from the embedded file system, not
// from the event, drops the read error, watches from "now" (no start
// revision), and ends for good when the watch channel closes. assets is
// an fstest.MapFS holding the config the binary was built with, which is
// what an embed.FS holds.
type articleLoop struct {
	client *clientv3.Client
	fsys   fs.FS // fs.Sub(assets, "config")
}

// newArticleLoop builds the loop with embedded holding the config the
// service was "built" with.
func newArticleLoop(cli *clientv3.Client, embedded []byte) (*articleLoop, error) {
	assets := fstest.MapFS{"config/" + articleFile: {Data: embedded}}
	sub, err := fs.Sub(assets, "config")
	if err != nil {
		return nil, err
	}
	return &articleLoop{client: cli, fsys: sub}, nil
}

// Name returns "article-4.2".
func (a *articleLoop) Name() string { return "article-4.2" }

// Current reads the embedded file, as the article's loop does, error
// dropped.
func (a *articleLoop) Current() (trigger.Content, error) {
	content, _ := fs.ReadFile(a.fsys, articleFile)
	return trigger.Content{Data: content, Origin: "embedded " + articleFile}, nil
}

// Start runs the loop.
func (a *articleLoop) Start(_ string, sink trigger.Sink) (io.Closer, error) {
	ctx, cancel := context.WithCancel(context.Background())
	wch := a.client.Watch(ctx, articlePrefix, clientv3.WithPrefix())
	var wg sync.WaitGroup
	wg.Go(func() {
		for resp := range wch {
			for _, ev := range resp.Events {
				if path, ok := parseConfigPath(string(ev.Kv.Key)); ok && path == articleFile {
					sink.Fire(trigger.Notice{Reason: "article-4.2: " + ev.Type.String() + " " + string(ev.Kv.Key), Seen: time.Now()})
				}
			}
		}
	})
	return closer(func() error { cancel(); wg.Wait(); return nil }), nil
}

// parseConfigPath maps /configs/db.yaml to db.yaml.
func parseConfigPath(key string) (string, bool) {
	p, ok := strings.CutPrefix(key, articlePrefix)
	return p, ok && p != ""
}

type closer func() error

func (c closer) Close() error { return c() }
