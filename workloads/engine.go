package workloads

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// LateAfter is how far past its intended start an operation may be sent
// before it counts as late. Late operations are still measured from their
// intended start.
const LateAfter = time.Millisecond

// abortWindow is the span over which the error share is watched while load
// runs: a target that fails more than the plan's max_error_rate of the
// operations in this span cannot be measured, and the run stops.
const abortWindow = 3 * time.Second

// stopGrace is how long in-flight operations may finish after the run was
// interrupted or aborted before their connections are closed.
const stopGrace = 250 * time.Millisecond

// ErrAborted wraps the reason a run stopped before its end on its own.
var ErrAborted = errors.New("run aborted")

// ErrInterrupted is returned when the run's context was canceled.
var ErrInterrupted = errors.New("run interrupted")

// Options tunes a run.
type Options struct {
	// Progress, if set, is called about every ProgressEvery while load runs,
	// from one goroutine.
	Progress func(Progress)
	// ProgressEvery defaults to one second.
	ProgressEvery time.Duration
	// ConnectTimeout bounds connecting to the targets before load starts;
	// five seconds by default.
	ConnectTimeout time.Duration
	// Tool names the program and version in the result.
	Tool string
	// Keyspace, if set, is called about every ProgressEvery while a
	// prefill or cleanup lasts, and once when it ends, from one goroutine.
	Keyspace func(KeyspaceProgress)
}

// withDefaults fills in the defaults of unset options.
func (opt Options) withDefaults() Options {
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = 5 * time.Second
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = time.Second
	}
	return opt
}

