package anchors

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reloadTiming is what one reload looked like from a client polling the
// endpoint as fast as it can.
type reloadTiming struct {
	returned time.Duration // Reload call to its return
	served   time.Duration // Reload call to the first response with the new version
	requests int           // requests until then
	errs     int           // requests that failed (transport errors)
	stale    int           // old-version responses after the first new one
	other    int           // responses with neither version or not 200
	firstErr error         // the first transport error
}

// measureReload reloads a to version while client polls its URL, then
// keeps polling for linger to catch old-version responses.
func measureReload(ctx context.Context, a Anchor, client *http.Client, old, version int64, linger time.Duration) (reloadTiming, error) {
	var rt reloadTiming
	want, prev := strconv.FormatInt(version, 10), strconv.FormatInt(old, 10)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		err := a.Reload(ctx, version)
		rt.returned = time.Since(start) // read only after <-done
		done <- err
	}()
	deadline := start.Add(10 * time.Second)
	var seen time.Time
	for time.Now().Before(deadline) && (seen.IsZero() || time.Since(seen) < linger) {
		resp, err := client.Get(a.URL())
		if err != nil {
			rt.errs++
			if rt.firstErr == nil {
				rt.firstErr = err
			}
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := resp.Header.Get(VersionHeader)
		switch {
		case resp.StatusCode != http.StatusOK:
			rt.other++
		case got == want:
			if seen.IsZero() {
				seen = time.Now()
				rt.served = seen.Sub(start)
			}
		case got == prev:
			if !seen.IsZero() {
				rt.stale++
			}
		default:
			rt.other++
		}
		if seen.IsZero() {
			rt.requests++
		}
	}
	if err := <-done; err != nil {
		return rt, err
	}
	if seen.IsZero() {
		return rt, fmt.Errorf("version %d not served within 10s", version)
	}
	return rt, nil
}

// TestReloadTiming measures, for each anchor, how long after Reload is
// called the new version is served, to a client on one keep-alive
// connection and to one opening a connection per request, and whether
// that client sees errors or old versions afterwards.
func TestReloadTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement; skipped under -short")
	}
	const reloads = 5
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			bin := anchorOrSkip(t, name)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			a, err := Start(ctx, name, Options{CPUs: testCPUs(t), InitialVersion: 1, WorkDir: t.TempDir(), Binary: bin})
			require.NoError(t, err)
			defer func() { require.NoError(t, a.Stop()) }()
			version := int64(1)
			for _, keepAlive := range []bool{true, false} {
				client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive}}
				var lines []string
				for range reloads {
					rt, err := measureReload(ctx, a, client, version, version+1, 300*time.Millisecond)
					require.NoError(t, err)
					version++
					assert.Zero(t, rt.other, "responses that are neither version nor 200")
					line := fmt.Sprintf("returned %7.2fms served %7.2fms (%4d req before, %d errors, %d stale after)",
						ms(rt.returned), ms(rt.served), rt.requests, rt.errs, rt.stale)
					if rt.firstErr != nil {
						line += fmt.Sprintf(" first error: %v", rt.firstErr)
					}
					lines = append(lines, line)
				}
				client.CloseIdleConnections()
				t.Logf("%s, keep-alive=%v:\n%s", name, keepAlive, strings.Join(lines, "\n"))
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
