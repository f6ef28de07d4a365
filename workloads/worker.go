package workloads

import (
	"context"
	"time"

	"github.com/tailgate-dev/tailgate/result"
)

// worker is one connection's sender: it takes operations from its
// component's pacer, waits for their intended start, performs them and
// records them in its slice of the current interval, which it hands to the
// collector when the interval ends.
type worker struct {
	comp  *componentRun
	conn  Conn
	clock Clock
	sleep Sleeper
	// free holds this worker's emptied slices, returned by the collector;
	// whole are its whole-run histograms, shared by all its slices.
	free  chan *sliceSet
	whole []wholeRun
	out   chan<- *sliceSet
	// nodes are its whole-run records of a NodeReporter's nodes, by
	// Op.Node − 1; merged once the worker is done.
	nodes []nodeRun
	// stage is its record of the stage it is in, for a workload in stages.
	stage stageTrack
}

func newWorker(c *componentRun, conn Conn, clock Clock, out chan<- *sliceSet) *worker {
	w := &worker{comp: c, conn: conn, clock: clock, sleep: clock.NewSleeper(), out: out,
		free: make(chan *sliceSet, 2), whole: make([]wholeRun, len(c.ops))}
	for k := range w.whole {
		w.whole[k] = newWholeRun()
	}
	w.free <- w.newSlices()
	w.free <- w.newSlices()
	if c.rec.stages != nil {
		w.stage.ops = make([]stageRun, len(c.ops))
		for k := range w.stage.ops {
			w.stage.ops[k].latency, w.stage.ops[k].client = result.NewHistogram(), result.NewHistogram()
		}
	}
	return w
}

func (w *worker) newSlices() *sliceSet {
	s := newWorkerSliceSet(w.whole)
	s.owner = w
	return s
}

// run sends operations until the window closes or ctx ends, then hands its
// last slice to the collector.
func (w *worker) run(ctx context.Context) {
	c, win, pace := w.comp, w.comp.win, w.comp.pace
	defer w.sleep.Close()
	dr := newDrawer(c.spec, c.value)
	dr.multiKey(c.driver, len(c.ops))
	var op Op
	cur := <-w.free
	now := w.clock.Now()
	cur.interval = win.intervalOf(now)
	flushAt := win.flushAt(cur.interval, now)
	var ideal idealConn
	for ctx.Err() == nil {
		index, due, ok := pace.next()
		if !ok {
			break
		}
		sent := due
		if pace.open {
			// A worker behind schedule sends at once, and reads the
			// clock once for it.
			if sent = w.clock.Now(); sent.Before(due) {
				if !w.sleep.Until(ctx, due) {
					break
				}
				sent = w.clock.Now()
			}
		}
		dr.draw(index, &op)
		measured := !due.Before(win.measStart)
		if pace.open && sent.After(win.drainUntil) {
			// Time is up and the backlog was never sent: each such
			// operation is a failure of the target to keep up.
			if !sent.Before(flushAt) {
				cur, flushAt = w.rotate(cur, sent)
			}
			if measured {
				cur.ops[op.Kind].fail(KindUnsent)
				w.stageFailure(due, op.Kind)
				c.errs.note(KindUnsent, "operation not sent before the window closed: the target did not keep up with the asked rate (or tailgate ran out of CPU or connections to send it)", sent.Sub(win.measStart))
			}
			continue
		}
		clientNS := int64(-1) // closed loop: no intended start to be late for
		if pace.open {
			clientNS = ideal.send(due, sent)
		}
		op.Sent = time.Time{}
		op.Hits, op.Misses, op.Node = 0, 0, 0
		op.Messages, op.FirstMessageLead = 0, 0
		err := w.conn.Do(ctx, &op)
		done := w.clock.Now()
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
			cur, flushAt = w.rotate(cur, done)
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
			w.nodeFailure(op.Node, kind)
			w.stageFailure(due, op.Kind)
			if s.kinds[kind] == 1 {
				c.errs.note(kind, err.Error(), done.Sub(win.measStart))
			}
		default:
			s.record(done.Sub(due).Nanoseconds(), done.Sub(sent).Nanoseconds(), clientNS, pace.open && sent.Sub(due) > LateAfter)
			w.nodeSuccess(op.Node, done.Sub(due).Nanoseconds())
			w.stageSuccess(due, op.Kind, done.Sub(due).Nanoseconds(), clientNS, op.Hits, op.Misses)
			s.hits += int64(op.Hits)
			s.misses += int64(op.Misses)
			if op.Messages > 0 {
				s.messages += int64(op.Messages)
				w.whole[op.Kind].recordFirst(done.Sub(due) - op.FirstMessageLead)
			}
		}
	}
	if !cur.empty() {
		w.out <- cur
	}
}

// rotate hands the worker's filled slice to the collector and starts the
// interval holding instant t.
func (w *worker) rotate(cur *sliceSet, t time.Time) (*sliceSet, time.Time) {
	w.out <- cur
	var next *sliceSet
	select {
	case next = <-w.free:
	default:
		next = w.newSlices()
	}
	next.interval = w.comp.win.intervalOf(t)
	return next, w.comp.win.flushAt(next.interval, t)
}
