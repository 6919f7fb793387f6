package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reloadlab/reloadlab/internal/cpuwork"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/targets/debugapi"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// server holds the target's state; the hot path touches only store, viewer,
// keys and the rare-event counters.
type server struct {
	strategy   strategies.Strategy
	reloader   *strategies.Reloader
	store      store.Store
	viewer     store.Viewer // nil when the store offers no consistent view
	keys       []string
	sampler    *telemetry.Sampler
	flight     *telemetry.FlightRecorder
	work       cpuwork.Work  // per-request CPU work (-work)
	reloadBurn time.Duration // -reload-burn

	calibrateOnce sync.Once // for perMicro
	iterPerMicro  float64

	torn           atomic.Uint64 // requests that read two versions
	missing        atomic.Uint64 // requests that found a key absent
	unconventional atomic.Bool   // a value without the v<version>- prefix was read
	blockRate      atomic.Int64
	mutexFraction  atomic.Int64
}

func newServer(s strategies.Strategy, r *strategies.Reloader, keys []string, sampler *telemetry.Sampler, flight *telemetry.FlightRecorder) *server {
	srv := &server{strategy: s, reloader: r, store: r.Store(), keys: keys, sampler: sampler, flight: flight}
	srv.viewer, _ = r.Store().(store.Viewer)
	return srv
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveRoot)
	mux.HandleFunc("GET /debug/reload", s.serveReload)
	mux.HandleFunc("GET /debug/metrics", s.serveMetrics)
	mux.HandleFunc("POST /debug/flightrecorder/start", s.serveFlightStart)
	mux.HandleFunc("POST /debug/flightrecorder/stop", s.serveFlightStop)
	mux.HandleFunc("GET /debug/flightrecorder/snapshots", s.serveSnapshots)
	mux.HandleFunc("GET /debug/flightrecorder/snapshot", s.serveSnapshot)
	mux.HandleFunc("POST /debug/profiling", s.serveProfiling)
	mux.HandleFunc("POST /debug/burn", s.serveBurn)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveRoot is the hot path: read every key, through one consistent view
// where the store has one, otherwise one Get per key as a typical service
// would, and say which version(s) the values came from.
func (s *server) serveRoot(w http.ResponseWriter, _ *http.Request) {
	var view *config.Snapshot
	if s.viewer != nil {
		view = s.viewer.View()
	}
	s.work.Do()
	lo, hi := int64(-1), int64(-1)
	for _, k := range s.keys {
		var v string
		var ok bool
		if view != nil {
			v, ok = view.Get(k)
		} else {
			v, ok = s.store.Get(k)
		}
		if !ok {
			s.missing.Add(1)
			continue
		}
		ver, ok := config.ValueVersion(v)
		if !ok {
			if !s.unconventional.Load() {
				s.unconventional.Store(true)
			}
			continue
		}
		if lo < 0 || ver < lo {
			lo = ver
		}
		if ver > hi {
			hi = ver
		}
	}
	buf := make([]byte, 0, 48)
	if lo != hi {
		s.torn.Add(1)
		buf = append(buf, `{"versions":[`...)
		buf = strconv.AppendInt(buf, lo, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, hi, 10)
		buf = append(buf, `],"torn":true}`...)
	} else {
		buf = append(buf, `{"version":`...)
		buf = strconv.AppendInt(buf, hi, 10)
		buf = append(buf, '}')
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf)
}

func (s *server) serveReload(w http.ResponseWriter, r *http.Request) {
	after, err := sinceParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	st := debugapi.ReloadStatus{
		Strategy: s.strategy.Name, Status: s.reloader.Status(after),
		TornRequests: s.torn.Load(), TornCheck: "ok", MissingKeyRequests: s.missing.Load(),
		Keys: s.keys, ConsistentView: s.viewer != nil, GOMAXPROCS: runtime.GOMAXPROCS(0),
		PID: os.Getpid(), FlightRecorder: s.flight.Running(),
		BlockProfileRate: s.blockRate.Load(), MutexProfileFraction: s.mutexFraction.Load(),
		RequestWork: s.work.Nominal(), RequestWorkIterations: s.work.Iterations(), ReloadExtraCost: s.reloadBurn,
	}
	if s.unconventional.Load() {
		st.TornCheck = "n/a"
	}
	writeJSON(w, st)
}

