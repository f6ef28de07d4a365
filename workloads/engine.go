package workloads

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// LateAfter is how far past its intended start an operation may be sent
// before it counts as late. Late operations are still measured from their
// intended start.
const LateAfter = time.Millisecond

// stopGrace is how long in-flight operations may finish after the run was
// interrupted or aborted before their connections are closed.
const stopGrace = 250 * time.Millisecond

// ErrAborted wraps the reason a run stopped before its end on its own.
var ErrAborted = errors.New("run aborted")

// ErrInterrupted is returned when the run's context was canceled.
var ErrInterrupted = errors.New("run interrupted")

// Options tunes a run.
type Options struct {
	// Progress, if set, is called every ProgressEvery while load runs,
	// from one goroutine.
	Progress func(Progress)
	// ProgressEvery defaults to one second. However long it is, the run is
	// checked for a failing target at least every second.
	ProgressEvery time.Duration
	// ConnectTimeout bounds connecting to the targets before load starts;
	// five seconds by default.
	ConnectTimeout time.Duration
	// Tool names the program and version in the result.
	Tool string
	// Keyspace, if set, is called about every ProgressEvery while a
	// prefill or cleanup lasts, and once when it ends, from one goroutine.
	Keyspace func(KeyspaceProgress)
	// Clock is the time the run reads and waits on; RealClock when nil.
	Clock Clock
}

// Progress is a snapshot of a running load.
type Progress struct {
	Elapsed time.Duration
	Total   time.Duration
	Warmup  bool
	// RunnerDelay is the runner's recent wake-up delay (the probe's, a
	// moving average over about 32 ms): how late tailgate itself is
	// running. Sustained above LateAfter, the load generator is short of
	// CPU and its sends and readings are late.
	RunnerDelay time.Duration
	// Components are in plan order.
	Components []ComponentProgress
}

// ComponentProgress is one component's share of a Progress.
type ComponentProgress struct {
	Name string
	// Operations and Errors count the measured window so far.
	Operations int64
	Errors     int64
	// Rate is operations completed per second since the previous snapshot,
	// warmup included.
	Rate float64
	// P99 is the corrected p99 of the measured window so far.
	P99 time.Duration
	// Ops hold each operation's measured record so far, for exporters
	// that publish histograms while the run lasts.
	Ops []OperationProgress
}

// OperationProgress is one operation's measured record so far.
type OperationProgress struct {
	Name   string
	Count  int64
	Errors int64
	// ErrorKinds counts errors by kind.
	ErrorKinds map[string]int64
	// Latency is a copy of the whole-run corrected histogram so far; the
	// receiver owns it.
	Latency *hdrhistogram.Histogram
}

// componentRun is one component's load: its driver and connections, the
// pacer its workers share, and the record the collector keeps of them.
type componentRun struct {
	spec    *Spec
	ops     []string
	driver  Driver
	conns   []Conn
	closing sync.Once
	// closedEarly is set when a stopped run closed the connections under
	// operations that hung.
	closedEarly atomic.Bool
	// value is the source every written value is cut from.
	value   []byte
	win     window
	pace    *pacer
	workers []*worker
	// late is the runner's recent wake-up delay, kept by the run's probe.
	late *lateness
	// drain weighs the operations left unsent on every connection's ideal
	// timeline.
	drain drainPool
	rec   *record
	errs  *errorLog
	// warnings are the prefill's and cleanup's, for the result;
	// keyspaceErr is the first error of the last pass over the keyspace.
	warnings    []string
	keyspaceErr string
}

func newComponentRun(spec *Spec, driver Driver) *componentRun {
	ops := spec.Operations()
	c := &componentRun{
		spec: spec, ops: ops, driver: driver,
		value: valueSource(spec),
		rec:   newRecord(len(ops)),
		errs:  &errorLog{secrets: spec.Secrets},
	}
	if st := spec.Component.Workload.Stages; st != nil {
		c.rec.stagesOf(len(st))
	}
	return c
}

// startDelay is how long after Run reads the clock its load starts: time to
// start every worker before the first intended start.
const startDelay = 10 * time.Millisecond

