package workloads

import (
	"context"
	"time"
)

// inFlight is the engine's record of one pipelined operation between its
// send and its reply.
type inFlight struct {
	kind      int
	due, sent time.Time
	// idealStart is its start had the generator never been late (see
	// pipelineIdeal); clientNS the delay of its send past it, or -1 in
	// closed loop.
	idealStart time.Time
	clientNS   int64
	measured   bool
	seq        uint64
	// node is the Op.Node its Queue named, for a failure before a reply.
	node int
}

// pipelineIdeal is idealConn for a connection with a window of N
// operations in flight: operation s starts, ideally, at the later of its
// intended start and the ideal completion of operation s−N, whose slot
// in the window it takes, and takes its lean service time there. Waiting
// for a full window to open is the target's doing, like waiting for a
// reply without a pipeline; a worker that woke late, or noticed replies
// late, is the generator's. Unsent operations are weighed on each slot's
// timeline, a lane of the drain pool each, as idealConn's.
type pipelineIdeal struct {
	free []time.Time // ideal completion of the operation that last held each slot
	lean leanService
	// slots are the slots' lanes in the drain pool, published from
	// publishFrom on (see idealConn).
	slots       []timelineSlot
	publishFrom time.Time
}

// newPipelineIdeal follows a window of depth operations, each slot a lane
// of pool published from publishFrom on; a nil pool publishes nothing.
func newPipelineIdeal(depth int, pool *drainPool, publishFrom time.Time) pipelineIdeal {
	p := pipelineIdeal{free: make([]time.Time, depth), slots: make([]timelineSlot, depth), publishFrom: publishFrom}
	if pool != nil {
		for i := range p.slots {
			p.slots[i].lane = pool.lane()
		}
	}
	return p
}

// send notes operation seq, intended at due and sent at sent, and returns
// its ideal start and its client delay in nanoseconds.
func (p *pipelineIdeal) send(seq uint64, due, sent time.Time) (start time.Time, clientNS int64) {
	slot := seq % uint64(len(p.free))
	start = idealStart(due, p.free[slot])
	p.slots[slot].sent(start, sent, p.publishFrom, p.lean.expected())
	return start, max(sent.Sub(start).Nanoseconds(), 0)
}

// done notes the service time of operation seq, which started at start,
// late being the runner's wake-up delay when it ended.
func (p *pipelineIdeal) done(seq uint64, start time.Time, service, late time.Duration) {
	slot := seq % uint64(len(p.free))
	p.free[slot] = start.Add(p.lean.took(service, late))
	p.slots[slot].answered(p.free[slot], p.lean.expected())
}

// idle publishes the lane of every slot without an operation in flight
// free: its worker sends no more.
func (p *pipelineIdeal) idle() {
	for i := range p.slots {
		p.slots[i].idle(p.free[i], p.lean.expected())
	}
}