// Progress is a snapshot of a running load.
type Progress struct {
	Elapsed time.Duration
	Total   time.Duration
	Warmup  bool
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

// componentRun is one component's load and its aggregated record.
type componentRun struct {
	spec   *Spec
	ops    []string
	driver Driver
	conns  []Conn
	sched  *schedule
	// value is the source every written value is cut from.
	value   []byte
	closedN atomic.Uint64
	closing sync.Once
	// closedEarly is set when a stopped run closed the connections under
	// operations that hung.
	closedEarly atomic.Bool
	free        []chan *sliceSet
	// workerWhole holds each worker's whole-run histograms (service
	// time, the generator's own delay), one set per operation kind, merged
	// when the workers are done.
	workerWhole [][]wholeRun
	// scratch is the collector's: a worker's interval slice passes through
	// it on its way into the whole-run histogram (see merge).
	scratch  *hdrhistogram.PackedHistogram
	interval time.Duration
	nIvals   int

	mu           sync.Mutex
	whole        []*hdrhistogram.Histogram
	service      []*hdrhistogram.Histogram
	client       []*hdrhistogram.Histogram
	lessClient   []*hdrhistogram.Histogram
	ivals        [][]intervalAgg
	errors       []int64
	late         []int64
	hits         []int64
	misses       []int64
	kinds        []map[string]int64
	firstErrors  map[string]result.ErrorSample
	warmupOps    int64
	warmupErrors int64
	seenOps      int64 // every completed or failed operation, warmup included
	seenErrors   int64
	// warnings are the prefill's and cleanup's, for the result;
	// keyspaceErr is the first error of the last pass over the keyspace.
	warnings    []string
	keyspaceErr string
}

type intervalAgg struct {
	hist   *hdrhistogram.PackedHistogram
	errors int64
}

func newComponentRun(spec *Spec, driver Driver) *componentRun {
	ops := spec.Operations()
	c := &componentRun{
		spec: spec, ops: ops, driver: driver,
		sched:       newSchedule(spec),
		value:       valueSource(spec),
		interval:    spec.interval(),
		whole:       make([]*hdrhistogram.Histogram, len(ops)),
		service:     make([]*hdrhistogram.Histogram, len(ops)),
		client:      make([]*hdrhistogram.Histogram, len(ops)),
		lessClient:  make([]*hdrhistogram.Histogram, len(ops)),
		ivals:       make([][]intervalAgg, len(ops)),
		errors:      make([]int64, len(ops)),
		late:        make([]int64, len(ops)),
		hits:        make([]int64, len(ops)),
		misses:      make([]int64, len(ops)),
		kinds:       make([]map[string]int64, len(ops)),
		firstErrors: map[string]result.ErrorSample{},
		scratch:     newPacked(),
	}
	c.nIvals = int((spec.Duration + c.interval - 1) / c.interval)
	for k := range ops {
		c.whole[k] = result.NewHistogram()
		c.service[k] = result.NewHistogram()
		c.client[k] = result.NewHistogram()
		c.lessClient[k] = result.NewHistogram()
		c.kinds[k] = map[string]int64{}
	}
	return c
}

// Run loads every component at once for the specs' warmup and duration and
// returns the measured result. On an interrupt or an abort it returns the
// partial result (Complete false) together with an error wrapping
// ErrInterrupted or ErrAborted; when a target cannot be reached it returns no
// result and an error wrapping ErrUnreachable.
func Run(ctx context.Context, specs []*Spec, opt Options) (*result.Result, error) {
	opt = opt.withDefaults()
	runs, err := connectAll(ctx, specs, opt.ConnectTimeout)
	defer func() {
		for _, c := range runs {
			c.close()
		}
	}()
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
	var longest time.Duration
	for _, s := range specs {
		longest = max(longest, s.Warmup+s.Duration)
	}
	start := time.Now().Add(10 * time.Millisecond)
	flushes := make(chan *sliceSet, 64)
	var workers sync.WaitGroup
	for ci, c := range runs {
		c.free = make([]chan *sliceSet, len(c.conns))
		c.workerWhole = make([][]wholeRun, len(c.conns))
		for w, conn := range c.conns {
			whole := make([]wholeRun, len(c.ops))
			for k := range whole {
				whole[k] = newWholeRun()
			}
			c.workerWhole[w] = whole
			c.free[w] = make(chan *sliceSet, 2)
			c.free[w] <- newWorkerSliceSet(ci<<16|w, whole)
			c.free[w] <- newWorkerSliceSet(ci<<16|w, whole)
			workers.Add(1)
			go func() {
				defer workers.Done()
				if pc, ok := conn.(PipelineConn); ok && c.spec.Pipeline() > 1 {
					c.workPipelined(loadCtx, w, pc, start, flushes)
					return
				}
				c.work(loadCtx, w, conn, start, flushes)
			}()
		}
	}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for s := range flushes {
			c := runs[s.worker>>16]
			c.merge(s)
			s.reset()
			select {
			case c.free[s.worker&0xffff] <- s:
			default:
			}
		}
	}()
	probeCtx, stopProbe := context.WithCancel(loadCtx)
	defer stopProbe()
	probed := make(chan *runnerProbe, 1)
	go func() { probed <- probeRunner(probeCtx, start) }()
	monitorDone := make(chan struct{})
	stopMonitor := make(chan struct{})
	go func() {
		defer close(monitorDone)
		monitor(loadCtx, cancel, runs, start, longest, opt, stopMonitor)
	}()
	workersDone := make(chan struct{})
	go func() {
		// On an interrupt or an abort, operations stuck on a hung target
		// must not hold the partial result back for their timeout: after a
		// short grace the connections are closed under them.
		select {
		case <-workersDone:
		case <-loadCtx.Done():
			select {
			case <-workersDone:
			case <-time.After(stopGrace):
				for _, c := range runs {
					c.closedEarly.Store(true)
					c.close()
				}
			}
		}
	}()
	workers.Wait()
	stopProbe()
	close(workersDone)
	close(flushes)
	<-collected
	// The workers' slices (full histograms, several per operation kind
	// per worker) are done with. Dropping them and collecting once before
	// the result is built means encoding the result's intervals, whose
	// transient garbage grows with the soak, starts from a small heap and
	// does not raise peak memory above what the load itself held.
	for _, c := range runs {
		c.free = nil
		c.mergeWhole()
	}
	runtime.GC()
	close(stopMonitor)
	<-monitorDone
	end := time.Now()
	for _, c := range runs {
		c.cleanup(ctx, opt)
	}

	res := buildResult(runs, start, end, opt.Tool)
	for _, c := range runs {
		res.Warnings = append(res.Warnings, c.warnings...)
	}
	res.Runner = (<-probed).record()
	switch cause := context.Cause(loadCtx); {
	case ctx.Err() != nil:
		res.Complete = false
		res.Incomplete = fmt.Sprintf("interrupted after %s", end.Sub(start).Round(time.Millisecond))
		return res, fmt.Errorf("%w after %s", ErrInterrupted, end.Sub(start).Round(time.Millisecond))
	case errors.Is(cause, ErrAborted):
		res.Complete = false
		res.Incomplete = cause.Error()
		return res, cause
	}
	if err := checkErrorShare(runs); err != nil {
		res.Complete = false
		res.Incomplete = err.Error()
		return res, err
	}
	return res, nil
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
			first := err
			for _, e := range errs {
				if e != nil {
					first = e
					break
				}
			}
			return runs, fmt.Errorf("component %q: %w: %s: %w", spec.Component.Name, ErrUnreachable,
				d.Describe(), redactErr(first, spec.Secrets))
		}
	}
	return runs, nil
}