// Run loads every component at once for the specs' warmup and duration and
// returns the measured result. On an interrupt or an abort it returns the
// partial result (Complete false) together with an error wrapping
// ErrInterrupted or ErrAborted; when a target cannot be reached it returns no
// result and an error wrapping ErrUnreachable.
func Run(ctx context.Context, specs []*Spec, opt Options) (*result.Result, error) {
	opt = opt.withDefaults()
	for _, s := range specs {
		if st := s.Component.Workload.Stages; st != nil && s.Duration != slo.StagesDuration(st) {
			return nil, fmt.Errorf("component %q: the run lasts %s but its stages %s: a run in stages is measured for the stages' total",
				s.Component.Name, slo.FormatDuration(s.Duration), slo.FormatDuration(slo.StagesDuration(st)))
		}
	}
	runs, err := connectAll(ctx, specs, opt.ConnectTimeout)
	defer closeAll(runs)
	if err != nil {
		return nil, err
	}
	for _, c := range runs {
		if err := c.checkKeyspace(); err != nil {
			return nil, err
		}
		if c.spec.Pipeline() > 1 {
			if _, ok := c.conns[0].(PipelineConn); !ok {
				return nil, fmt.Errorf("component %q: %s cannot pipeline (workload.pipeline %d): it sends one operation at a time",
					c.spec.Component.Name, c.driver.Describe(), c.spec.Pipeline())
			}
		}
	}
	// Prefill runs before warmup, one component after another.
	for _, c := range runs {
		if err := c.prefill(ctx, opt); err != nil {
			return nil, err
		}
	}

	loadCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	clock := opt.Clock
	start := clock.Now().Add(startDelay)
	var longest time.Duration
	for _, s := range specs {
		longest = max(longest, s.Warmup+s.Duration)
	}

	// Every goroutine that waits on the clock gets its sleeper before any
	// of them starts, so that a simulated clock knows them all from the
	// first instant.
	flushes := make(chan *sliceSet, 64)
	late := new(lateness)
	for _, c := range runs {
		c.late = late
		c.prepare(start, clock, flushes)
	}
	probeCtx, stopProbe := context.WithCancel(loadCtx)
	defer stopProbe()
	probed := make(chan *runnerProbe, 1)
	probeSleeper := clock.NewSleeper()
	go func() { probed <- probeRunner(probeCtx, clock, probeSleeper, start, probeWindowOf(runs), late) }()
	mon := newMonitor(runs, start, longest, opt.ProgressEvery, opt.Progress)
	tick := clock.NewTicker(mon.tick)
	monitorDone, stopMonitor := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(monitorDone)
		mon.run(loadCtx, tick, cancel, stopMonitor)
	}()
	drive(loadCtx, runs, clock, flushes)
	stopProbe()
	// The workers' slices (an interval's samples each) are done with.
	// Dropping them and collecting once before the result is built means
	// encoding the result's intervals, whose transient garbage grows with
	// the soak, starts from a small heap and does not raise peak memory
	// above what the load itself held.
	for _, c := range runs {
		c.workers = nil
	}
	runtime.GC()
	close(stopMonitor)
	<-monitorDone
	end := clock.Now()
	if loadCtx.Err() == nil && end.Before(start.Add(longest)) {
		// The workers stop after the last operation intended in the
		// window, which may complete before the window ends (at 1/s, up
		// to a second before): the load still covered the whole window.
		end = start.Add(longest)
	}

	for _, c := range runs {
		c.cleanup(ctx, opt)
	}

	res := buildResult(runs, start, end, opt.Tool)
	for _, c := range runs {
		res.Warnings = append(res.Warnings, c.warnings...)
	}
	res.Runner = (<-probed).record()
	return res, outcome(ctx, loadCtx, runs, res, end.Sub(start))
}

// probeWindowOf is the measured window the runner probe cuts into
// intervals: the components share its start and interval length (one
// plan's warmup and interval), and the longest gives its count.
func probeWindowOf(runs []*componentRun) probeWindow {
	var w probeWindow
	for _, c := range runs {
		if c.win.intervals > w.count {
			w = probeWindow{start: c.win.measStart, interval: c.win.interval, count: c.win.intervals}
		}
	}
	return w
}

// withDefaults fills in the defaults of unset options.
func (opt Options) withDefaults() Options {
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = 5 * time.Second
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = time.Second
	}
	if opt.Clock == nil {
		opt.Clock = RealClock{}
	}
	return opt
}

// prepare sets the component's timeline and pacer for a load starting at
// start, and gives it a worker per connection, flushing into out.
func (c *componentRun) prepare(start time.Time, clock Clock, out chan<- *sliceSet) {
	c.win = newWindow(c.spec, start)
	c.pace = newPacer(c.spec, c.win, clock)
	for _, conn := range c.conns {
		c.workers = append(c.workers, newWorker(c, conn, clock, out))
	}
}

