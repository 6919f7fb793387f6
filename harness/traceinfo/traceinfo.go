package traceinfo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// Summary is what one trace says about a reload. All times are wall-clock
// times (see the package documentation for how they are derived), so they
// compare directly with time.Now() values taken by the lab and with vegeta
// result timestamps.
type Summary struct {
	// Start and End are the wall-clock span of the trace: the first and the
	// last event (both are EventSync events of the parser).
	Start, End time.Time
	// WallClock reports whether the trace carried a clock snapshot (Go 1.25+
	// traces do). Without one, times are time.Unix(0, 0) plus the offset
	// from the start of the trace and cannot be aligned with other clocks.
	WallClock bool
	// STW holds every "stop-the-world (<reason>)" range, ordered by Start;
	// Reason is the text between the parentheses, e.g. "GC mark termination".
	STW []Range
	// GCMark holds every "GC concurrent mark phase" range, ordered by Start;
	// Reason is empty.
	GCMark []Range
	// Blocks holds every goroutine transition from Running to Waiting, in
	// trace order.
	Blocks []Block
	// Logs holds every runtime/trace.Log event, in trace order.
	Logs []Log
	// Regions holds every user region (runtime/trace.WithRegion or
	// StartRegion), ordered by Start.
	Regions []Region
	// Tasks holds every user task (runtime/trace.NewTask), ordered by Start.
	Tasks []Task
	// Truncated reports that the trace ended with a read error after some
	// complete generations; everything before the error is kept.
	Truncated bool
}

// Range is one runtime range (a stop-the-world pause or a GC mark phase).
type Range struct {
	// Start is the wall-clock begin of the range, or the start of the trace
	// if the range was already in progress when the trace began.
	Start time.Time
	// Dur is the length of the range in trace time. A range still open at
	// the end of the trace ends at the end of the trace.
	Dur time.Duration
	// Reason is the stop-the-world reason, e.g. "GC mark termination"; empty
	// for GC mark phases.
	Reason string
}

// End returns r.Start + r.Dur.
func (r Range) End() time.Time { return r.Start.Add(r.Dur) }

// Block is one goroutine transition from Running to Waiting.
type Block struct {
	// At is the wall-clock time of the transition.
	At time.Time
	// Goroutine is the ID of the goroutine that blocked.
	Goroutine uint64
	// Reason is the runtime's reason, e.g. "sync", "chan receive",
	// "network", "select", "sleep".
	Reason string
	// Lock reports that the blocking stack contains a sync.(*Mutex) or
	// sync.(*RWMutex) frame: a wait on a user-level lock such as a config
	// lock. Runtime semaphores (worldsema, gcsema) also block with reason
	// "sync" but have no such frame.
	Lock bool
	// Frame is the function name of the first (innermost)
	// sync.(*Mutex)/sync.(*RWMutex) frame if Lock, else of the top frame of
	// the blocking stack. It is empty if the trace has no stack.
	Frame string
}

// Log is one runtime/trace.Log event.
type Log struct {
	// At is the wall-clock time of the event.
	At time.Time
	// Task is the ID of the task the log belongs to (0 is the background
	// task).
	Task uint64
	// Category and Message are the arguments of trace.Log.
	Category, Message string
}

// Region is one user region.
type Region struct {
	// Start and End are the wall-clock begin and end of the region, clamped
	// to the trace span when the begin or the end is not in the trace.
	Start, End time.Time
	// Task is the ID of the task the region belongs to (0 is the
	// background task).
	Task uint64
	// Type is the region type, e.g. "reload.apply".
	Type string
}

// Task is one user task.
type Task struct {
	// Start and End are the wall-clock begin and end of the task, clamped to
	// the trace span when the begin or the end is not in the trace.
	Start, End time.Time
	// ID is the trace's task ID, which Log.Task and Region.Task refer to.
	ID uint64
	// Type is the task type, e.g. "reload"; it may be empty if the task
	// began before the trace.
	Type string
}

// Parse reads one execution trace from r and summarises it. It returns an
// error only if nothing usable could be read: a bad header, or a trace that
// fails before its first complete generation. A trace cut after some
// complete generations gives a Summary with Truncated set and no error.
func Parse(r io.Reader) (*Summary, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("traceinfo: reading trace header: %w", err)
	}
	p := newParser()
	if err := p.run(tr); err != nil {
		if p.events == 0 {
			return nil, fmt.Errorf("traceinfo: no complete generation read: %w", err)
		}
		p.s.Truncated = true
	}
	if p.events == 0 {
		return nil, errors.New("traceinfo: trace contains no events")
	}
	return p.finish(), nil
}

// ParseFile opens the trace file at path and calls Parse.
func ParseFile(path string) (*Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("traceinfo: %w", err)
	}
	defer f.Close()
	s, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// STWIn returns the stop-the-world ranges overlapping [from, to).
