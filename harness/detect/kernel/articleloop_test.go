package kernel

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestArticleLoop runs the article's stress loop: as written, the watch on
// the file ends at the first Remove, and no variant can overflow the queue
// with 1000 iterations when the limit is the usual 16384.
func TestArticleLoop(t *testing.T) {
	t.Parallel()
	al := RunArticleLoop(context.Background(), t.TempDir())
	require.Empty(t, al.Error)
	require.Len(t, al.Runs, 3)
	for _, r := range al.Runs {
		t.Logf("%s: %d events %v, overflow %v, watches left %d", r.Name, r.Events, r.ByOp, r.Overflow, r.WatchesLeft)
	}
	asWritten := al.Runs[0]
	assert.Zero(t, asWritten.WatchesLeft, "the watch on the file is gone after the first Remove")
	assert.Less(t, asWritten.Events, 10, "only the first iteration's events reach a watch on the file")
	dir := al.Runs[2]
	assert.Equal(t, 1, dir.WatchesLeft, "a directory watch survives the loop")
	assert.GreaterOrEqual(t, dir.Events, 2*ArticleLoopIterations, "the directory watch sees every create and remove")
	if al.MaxQueuedEvents >= 4*ArticleLoopIterations {
		for _, r := range al.Runs {
			assert.False(t, r.Overflow, "%s: 1000 iterations cannot fill a %d-event queue", r.Name, al.MaxQueuedEvents)
		}
	}
}