// drive runs every component's workers until the windows close or ctx ends,
// with the collector merging the slices they flush, and returns once every
// slice is merged.
func drive(ctx context.Context, runs []*componentRun, clock Clock, flushes chan *sliceSet) {
	var workers sync.WaitGroup
	for _, c := range runs {
		for _, w := range c.workers {
			workers.Add(1)
			go func() {
				defer workers.Done()
				if pc, ok := w.conn.(PipelineConn); ok && c.spec.Pipeline() > 1 {
					w.runPipelined(ctx, pc)
					return
				}
				w.run(ctx)
			}()
		}
	}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		collect(flushes)
	}()
	workersDone := make(chan struct{})
	go func() {
		// On an interrupt or an abort, operations stuck on a hung target
		// must not hold the partial result back for their timeout: after a
		// short grace the connections are closed under them.
		select {
		case <-workersDone:
		case <-ctx.Done():
			select {
			case <-workersDone:
			case <-clock.After(stopGrace):
				for _, c := range runs {
					c.closedEarly.Store(true)
				}
				closeAll(runs)
			}
		}
	}()
	workers.Wait()
	close(workersDone)
	close(flushes)
	<-collected
}

// outcome is the error a finished run returns with its result, marking the
// result incomplete when the run was interrupted, aborted or failed too
// often to be measured; ran is how long the load ran.
func outcome(ctx, loadCtx context.Context, runs []*componentRun, res *result.Result, ran time.Duration) error {
	var err error
	switch cause := context.Cause(loadCtx); {
	case ctx.Err() != nil:
		res.Incomplete = fmt.Sprintf("interrupted after %s", ran.Round(time.Millisecond))
		err = fmt.Errorf("%w after %s", ErrInterrupted, ran.Round(time.Millisecond))
	case errors.Is(cause, ErrAborted):
		res.Incomplete = cause.Error()
		err = cause
	default:
		if err = checkErrorShare(runs); err != nil {
			res.Incomplete = err.Error()
		}
	}
	if err != nil {
		res.Complete = false
	}
	return err
}

func closeAll(runs []*componentRun) {
	for _, c := range runs {
		c.close()
	}
}

// connectAll opens every driver and all its connections, in parallel per
// component, before any load is sent.
func connectAll(ctx context.Context, specs []*Spec, timeout time.Duration) ([]*componentRun, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	runs := make([]*componentRun, 0, len(specs))
	for _, spec := range specs {
		d, err := Open(cctx, spec)
		if err != nil {
			return runs, err
		}
		c := newComponentRun(spec, d)
		runs = append(runs, c)
		n := max(spec.Component.Workload.Connections, 1)
		streams := max(spec.Component.Workload.Streams, 1)
		mux, ok := d.(Multiplexer)
		if streams > 1 && !ok {
			return runs, fmt.Errorf("component %q: workload.streams %d: %s carries one operation at a time per connection",
				spec.Component.Name, streams, d.Describe())
		}
		conns := make([][]Conn, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if streams > 1 {
					conns[i], errs[i] = mux.ConnectStreams(cctx, streams)
					return
				}
				conn, err := d.Connect(cctx)
				if conn != nil {
					conns[i] = []Conn{conn}
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, cs := range conns {
			for _, conn := range cs {
				if conn != nil {
					c.conns = append(c.conns, conn)
				}
			}
		}
		if err := errors.Join(errs...); err != nil {
			var first error
			failed := 0
			for _, e := range errs {
				if e != nil {
					first = cmp.Or(first, e)
					failed++
				}
			}
			if failed < n {
				// The target answers, but not this many: a server's limit
				// on clients (maxclients, -c, a proxy's maxconn) most often.
				return runs, fmt.Errorf("component %q: %w: %s: %d of the %d connections failed to open (does the server take that many clients?): %w",
					spec.Component.Name, ErrUnreachable, d.Describe(), failed, n, redactErr(first, spec.Secrets))
			}
			return runs, fmt.Errorf("component %q: %w: %s: %w", spec.Component.Name, ErrUnreachable,
				d.Describe(), redactErr(first, spec.Secrets))
		}
	}
	return runs, nil
}

// close closes the component's connections and driver, once.
func (c *componentRun) close() {
	c.closing.Do(func() {
		for _, conn := range c.conns {
			if conn != nil {
				conn.Close()
			}
		}
		c.driver.Close()
	})
}
