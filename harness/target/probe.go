package target

import (
	"context"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Probe connection modes.
const (
	// ProbeKeepAlive reuses one connection, as the load generator's
	// clients do: it sees an old server process until that process closes
	// the connection (nginx's old workers drain theirs).
	ProbeKeepAlive = "keepalive"
	// ProbeFresh opens a connection per request: it reaches whatever
	// accepts new connections now.
	ProbeFresh = "fresh"
)

// Probe defaults: a keep-alive request every 2 ms and a new connection
// every 10 ms (600 req/s in all, a small constant share of any target's
// capacity; the fresh probe's pace also keeps TIME_WAIT sockets far from
// the ephemeral port range).
const (
	DefaultProbeEvery      = 2 * time.Millisecond
	DefaultProbeFreshEvery = 10 * time.Millisecond
	DefaultProbeTimeout    = 5 * time.Second
)

// ProbeRecord is one probe request.
type ProbeRecord struct {
	Conn     string `json:"conn"`     // ProbeKeepAlive or ProbeFresh
	Sent     int64  `json:"sent"`     // Unix ns
	Received int64  `json:"received"` // the response (or the error) arrived, Unix ns
	Status   int    `json:"status,omitempty"`
	Version  int64  `json:"version"` // from the version header; -1 when absent or invalid
	Err      string `json:"error,omitempty"`
}

// ProbeOptions configure StartProbe.
type ProbeOptions struct {
	URL        string
	Header     string        // the version header (default DefaultVersionHeader)
	Every      time.Duration // keep-alive pace (default DefaultProbeEvery)
	FreshEvery time.Duration // new-connection pace (default DefaultProbeFreshEvery; negative: none)
	Timeout    time.Duration // per request (default DefaultProbeTimeout)
	// MaxRecords bounds each connection mode's records (and so its
	// requests); 0 is 1e6.
	MaxRecords int
}

// Probe polls an external target's version header from its own clients,
// separate from the load, until it is stopped.
type Probe struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	recs   []ProbeRecord
	latest int64 // the highest version seen
}

// StartProbe starts polling opts.URL until ctx is done or Stop is called.
func StartProbe(ctx context.Context, opts ProbeOptions) *Probe {
	if opts.Header == "" {
		opts.Header = DefaultVersionHeader
	}
	if opts.Every <= 0 {
		opts.Every = DefaultProbeEvery
	}
	if opts.FreshEvery == 0 {
		opts.FreshEvery = DefaultProbeFreshEvery
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultProbeTimeout
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 1_000_000
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Probe{cancel: cancel, latest: -1}
	modes := []struct {
		conn  string
		every time.Duration
	}{{ProbeKeepAlive, opts.Every}, {ProbeFresh, opts.FreshEvery}}
	for _, m := range modes {
		if m.every < 0 {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.poll(ctx, opts, m.conn, m.every)
		}()
	}
	return p
}

func (p *Probe) poll(ctx context.Context, opts ProbeOptions, conn string, every time.Duration) {
	tr := &http.Transport{
		DialContext:        (&net.Dialer{Timeout: opts.Timeout}).DialContext,
		DisableKeepAlives:  conn == ProbeFresh,
		DisableCompression: true,
		MaxIdleConns:       1,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := time.Now()
	for n := 0; n < opts.MaxRecords; n++ {
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		next = next.Add(every)
		if now := time.Now(); next.Before(now) {
			next = now // behind (a slow response): no burst to catch up
		}
		rec := probeOnce(ctx, client, opts.URL, opts.Header)
		if ctx.Err() != nil && rec.Err != "" {
			return // cancelled mid-request: not the target's failure
		}
		rec.Conn = conn
		p.mu.Lock()
		p.recs = append(p.recs, rec)
		p.latest = max(p.latest, rec.Version)
		p.mu.Unlock()
	}
}

func probeOnce(ctx context.Context, client *http.Client, url, header string) ProbeRecord {
	rec := ProbeRecord{Sent: time.Now().UnixNano(), Version: -1}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		rec.Err, rec.Received = err.Error(), time.Now().UnixNano()
		return rec
	}
	resp, err := client.Do(req)
	if err != nil {
		rec.Err, rec.Received = err.Error(), time.Now().UnixNano()
		return rec
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	rec.Received = time.Now().UnixNano()
	rec.Status = resp.StatusCode
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	if v, err := ParseVersion(resp.Header, header); err == nil {
		rec.Version = v
	}
	return rec
}

// Records returns the records so far, sorted by Received.
func (p *Probe) Records() []ProbeRecord {
	p.mu.Lock()
	out := append([]ProbeRecord(nil), p.recs...)
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Received < out[j].Received })
	return out
}

// Latest returns the highest version any response carried so far (-1
// before one did).
func (p *Probe) Latest() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latest
}

// Stop stops polling, waits for the pollers and returns every record,
// sorted by Received.
func (p *Probe) Stop() []ProbeRecord {
	p.cancel()
	p.wg.Wait()
	return p.Records()
}
