package ctxtime

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSleep(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"sleeps", context.Background(), time.Millisecond, nil},
		{"zero", context.Background(), 0, nil},
		{"cancelled before", done, time.Hour, context.Canceled},
		{"cancelled, zero", done, 0, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			assert.ErrorIs(t, Sleep(tt.ctx, tt.d), tt.want)
			if tt.want == nil {
				assert.GreaterOrEqual(t, time.Since(start), tt.d)
			}
		})
	}
}
