package bench

import (
	"os"
	"testing"

	"github.com/reloadlab/reloadlab/harness/etcdcluster"
)

// TestMain lets this test binary run as an etcd member: the etcd preset's
// quick bench starts one.
func TestMain(m *testing.M) {
	etcdcluster.RunMemberIfChild()
	os.Exit(m.Run())
}