func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	after, err := sinceParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	if err := telemetry.WriteSamples(w, s.sampler.Since(after)); err != nil {
		return // client gone; nothing else to do
	}
}

func (s *server) serveFlightStart(w http.ResponseWriter, r *http.Request) {
	var cfg telemetry.FlightConfig
	q := r.URL.Query()
	var err error
	if cfg.MinAge, err = durationParam(q.Get("min_age")); err == nil {
		if cfg.CaptureAfter, err = durationParam(q.Get("after")); err == nil {
			if v := q.Get("max_bytes"); v != "" {
				cfg.MaxBytes, err = strconv.ParseUint(v, 10, 64)
			}
			if v := q.Get("captures"); v != "" && err == nil {
				cfg.Captures, err = strconv.Atoi(v)
			}
		}
	}
	if err != nil {
		http.Error(w, "bad parameter: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.flight.Start(cfg); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	writeJSON(w, map[string]bool{"flight_recorder": true})
}

func (s *server) serveFlightStop(w http.ResponseWriter, _ *http.Request) {
	s.flight.Stop()
	writeJSON(w, map[string]bool{"flight_recorder": false})
}

func (s *server) serveSnapshots(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.flight.Snapshots())
}

func (s *server) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	seq, err := sinceParamName(r, "seq")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, ok := s.flight.Data(seq)
	if !ok {
		http.Error(w, "no such snapshot", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

// serveProfiling sets the block profile rate and mutex profile fraction.
func (s *server) serveProfiling(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if v := q.Get("block"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "block: "+err.Error(), http.StatusBadRequest)
			return
		}
		runtime.SetBlockProfileRate(n)
		s.blockRate.Store(int64(n))
	}
	if v := q.Get("mutex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "mutex: "+err.Error(), http.StatusBadRequest)
			return
		}
		runtime.SetMutexProfileFraction(n)
		s.mutexFraction.Store(int64(n))
	}
	writeJSON(w, map[string]int64{"block_profile_rate": s.blockRate.Load(), "mutex_profile_fraction": s.mutexFraction.Load()})
}

// maxBurn bounds one sham reload: calibration injects milliseconds, and a
// typo must not freeze the target.
const maxBurn = 10 * time.Second

// serveBurn is a sham reload for calibration: it spends the requested CPU
// time (?cpu=5ms) on this goroutine, as a reload's pipeline would, and says
// when. cpu=0 is the zero-cost control: the same request, no burn. With
// mode=clock (the default) it spins on its locked OS thread until the
// thread's CPU clock has advanced by cpu, as the reload pipeline's
// accounting locks its thread; with mode=loop it runs a loop calibrated at
// start to take cpu, without locking a thread (the CPU it reports is then
// the calibrated figure).
func (s *server) serveBurn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := durationParam(q.Get("cpu"))
	if err != nil || d < 0 || d > maxBurn {
		http.Error(w, fmt.Sprintf("cpu: want a duration in [0, %s]", maxBurn), http.StatusBadRequest)
		return
	}
	b := debugapi.Burn{Requested: d, Mode: q.Get("mode"), Start: time.Now()}
	switch b.Mode {
	case "", "clock":
		b.Mode = "clock"
		b.CPU = cpuwork.Burn(d)
	case "loop":
		work := cpuwork.NewWork(d, s.perMicro())
		work.Do()
		b.CPU = work.Nominal()
	default:
		http.Error(w, fmt.Sprintf("mode: %q is not clock or loop", b.Mode), http.StatusBadRequest)
		return
	}
	b.End = time.Now()
	writeJSON(w, b)
}

// perMicro returns the loop's iterations per microsecond, measured once.
func (s *server) perMicro() float64 {
	s.calibrateOnce.Do(func() { s.iterPerMicro = cpuwork.IterationsPerMicrosecond() })
	return s.iterPerMicro
}

func sinceParam(r *http.Request) (uint64, error) { return sinceParamName(r, "since") }

func sinceParamName(r *http.Request, name string) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

func durationParam(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	return time.ParseDuration(v)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
