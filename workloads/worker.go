package workloads

import (
	"context"
	"time"
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
	// free holds this worker's emptied slices, returned by the collector.
	free chan *sliceSet
	out  chan<- *sliceSet
	// stage is the stage it is in, for a workload in stages (see stageOf).
	stage int
}

func newWorker(c *componentRun, conn Conn, clock Clock, out chan<- *sliceSet) *worker {
	w := &worker{comp: c, conn: conn, clock: clock, sleep: clock.NewSleeper(), out: out,
		free: make(chan *sliceSet, 2)}
	w.free <- w.newSlices()
	w.free <- w.newSlices()
	return w
}

func (w *worker) newSlices() *sliceSet {
	s := newSliceSet(len(w.comp.ops))
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
	ideal := idealConn{slot: timelineSlot{lane: c.drain.lane()}, publishFrom: win.end}
	defer ideal.idle()
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
			// operation is a failure to keep up, the target's unless a
			// generator never late would have sent it in time.
			if !sent.Before(flushAt) {
				cur, flushAt = w.rotate(cur, sent)
			}
			ideal.idle()
			own := c.drain.unsent(due, win.drainUntil, sent, c.late.now())
			if measured {
				w.unsent(&cur.ops[op.Kind], own, due, sent)
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
		ideal.done(done.Sub(sent), c.late.now())
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
			s.fail(kind, int32(op.Node), w.stageOf(due))
			if s.kinds[kind] == 1 {
				c.errs.note(kind, err.Error(), done.Sub(win.measStart))
			}
		default:
			sm := sample{latency: done.Sub(due).Nanoseconds(), service: done.Sub(sent).Nanoseconds(), client: clientNS,
				node: int32(op.Node), stage: w.stageOf(due)}
			if op.Messages > 0 {
				s.messages += int64(op.Messages)
				sm.first = max((done.Sub(due) - op.FirstMessageLead).Nanoseconds(), 1)
			}
			s.record(sm, pace.open && sent.Sub(due) > LateAfter, op.Hits, op.Misses)
			if len(s.samples) >= sliceSamples {
				cur = w.spill(cur)
			}
		}
	}
	if !cur.empty() {
		w.out <- cur
	}
}

// unsent notes in s one measured operation intended at due and still unsent
// at t, when the window had closed; own when a generator never late would
// have sent it (see idealConn.unsent). The component's error log keeps the
// first of each kind only, so only the slice's first is offered to it: its
// lock is not taken for every operation of a backlog.
func (w *worker) unsent(s *opSlice, own bool, due, t time.Time) {
	s.unsent(own, w.stageOf(due))
	if s.kinds[KindUnsent] == 1 {
		w.comp.errs.note(KindUnsent, "operation not sent before the window closed: the target did not keep up with the asked rate (or tailgate ran out of CPU or connections to send it)", t.Sub(w.comp.win.measStart))
	}
}

// rotate hands the worker's filled slice to the collector and starts the
// interval holding instant t.
func (w *worker) rotate(cur *sliceSet, t time.Time) (*sliceSet, time.Time) {
	next := w.handOver(cur)
	next.interval = w.comp.win.intervalOf(t)
	return next, w.comp.win.flushAt(next.interval, t)
}

// sliceSamples is how many samples of one operation kind a slice holds at
// most: a worker that fills one hands it over and goes on in another of
// the same interval, so a slice stays the size of a few hundred KB however
// fast its worker sends.
const sliceSamples = 1 << 14

// spill hands the worker's full slice to the collector and goes on in an
// empty one of the same interval.
func (w *worker) spill(cur *sliceSet) *sliceSet {
	interval := cur.interval
	next := w.handOver(cur)
	next.interval = interval
	return next
}

// handOver gives cur to the collector and returns an empty slice: one the
// collector gave back, or a new one.
func (w *worker) handOver(cur *sliceSet) *sliceSet {
	w.out <- cur
	select {
	case next := <-w.free:
		return next
	default:
		return w.newSlices()
	}
}