// work is one worker: it takes operations from the schedule, waits for their
// intended start, performs them on its connection and records them.
func (c *componentRun) work(ctx context.Context, w int, conn Conn, start time.Time, out chan<- *sliceSet) {
	spec := c.spec
	open := spec.rate() > 0
	measStart := start.Add(spec.Warmup)
	end := measStart.Add(spec.Duration)
	drainUntil := end.Add(spec.Component.Workload.Timeout)
	sl := newSleeper()
	defer sl.close()
	dr := newDrawer(spec, c.value)
	var op Op
	cur := <-c.free[w]
	cur.interval = c.intervalOf(time.Now(), measStart)
	flushAt := measStart.Add(time.Duration(cur.interval+1) * c.interval)
	shards, shardOf := c.sched.shards, c.sched.shardOf
	var ideal idealConn
	for ctx.Err() == nil {
		var due, sent time.Time
		var index uint64
		if open {
			var offset time.Duration
			index, offset = c.sched.next()
			due = start.Add(offset)
			if !due.Before(end) {
				break
			}
			// A worker behind schedule sends at once, and reads the
			// clock once for it.
			if sent = time.Now(); sent.Before(due) {
				if !sl.until(ctx, due) {
					break
				}
				sent = time.Now()
			}
		} else {
			index = (c.closedN.Add(1)-1)*shards + shardOf
			due = time.Now()
			if !due.Before(end) {
				break
			}
			sent = due
		}
		dr.draw(index, &op)
		measured := !due.Before(measStart)
		if open && sent.After(drainUntil) {
			// Time is up and the backlog was never sent: each such
			// operation is a failure of the target to keep up.
			if !sent.Before(flushAt) {
				cur, flushAt = c.rotate(cur, w, sent, measStart, out)
			}
			if measured {
				cur.ops[op.Kind].fail(KindUnsent)
				c.noteError(KindUnsent, "operation not sent before the window closed: the target did not keep up with the asked rate (or tailgate ran out of CPU or connections to send it)", sent.Sub(measStart))
			}
			continue
		}
		clientNS := int64(-1) // closed loop: no intended start to be late for
		if open {
			clientNS = ideal.send(due, sent)
		}
		op.Sent = time.Time{}
		op.Hits, op.Misses = 0, 0
		err := conn.Do(ctx, &op)
		done := time.Now()
		if err != nil && ctx.Err() != nil {
			break // interrupted mid-operation: neither a success nor a target error
		}
		// Waiting for a stream is the target's doing, not the generator's:
		// the ideal connection waits too.
		ideal.done(done.Sub(sent))
		if op.Sent.After(sent) {
			sent = op.Sent
		}
		if !done.Before(flushAt) {
			cur, flushAt = c.rotate(cur, w, done, measStart, out)
		}
		s := &cur.ops[op.Kind]
		switch {
		case !measured:
			s.warmupOps++
			if err != nil {
				s.warmupErrors++
			}
		case err != nil:
			kind := ErrorKind(err)
			s.fail(kind)
			if s.kinds[kind] == 1 {
				c.noteError(kind, err.Error(), done.Sub(measStart))
			}
		default:
			s.record(done.Sub(due).Nanoseconds(), done.Sub(sent).Nanoseconds(), clientNS, open && sent.Sub(due) > LateAfter)
			s.hits += int64(op.Hits)
			s.misses += int64(op.Misses)
		}
	}
	if !cur.empty() {
		out <- cur
	}
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

// intervalOf is the interval index of instant t: negative during warmup,
// capped at the last interval for operations completing after the window.
func (c *componentRun) intervalOf(t, measStart time.Time) int {
	d := t.Sub(measStart)
	i := int(d / c.interval)
	if d < 0 {
		i-- // floor, not truncation
	}
	return min(i, c.nIvals-1)
}

// rotate hands the worker's filled slice to the collector and starts the
// interval holding instant t.
func (c *componentRun) rotate(cur *sliceSet, w int, t, measStart time.Time, out chan<- *sliceSet) (*sliceSet, time.Time) {
	out <- cur
	var next *sliceSet
	select {
	case next = <-c.free[w]:
	default:
		next = newWorkerSliceSet(cur.worker, c.workerWhole[w])
	}
	next.interval = c.intervalOf(t, measStart)
	flushAt := measStart.Add(time.Duration(next.interval+1) * c.interval)
	if next.interval == c.nIvals-1 {
		flushAt = t.Add(24 * time.Hour) // the last interval takes everything after
	}
	return next, flushAt
}

// noteError keeps the first message of each error kind, for reports.
func (c *componentRun) noteError(kind, msg string, at time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.firstErrors[kind]; !seen {
		c.firstErrors[kind] = result.ErrorSample{Message: Redact(msg, c.spec.Secrets), AtNS: at.Nanoseconds()}
	}
}

// merge folds one worker slice into the component's record.
func (c *componentRun) merge(s *sliceSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range s.ops {
		o := &s.ops[k]
		n := o.latency.TotalCount()
		c.warmupOps += o.warmupOps
		c.warmupErrors += o.warmupErrors
		c.seenOps += o.warmupOps + n + o.errors
		c.seenErrors += o.warmupErrors + o.errors
		if s.interval < 0 || (n == 0 && o.errors == 0) {
			continue
		}
		for len(c.ivals[k]) <= s.interval {
			c.ivals[k] = append(c.ivals[k], intervalAgg{hist: newPacked()})
		}
		iv := &c.ivals[k][s.interval]
		iv.hist.MergeFrom(o.latency)
		iv.errors += o.errors
		// Dense into dense goes through an iterator over every bucket;
		// a scan into the sparse scratch and its buckets into the dense
		// whole-run histogram cost a third of that, with the same counts.
		c.scratch.Reset()
		c.scratch.MergeFrom(o.latency)
		c.scratch.MergeInto(c.whole[k])
		c.errors[k] += o.errors
		c.late[k] += o.late
		c.hits[k] += o.hits
		c.misses[k] += o.misses
		for kind, v := range o.kinds {
			c.kinds[k][kind] += v
		}
	}
}

// mergeWhole folds the workers' whole-run histograms into the component's,
// once the workers are done, and lets them go.
func (c *componentRun) mergeWhole() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, whole := range c.workerWhole {
		for k, w := range whole {
			for _, m := range [...]struct{ from, into *hdrhistogram.Histogram }{
				{w.service, c.service[k]}, {w.client, c.client[k]}, {w.lessClient, c.lessClient[k]},
			} {
				c.scratch.Reset()
				c.scratch.MergeFrom(m.from)
				c.scratch.MergeInto(m.into)
			}
		}
	}
	c.workerWhole = nil
}

