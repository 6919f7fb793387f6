package target

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/reloadlab/reloadlab/targets/debugapi"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// Client talks to a target's /debug endpoints. Safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a Client for the target at base (http://host:port).
func NewClient(base string) *Client {
	return &Client{base: base, http: &http.Client{Timeout: 2 * time.Minute}}
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, w io.Writer) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("target: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("target: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("target: %s %s: read body: %w", method, path, err)
	}
	return nil
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	var buf bytes.Buffer
	if err := c.do(ctx, http.MethodGet, path, q, &buf); err != nil {
		return err
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return fmt.Errorf("target: decode %s: %w", path, err)
	}
	return nil
}

// Status returns /debug/reload with the events after seq since.
func (c *Client) Status(ctx context.Context, since uint64) (debugapi.ReloadStatus, error) {
	var st debugapi.ReloadStatus
	err := c.getJSON(ctx, "/debug/reload", url.Values{"since": {strconv.FormatUint(since, 10)}}, &st)
	return st, err
}

// Metrics returns the runtime/metrics samples after seq since.
func (c *Client) Metrics(ctx context.Context, since uint64) ([]telemetry.Sample, error) {
	var buf bytes.Buffer
	if err := c.do(ctx, http.MethodGet, "/debug/metrics", url.Values{"since": {strconv.FormatUint(since, 10)}}, &buf); err != nil {
		return nil, err
	}
	return telemetry.ReadSamples(&buf)
}

// StartFlightRecorder starts flight recording; the next captures reloads are
// captured after (a duration after each reload).
func (c *Client) StartFlightRecorder(ctx context.Context, minAge, after time.Duration, maxBytes uint64, captures int) error {
	q := url.Values{
		"min_age":   {minAge.String()},
		"after":     {after.String()},
		"max_bytes": {strconv.FormatUint(maxBytes, 10)},
		"captures":  {strconv.Itoa(captures)},
	}
	return c.do(ctx, http.MethodPost, "/debug/flightrecorder/start", q, io.Discard)
}

// StopFlightRecorder stops flight recording (after pending captures).
func (c *Client) StopFlightRecorder(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/debug/flightrecorder/stop", nil, io.Discard)
}

// Snapshots lists the captured trace windows.
func (c *Client) Snapshots(ctx context.Context) ([]telemetry.Snapshot, error) {
	var s []telemetry.Snapshot
	err := c.getJSON(ctx, "/debug/flightrecorder/snapshots", nil, &s)
	return s, err
}

// Snapshot writes the trace of snapshot seq to w.
func (c *Client) Snapshot(ctx context.Context, seq uint64, w io.Writer) error {
	return c.do(ctx, http.MethodGet, "/debug/flightrecorder/snapshot", url.Values{"seq": {strconv.FormatUint(seq, 10)}}, w)
}

// SetProfiling sets the block profile rate and mutex profile fraction.
func (c *Client) SetProfiling(ctx context.Context, blockRate, mutexFraction int) error {
	q := url.Values{"block": {strconv.Itoa(blockRate)}, "mutex": {strconv.Itoa(mutexFraction)}}
	return c.do(ctx, http.MethodPost, "/debug/profiling", q, io.Discard)
}

// Profile writes /debug/pprof/<name> (with query q, e.g. seconds=5) to w.
func (c *Client) Profile(ctx context.Context, name string, q url.Values, w io.Writer) error {
	return c.do(ctx, http.MethodGet, "/debug/pprof/"+name, q, w)
}

// Burn asks the target for a sham reload that spends d of CPU time
// (POST /debug/burn) in mode ("clock" or "loop"; "" is the target's
// default) and returns what it did.
func (c *Client) Burn(ctx context.Context, d time.Duration, mode string) (debugapi.Burn, error) {
	var buf bytes.Buffer
	q := url.Values{"cpu": {d.String()}}
	if mode != "" {
		q.Set("mode", mode)
	}
	if err := c.do(ctx, http.MethodPost, "/debug/burn", q, &buf); err != nil {
		return debugapi.Burn{}, err
	}
	var b debugapi.Burn
	if err := json.Unmarshal(buf.Bytes(), &b); err != nil {
		return b, fmt.Errorf("target: decode /debug/burn: %w", err)
	}
	return b, nil
}
