package load

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func server(t *testing.T) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.Write([]byte(`{"versions":[1,2],"torn":true}`))
			return
		}
		w.Write([]byte(`{"version":1}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunModelsAndWriteAttack(t *testing.T) {
	t.Parallel()
	srv := server(t)
	var done atomic.Int64
	closed, err := Run(context.Background(), srv.URL, Phase{Name: "throughput", Duration: 300 * time.Millisecond, Workers: 4}, &done)
	require.NoError(t, err)
	open, err := Run(context.Background(), srv.URL, Phase{Name: "latency", Duration: 300 * time.Millisecond, Rate: 200}, &done)
	require.NoError(t, err)

	require.NotEmpty(t, closed.Recs)
	require.NotEmpty(t, open.Recs)
	assert.Equal(t, int64(len(closed.Recs)+len(open.Recs)), done.Load())
	for i, r := range closed.Recs {
		require.Equal(t, uint64(i), r.Seq, "records sorted by Seq, contiguous")
	}
	assert.InDelta(t, 60, len(open.Recs), 30, "an open model at 200/s for 0.3 s sends about 60 requests")
	torn := 0
	for _, r := range append(closed.Recs, open.Recs...) {
		assert.Equal(t, int16(-1), r.Err)
		assert.Equal(t, uint16(200), r.Code)
		if r.Torn {
			torn++
		}
		assert.GreaterOrEqual(t, open.Corrected(r), r.Latency)
	}
	assert.Positive(t, torn, "torn responses must be recognised")
	assert.Equal(t, open.Began.UnixNano()+int64(10*time.Second/200), open.Intended(Record{Seq: 10}))

	var buf bytes.Buffer
	require.NoError(t, WriteAttack(&buf, "reloadlab", closed, open))
	back, err := ReadAttack(&buf)
	require.NoError(t, err)
	require.Len(t, back, len(closed.Recs)+len(open.Recs))
	for i, r := range back {
		assert.Equal(t, uint64(i), r.Seq)
		assert.Equal(t, "reloadlab", r.Attack)
		if i > 0 {
			assert.False(t, r.Timestamp.Before(back[i-1].Timestamp), "timestamps non-decreasing in Seq order")
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	srv := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res, err := Run(ctx, srv.URL, Phase{Name: "long", Duration: time.Minute, Workers: 2}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 30*time.Second)
	assert.NotEmpty(t, res.Recs)
}

func TestRunErrorsRecorded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), srv.URL, Phase{Name: "x", Duration: 100 * time.Millisecond, Workers: 2}, nil)
	require.NoError(t, err)
	require.NotEmpty(t, res.Recs)
	assert.Equal(t, 0, res.Completed())
	assert.Equal(t, []string{"503 Service Unavailable"}, res.Errors)
}