func (s *Summary) STWIn(from, to time.Time) []Range {
	var out []Range
	for _, r := range s.STW {
		if overlaps(r, from, to) {
			out = append(out, r)
		}
	}
	return out
}

// LockBlocksIn returns the blocks with Lock set and At in [from, to).
func (s *Summary) LockBlocksIn(from, to time.Time) []Block {
	var out []Block
	for _, b := range s.Blocks {
		if b.Lock && in(b.At, from, to) {
			out = append(out, b)
		}
	}
	return out
}

// BlockedGoroutinesIn returns the number of distinct goroutines that have a
// Lock block with At in [from, to).
func (s *Summary) BlockedGoroutinesIn(from, to time.Time) int {
	seen := map[uint64]struct{}{}
	for _, b := range s.Blocks {
		if b.Lock && in(b.At, from, to) {
			seen[b.Goroutine] = struct{}{}
		}
	}
	return len(seen)
}

// LogsIn returns the logs whose category is category, in trace order.
func (s *Summary) LogsIn(category string) []Log {
	var out []Log
	for _, l := range s.Logs {
		if l.Category == category {
			out = append(out, l)
		}
	}
	return out
}

func in(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

func overlaps(r Range, from, to time.Time) bool {
	if r.Dur <= 0 {
		return in(r.Start, from, to)
	}
	return r.Start.Before(to) && r.End().After(from)
}

const (
	stwPrefix  = "stop-the-world ("
	gcMarkName = "GC concurrent mark phase"
)

type rangeKey struct {
	name  string
	scope trace.ResourceID
}

type openRange struct {
	at   trace.Time
	wall time.Time
}

type openRegion struct {
	typ  string
	task uint64
	wall time.Time
}

type stackInfo struct {
	lock  bool
	frame string
}

type parser struct {
	s      *Summary
	events int // events other than EventSync

	started   bool
	first     trace.Time
	last      trace.Time
	startWall time.Time // wall time of first, fixed once the first event is seen
	clock     *trace.ClockSnapshot

	ranges  map[rangeKey]openRange
	tasks   map[trace.TaskID]int // index into s.Tasks of tasks still open
	regions map[trace.GoID][]openRegion
	// stacks caches the classification of blocking stacks. trace.Stack
	// values hold a pointer to their generation's tables, so the cache is
	// reset at every generation boundary to let them go.
	stacks map[trace.Stack]stackInfo
}

func newParser() *parser {
	return &parser{
		s:       &Summary{},
		ranges:  map[rangeKey]openRange{},
		tasks:   map[trace.TaskID]int{},
		regions: map[trace.GoID][]openRegion{},
		stacks:  map[trace.Stack]stackInfo{},
	}
}

// run reads events until the end of the trace. It returns nil at io.EOF and
// the read error otherwise; a panic inside the parser is turned into an
// error so that a hostile file cannot crash the lab.
func (p *parser) run(tr *trace.Reader) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("trace parser panicked: %v", v)
		}
	}()
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p.event(ev)
	}
}

// wall converts a trace time to wall-clock time using the most recent clock
// snapshot.
func (p *parser) wall(t trace.Time) time.Time {
	if p.clock == nil {
		return time.Unix(0, 0).Add(t.Sub(p.first))
	}
	return p.clock.Wall.Add(t.Sub(p.clock.Trace))
}

