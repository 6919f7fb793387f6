// Package load drives HTTP load at a target with vegeta's library and keeps
// a compact record of every request, so a long attack does not spend the
// load generator's CPU on encoding while it runs. Records are encoded into
// vegeta's own format afterwards (WriteAttack), one attack name and one
// contiguous Seq across phases, so `vegeta report` and `vegeta plot` read
// the file.
//
// # Models
//
// A Phase with Rate 0 is a closed model at saturation: Workers workers
// send back to back (vegeta rate=0 with a fixed worker count), which
// measures capacity. A Phase with Rate > 0 is an open model: vegeta's
// constant pacer sends at Rate whatever the latency, adding workers as
// needed (bounded by MaxWorkers), which measures latency without
// coordinated omission from server slowness. Each record keeps its
// sequence number, so the intended send time of an open-model request is
// began + seq/Rate, and latency can be corrected for coordinated omission
// (Record.Corrected).
package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Defaults.
const (
	// DefaultWorkers is the closed model's worker count: enough concurrent
	// connections to saturate a one- or two-CPU target on loopback.
	DefaultWorkers = 32
	// DefaultMaxWorkers bounds the open model's worker growth.
	DefaultMaxWorkers = 4096
	// DefaultTimeout is the per-request timeout.
	DefaultTimeout = 10 * time.Second
)

// Phase is one attack.
type Phase struct {
	Name       string
	Duration   time.Duration
	Rate       int    // requests per second; 0 = closed model at saturation
	Workers    uint64 // closed model: worker count (DefaultWorkers if 0)
	MaxWorkers uint64 // open model: worker bound (DefaultMaxWorkers if 0)
}

// Record is one request, compactly.
type Record struct {
	Seq     uint64 // within its phase, from 0
	Start   int64  // when the request was sent, Unix ns
	Latency int64  // ns, until the body was read
	Code    uint16
	Torn    bool  // the response said the request read two config versions
	Err     int16 // index into Result.Errors, -1 if none
}

// End returns when the response completed, Unix ns.
func (r Record) End() int64 { return r.Start + r.Latency }

// Result is one phase's outcome.
type Result struct {
	Phase  Phase
	URL    string
	Began  time.Time // Start of Seq 0: the pacer's origin
	Ended  time.Time
	Recs   []Record // sorted by Seq
	Errors []string // distinct error strings
}

// Intended returns when the open model meant to send request seq (Unix ns).
// For a closed model it returns the actual start.
func (r *Result) Intended(rec Record) int64 {
	if r.Phase.Rate <= 0 {
		return rec.Start
	}
	return r.Began.UnixNano() + int64(rec.Seq)*int64(time.Second)/int64(r.Phase.Rate)
}

// Corrected returns rec's latency measured from its intended send time
// (coordinated-omission corrected), never less than the measured latency.
func (r *Result) Corrected(rec Record) int64 {
	return max(rec.End()-r.Intended(rec), rec.Latency)
}

// Completed returns the number of requests that succeeded (2xx/3xx, no
// transport error).
func (r *Result) Completed() int {
	n := 0
	for _, rec := range r.Recs {
		if rec.Err < 0 {
			n++
		}
	}
	return n
}

var tornMarker = []byte(`"torn":true`)

// Run attacks url (GET) for one phase. done, if not nil, is incremented for
// every response (for live progress). It stops early, returning what it
// has, when ctx is done.
func Run(ctx context.Context, url string, ph Phase, done *atomic.Int64) (*Result, error) {
	if ph.Duration <= 0 {
		return nil, fmt.Errorf("load: phase %s: duration must be positive", ph.Name)
	}
	// Our own transport, so its connections can be closed when the phase
	// ends: an open model past saturation opens thousands of connections,
	// and left idle they would burden both processes in the next phase.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	opts := []func(*vegeta.Attacker){
		vegeta.Client(&http.Client{Transport: tr}),
		vegeta.KeepAlive(true),
		vegeta.Timeout(DefaultTimeout),
		vegeta.MaxBody(64),
		vegeta.Redirects(vegeta.NoFollow),
	}
	pacer := vegeta.ConstantPacer{Freq: ph.Rate, Per: time.Second}
	if ph.Rate <= 0 {
		w := ph.Workers
		if w == 0 {
			w = DefaultWorkers
		}
		pacer = vegeta.ConstantPacer{}
		opts = append(opts, vegeta.Workers(w), vegeta.MaxWorkers(w), vegeta.Connections(int(w)))
	} else {
		mw := ph.MaxWorkers
		if mw == 0 {
			mw = DefaultMaxWorkers
		}
		opts = append(opts, vegeta.MaxWorkers(mw))
	}
	atk := vegeta.NewAttacker(opts...)
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: url})

	res := &Result{Phase: ph, URL: url}
	errIndex := map[string]int16{}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for r := range atk.Attack(targeter, pacer, ph.Duration, ph.Name) {
		rec := Record{Seq: r.Seq, Start: r.Timestamp.UnixNano(), Latency: int64(r.Latency), Code: r.Code, Err: -1}
		if r.Error != "" {
			idx, ok := errIndex[r.Error]
			if !ok && len(res.Errors) < 1000 {
				idx = int16(len(res.Errors))
				errIndex[r.Error] = idx
				res.Errors = append(res.Errors, r.Error)
			}
			rec.Err = idx
		} else if bytes.Contains(r.Body, tornMarker) {
			rec.Torn = true
		}
		res.Recs = append(res.Recs, rec)
		if done != nil {
			done.Add(1)
		}
	}
	res.Ended = time.Now()
	sort.Slice(res.Recs, func(i, j int) bool { return res.Recs[i].Seq < res.Recs[j].Seq })
	if len(res.Recs) > 0 {
		res.Began = time.Unix(0, res.Recs[0].Start)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// WriteAttack encodes the phases' records as vegeta Results (gob, vegeta's
// default encoding) under one attack name with one contiguous Seq, phases
// in the order given. Timestamps are non-decreasing in Seq order as long as
// the phases ran one after the other.
func WriteAttack(w io.Writer, attack string, phases ...*Result) error {
	enc := vegeta.NewEncoder(w)
	var seq uint64
	for _, ph := range phases {
		for _, rec := range ph.Recs {
			r := vegeta.Result{
				Attack:    attack,
				Seq:       seq,
				Code:      rec.Code,
				Timestamp: time.Unix(0, rec.Start),
				Latency:   time.Duration(rec.Latency),
				Method:    http.MethodGet,
				URL:       ph.URL,
			}
			if rec.Err >= 0 {
				r.Error = ph.Errors[rec.Err]
			}
			if err := enc.Encode(&r); err != nil {
				return fmt.Errorf("load: encode result %d: %w", seq, err)
			}
			seq++
		}
	}
	return nil
}

// ReadAttack decodes a file written by WriteAttack (or by vegeta attack).
func ReadAttack(r io.Reader) ([]vegeta.Result, error) {
	dec := vegeta.DecoderFor(r)
	if dec == nil {
		return nil, fmt.Errorf("load: unrecognised attack encoding")
	}
	var out []vegeta.Result
	for {
		var res vegeta.Result
		if err := dec.Decode(&res); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, fmt.Errorf("load: decode result %d: %w", len(out), err)
		}
		out = append(out, res)
	}
}