// runPipelined is run for a connection with up to the workload's
// pipeline operations in flight. Each operation is still due at its own
// intended start and measured from it: one that finds the window full
// waits for the oldest reply and is sent late, which counts as late, as
// a send behind schedule does on a connection without a pipeline. The
// worker queues every operation due while the window has room and sends
// them with one write; between sends it waits for whichever comes first,
// a reply or the next intended start.
func (w *worker) runPipelined(ctx context.Context, pc PipelineConn) {
	c, pace := w.comp, w.comp.pace
	spec, open, measStart := c.spec, pace.open, c.win.measStart
	timeout := spec.Component.Workload.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	drainUntil := c.win.end.Add(timeout)
	defer w.sleep.Close()
	dr := newDrawer(spec, c.value)
	dr.multiKey(c.driver, len(c.ops))
	depth := spec.Pipeline()
	window := make([]inFlight, depth)
	ideal := newPipelineIdeal(depth, &c.drain, c.win.end)
	defer ideal.idle()
	var head, n int // the oldest operation in flight, and how many are
	var seq uint64
	cur := <-w.free
	now := w.clock.Now()
	cur.interval = c.win.intervalOf(now)
	flushAt := c.win.flushAt(cur.interval, now)

	var op, reply Op
	pending, exhausted := false, false // op is drawn and not yet queued
	var pendingDue time.Time

	at := func(t time.Time) *sliceSet {
		if !t.Before(flushAt) {
			cur, flushAt = w.rotate(cur, t)
		}
		return cur
	}
	fail := func(kind int, due time.Time, measured bool, err error, t time.Time, node int) {
		s := &at(t).ops[kind]
		switch {
		case !measured:
			s.warmupOps++
			s.warmupErrors++
		default:
			k := ErrorKind(err)
			s.fail(k, int32(node), w.stageOf(due))
			if s.kinds[k] == 1 {
				c.errs.note(k, err.Error(), t.Sub(measStart))
			}
		}
	}
	// failAll fails every operation in flight with err: the stream is
	// out of step, so none of them will be answered.
	failAll := func(err error) {
		t := w.clock.Now()
		for ; n > 0; n-- {
			f := &window[head]
			fail(f.kind, f.due, f.measured, err, t, f.node)
			head = (head + 1) % depth
		}
		head = 0
		pc.Abandon()
	}
	receive := func() bool {
		f := &window[head]
		reply.Kind, reply.Hits, reply.Misses, reply.Node = f.kind, 0, 0, 0
		err := pc.Receive(ctx, &reply, f.sent.Add(timeout))
		node := f.node
		if reply.Node > 0 {
			node = reply.Node
		}
		done := w.clock.Now()
		if err != nil && ctx.Err() != nil {
			return false
		}
		if err != nil && AsStatus(err) == nil {
			failAll(err)
			return true
		}
		head, n = (head+1)%depth, n-1
		ideal.done(f.seq, f.idealStart, done.Sub(f.sent), c.late.now())
		s := &at(done).ops[f.kind]
		switch {
		case !f.measured:
			s.warmupOps++
			if err != nil {
				s.warmupErrors++
			}
		case err != nil:
			fail(f.kind, f.due, true, err, done, node)
		default:
			sm := sample{latency: done.Sub(f.due).Nanoseconds(), service: done.Sub(f.sent).Nanoseconds(), client: f.clientNS,
				node: int32(node), stage: w.stageOf(f.due)}
			s.record(sm, open && f.sent.Sub(f.due) > LateAfter, reply.Hits, reply.Misses)
			if len(s.samples) >= sliceSamples {
				cur = w.spill(cur)
			}
		}
		return true
	}

	for ctx.Err() == nil {
		// Queue what is due while the window has room.
		queued := 0
		for n+queued < depth && !exhausted {
			if !pending {
				index, due, ok := pace.next()
				if !ok {
					exhausted = true
					break
				}
				pendingDue = due
				dr.draw(index, &op)
				pending = true
			}
			sent := w.clock.Now()
			if open && sent.Before(pendingDue) {
				if n+queued > 0 {
					break // send what is queued; wait for a reply or the due time
				}
				if !w.sleep.Until(ctx, pendingDue) {
					break
				}
				sent = w.clock.Now()
			}
			measured := !pendingDue.Before(measStart)
			if open && sent.After(drainUntil) {
				ideal.idle()
				own := c.drain.unsent(pendingDue, drainUntil, sent, c.late.now())
				seq++
				if measured {
					w.unsent(&at(sent).ops[op.Kind], own, pendingDue, sent)
				}
				pending = false
				continue
			}
			op.Node = 0
			if err := pc.Queue(ctx, &op, sent.Add(timeout)); err != nil {
				if ctx.Err() != nil {
					break
				}
				if AsStatus(err) == nil && n+queued > 0 {
					// The stream broke under what is queued and in flight.
					n += queued
					queued = 0
					failAll(err)
				}
				fail(op.Kind, pendingDue, measured, err, w.clock.Now(), op.Node)
				pending = false
				continue
			}
			f := &window[(head+n+queued)%depth]
			*f = inFlight{kind: op.Kind, due: pendingDue, sent: sent, measured: measured, seq: seq, clientNS: -1, node: op.Node}
			if open {
				f.idealStart, f.clientNS = ideal.send(seq, pendingDue, sent)
			} else {
				f.idealStart = sent
			}
			seq++
			queued++
			pending = false
		}
		if ctx.Err() != nil {
			break
		}
		if queued > 0 {
			n += queued
			if err := pc.Flush(ctx, w.clock.Now().Add(timeout)); err != nil {
				if ctx.Err() != nil {
					break
				}
				failAll(err)
				continue
			}
		}
		if n == 0 {
			if exhausted {
				break
			}
			continue
		}
		if n < depth && pending && open {
			// Room in the window and the next operation not yet due:
			// the first of a reply and its due time decides (or the
			// oldest operation's deadline, should that come sooner).
			until := pendingDue
			if d := window[head].sent.Add(timeout); d.Before(until) {
				until = d
			}
			ready, err := pc.Await(ctx, until)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				failAll(err)
				continue
			}
			if !ready && w.clock.Now().Before(pendingDue) {
				ready = true // the oldest is past its deadline: Receive times it out
			}
			if !ready {
				continue
			}
		}
		if !receive() {
			break
		}
		// Take every reply that came along, so the window opens for a
		// batch rather than one operation at a time.
		for n > 0 {
			ready, err := pc.Await(ctx, time.Time{})
			if err != nil || !ready {
				break
			}
			if !receive() {
				break
			}
		}
	}
	// The run is over: what is in flight is still answered, within its
	// timeout, unless the run was interrupted.
	for n > 0 && ctx.Err() == nil {
		if !receive() {
			break
		}
	}
	if !cur.empty() {
		w.out <- cur
	}
}