// monitor reports progress and stops the run when a target fails too much.
func monitor(ctx context.Context, cancel context.CancelCauseFunc, runs []*componentRun, start time.Time,
	total time.Duration, opt Options, stop <-chan struct{}) {
	tick := time.NewTicker(min(opt.ProgressEvery, time.Second))
	defer tick.Stop()
	type seen struct{ ops, errs int64 }
	history := make([][]seen, len(runs))
	lastProgress := time.Now()
	prevOps := make([]int64, len(runs))
	// One histogram per component for the p99 of all its operations,
	// reused at every tick: a new one a second was most of the garbage a
	// run made while load ran.
	alls := make([]*hdrhistogram.Histogram, len(runs))
	for i := range alls {
		alls[i] = result.NewHistogram()
	}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C:
			elapsed := now.Sub(start)
			p := Progress{Elapsed: elapsed, Total: total}
			for i, c := range runs {
				c.mu.Lock()
				cur := seen{c.seenOps, c.seenErrors}
				cp := ComponentProgress{Name: c.spec.Component.Name}
				all := alls[i]
				all.Reset()
				for k, name := range c.ops {
					cp.Operations += c.whole[k].TotalCount()
					cp.Errors += c.errors[k]
					all.Merge(c.whole[k])
					kinds := make(map[string]int64, len(c.kinds[k]))
					for kind, v := range c.kinds[k] {
						kinds[kind] = v
					}
					cp.Ops = append(cp.Ops, OperationProgress{Name: name, Count: c.whole[k].TotalCount(),
						Errors: c.errors[k], ErrorKinds: kinds, Latency: c.whole[k].Clone()})
				}
				cp.P99 = time.Duration(all.ValueAtQuantile(99))
				c.mu.Unlock()
				if elapsed < c.spec.Warmup {
					p.Warmup = true
				}
				cp.Rate = float64(cur.ops-prevOps[i]) / now.Sub(lastProgress).Seconds()
				prevOps[i] = cur.ops
				p.Components = append(p.Components, cp)

				history[i] = append(history[i], cur)
				steps := int(abortWindow / min(opt.ProgressEvery, time.Second))
				if len(history[i]) > steps {
					history[i] = history[i][len(history[i])-steps-1:]
					old := history[i][0]
					dOps, dErrs := cur.ops-old.ops, cur.errs-old.errs
					maxShare := c.spec.Component.Workload.MaxErrorRate
					if dOps >= 20 && float64(dErrs) > maxShare*float64(dOps) {
						cancel(fmt.Errorf("%w: component %q: %d of %d operations failed in the %s before %s (more than max_error_rate %g%%): %s",
							ErrAborted, c.spec.Component.Name, dErrs, dOps, abortWindow, elapsed.Round(100*time.Millisecond),
							maxShare*100, c.errorSummary()))
						return
					}
				}
			}
			lastProgress = now
			if opt.Progress != nil {
				opt.Progress(p)
			}
		}
	}
}

// errorSummary lists the first error of each kind seen so far.
func (c *componentRun) errorSummary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out string
	for kind, s := range c.firstErrors {
		if out != "" {
			out += "; "
		}
		out += kind + ": " + s.Message
	}
	if out == "" {
		out = "no error message recorded"
	}
	return out
}

// checkErrorShare fails a finished run whose measured error share is above
// its plan's max_error_rate: too many errors to measure anything.
func checkErrorShare(runs []*componentRun) error {
	for _, c := range runs {
		var ok, failed int64
		for k := range c.ops {
			ok += c.whole[k].TotalCount()
			failed += c.errors[k]
		}
		maxShare := c.spec.Component.Workload.MaxErrorRate
		if ok+failed == 0 {
			return fmt.Errorf("%w: component %q: no operation completed in the measured window", ErrAborted, c.spec.Component.Name)
		}
		if float64(failed) > maxShare*float64(ok+failed) {
			return fmt.Errorf("%w: component %q: %d of %d operations failed (more than max_error_rate %g%%): %s",
				ErrAborted, c.spec.Component.Name, failed, ok+failed, maxShare*100, c.errorSummary())
		}
	}
	return nil
}