func (p *parser) event(ev trace.Event) {
	t := ev.Time()
	if !p.started {
		p.first = t
	}
	p.last = t
	kind := ev.Kind()
	if kind == trace.EventSync {
		if cs := ev.Sync().ClockSnapshot; cs != nil {
			c := *cs
			p.clock = &c
			p.s.WallClock = true
		}
		clear(p.stacks)
	}
	if !p.started {
		p.started = true
		p.startWall = p.wall(t)
	}
	if kind == trace.EventSync {
		return
	}
	p.events++
	switch kind {
	case trace.EventRangeBegin, trace.EventRangeActive:
		r := ev.Range()
		if !tracked(r.Name) {
			return
		}
		k := rangeKey{r.Name, r.Scope}
		if _, ok := p.ranges[k]; ok {
			// RangeActive re-announces a range at each generation
			// boundary; keep the earliest begin.
			return
		}
		p.ranges[k] = openRange{at: t, wall: p.wall(t)}
	case trace.EventRangeEnd:
		r := ev.Range()
		if !tracked(r.Name) {
			return
		}
		k := rangeKey{r.Name, r.Scope}
		o, ok := p.ranges[k]
		if !ok {
			// Began before the trace: clamp to the trace start.
			o = openRange{at: p.first, wall: p.startWall}
		}
		delete(p.ranges, k)
		p.addRange(r.Name, o, t)
	case trace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			return
		}
		from, to := st.Goroutine()
		if from == trace.GoUndetermined || !from.Executing() || to != trace.GoWaiting {
			return
		}
		si := p.classify(st.Stack)
		p.s.Blocks = append(p.s.Blocks, Block{
			At:        p.wall(t),
			Goroutine: uint64(st.Resource.Goroutine()),
			Reason:    st.Reason,
			Lock:      si.lock,
			Frame:     si.frame,
		})
	case trace.EventLog:
		l := ev.Log()
		p.s.Logs = append(p.s.Logs, Log{At: p.wall(t), Task: uint64(l.Task), Category: l.Category, Message: l.Message})
	case trace.EventTaskBegin:
		tk := ev.Task()
		p.tasks[tk.ID] = len(p.s.Tasks)
		p.s.Tasks = append(p.s.Tasks, Task{Start: p.wall(t), ID: uint64(tk.ID), Type: tk.Type})
	case trace.EventTaskEnd:
		tk := ev.Task()
		if i, ok := p.tasks[tk.ID]; ok {
			delete(p.tasks, tk.ID)
			p.s.Tasks[i].End = p.wall(t)
			if p.s.Tasks[i].Type == "" {
				p.s.Tasks[i].Type = tk.Type
			}
			return
		}
		p.s.Tasks = append(p.s.Tasks, Task{Start: p.startWall, End: p.wall(t), ID: uint64(tk.ID), Type: tk.Type})
	case trace.EventRegionBegin:
		rg := ev.Region()
		g := ev.Goroutine()
		p.regions[g] = append(p.regions[g], openRegion{typ: rg.Type, task: uint64(rg.Task), wall: p.wall(t)})
	case trace.EventRegionEnd:
		rg := ev.Region()
		g := ev.Goroutine()
		stack := p.regions[g]
		start := p.startWall
		for i := len(stack) - 1; i >= 0; i-- {
			if stack[i].typ == rg.Type {
				start = stack[i].wall
				stack = slices.Delete(stack, i, i+1)
				break
			}
		}
		if len(stack) == 0 {
			delete(p.regions, g)
		} else {
			p.regions[g] = stack
		}
		p.s.Regions = append(p.s.Regions, Region{Start: start, End: p.wall(t), Task: uint64(rg.Task), Type: rg.Type})
	}
}

func tracked(name string) bool {
	return name == gcMarkName || strings.HasPrefix(name, stwPrefix)
}

func (p *parser) addRange(name string, o openRange, end trace.Time) {
	r := Range{Start: o.wall, Dur: end.Sub(o.at)}
	if name == gcMarkName {
		p.s.GCMark = append(p.s.GCMark, r)
		return
	}
	r.Reason = strings.TrimSuffix(strings.TrimPrefix(name, stwPrefix), ")")
	p.s.STW = append(p.s.STW, r)
}

// isLockFrame reports whether fn is a method of sync.Mutex or sync.RWMutex.
func isLockFrame(fn string) bool {
	return strings.HasPrefix(fn, "sync.(*Mutex).") || strings.HasPrefix(fn, "sync.(*RWMutex).")
}

func (p *parser) classify(st trace.Stack) stackInfo {
	if st == trace.NoStack {
		return stackInfo{}
	}
	if si, ok := p.stacks[st]; ok {
		return si
	}
	var si stackInfo
	top := true
	for f := range st.Frames() {
		if top {
			si.frame = f.Func
			top = false
		}
		if isLockFrame(f.Func) {
			si.lock = true
			si.frame = f.Func
			break
		}
	}
	p.stacks[st] = si
	return si
}

// finish closes whatever is still open at the end of the trace and orders
// the ranges, regions and tasks by start time.
func (p *parser) finish() *Summary {
	s := p.s
	s.Start, s.End = p.startWall, p.wall(p.last)
	for k, o := range p.ranges {
		p.addRange(k.name, o, p.last)
	}
	for _, i := range p.tasks {
		s.Tasks[i].End = s.End
	}
	for _, stack := range p.regions {
		for _, o := range stack {
			s.Regions = append(s.Regions, Region{Start: o.wall, End: s.End, Task: o.task, Type: o.typ})
		}
	}
	byStart := func(a, b time.Time) int { return a.Compare(b) }
	slices.SortStableFunc(s.STW, func(a, b Range) int { return byStart(a.Start, b.Start) })
	slices.SortStableFunc(s.GCMark, func(a, b Range) int { return byStart(a.Start, b.Start) })
	slices.SortStableFunc(s.Regions, func(a, b Region) int { return byStart(a.Start, b.Start) })
	slices.SortStableFunc(s.Tasks, func(a, b Task) int { return byStart(a.Start, b.Start) })
	return s
}
