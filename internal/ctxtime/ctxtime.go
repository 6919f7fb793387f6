// Package ctxtime has the one wait the lab's loops need: a sleep that ends
// early, with the context's error, when the context is done, so that every
// bounded loop stops at once on Ctrl-C.
package ctxtime

import (
	"context"
	"time"
)

// Sleep waits d or until ctx is done, and returns ctx's error in that
// case. A d ≤ 0 returns at once (ctx's error, if any).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
