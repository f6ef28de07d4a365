package workloads

import (
	"context"
	"errors"
	"time"
)

// inFlight is the engine's record of one pipelined operation between its
// send and its reply.
type inFlight struct {
	kind      int
	due, sent time.Time
	// idealStart is its start had the generator never been late (see
	// pipelineIdeal); clientNS the delay of its send past that, or -1 in
	// closed loop.
	idealStart time.Time
	clientNS   int64
	measured   bool
	seq        uint64
}

// pipelineIdeal is idealConn for a connection with a window of N
// operations in flight: operation s starts, ideally, at the later of its
// intended start and the ideal completion of operation s−N, whose slot
// in the window it takes. Waiting for a full window to open is the
// target's doing, like waiting for a reply without a pipeline; a worker
// that woke late is the generator's.
type pipelineIdeal struct {
	free []time.Time // ideal completion of the operation that last held each slot
}

// send notes operation seq, intended at due and sent at sent, and returns
// its ideal start and client delay in nanoseconds.
func (p *pipelineIdeal) send(seq uint64, due, sent time.Time) (time.Time, int64) {
	start := due
	if f := p.free[seq%uint64(len(p.free))]; f.After(due) {
		start = f
	}
	return start, max(sent.Sub(start).Nanoseconds(), 0)
}

// done notes the service time of operation seq.
func (p *pipelineIdeal) done(seq uint64, idealStart time.Time, service time.Duration) {
	p.free[seq%uint64(len(p.free))] = idealStart.Add(service)
}

// workPipelined is work for a connection with up to the workload's
// pipeline operations in flight. Each operation is still due at its own
// intended start and measured from it: one that finds the window full
// waits for the oldest reply and is sent late, which counts as late, as
// a send behind schedule does on a connection without a pipeline. The
// worker queues every operation due while the window has room and sends
// them with one write; between sends it waits for whichever comes first,
// a reply or the next intended start.
func (c *componentRun) workPipelined(ctx context.Context, w int, pc PipelineConn, start time.Time, out chan<- *sliceSet) {
	spec := c.spec
	open := spec.rate() > 0
	timeout := spec.Component.Workload.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	measStart := start.Add(spec.Warmup)
	end := measStart.Add(spec.Duration)
	drainUntil := end.Add(timeout)
	sl := newSleeper()
	defer sl.close()
	dr := newDrawer(spec, c.value)
	depth := spec.Pipeline()
	window := make([]inFlight, depth)
	ideal := pipelineIdeal{free: make([]time.Time, depth)}
	var head, n int // the oldest operation in flight, and how many are
	var seq uint64
	cur := <-c.free[w]
	cur.interval = c.intervalOf(time.Now(), measStart)
	flushAt := measStart.Add(time.Duration(cur.interval+1) * c.interval)
	shards, shardOf := c.sched.shards, c.sched.shardOf

	var op, reply Op
	pending, exhausted := false, false // op is drawn and not yet queued
	var pendingDue time.Time

	at := func(t time.Time) *sliceSet {
		if !t.Before(flushAt) {
			cur, flushAt = c.rotate(cur, w, t, measStart, out)
		}
		return cur
	}
	fail := func(kind int, measured bool, err error, t time.Time) {
		s := &at(t).ops[kind]
		switch {
		case !measured:
			s.warmupOps++
			s.warmupErrors++
		default:
			k := ErrorKind(err)
			s.fail(k)
			if s.kinds[k] == 1 {
				c.noteError(k, err.Error(), t.Sub(measStart))
			}
		}
	}
	// failAll fails every operation in flight with err: the stream is
	// out of step, so none of them will be answered.
	failAll := func(err error) {
		t := time.Now()
		for ; n > 0; n-- {
			f := &window[head]
			fail(f.kind, f.measured, err, t)
			head = (head + 1) % depth
		}
		head = 0
		pc.Abandon()
	}
	receive := func() bool {
		f := &window[head]
		reply.Kind, reply.Hits, reply.Misses = f.kind, 0, 0
		err := pc.Receive(ctx, &reply, f.sent.Add(timeout))
		done := time.Now()
		if err != nil && ctx.Err() != nil {
			return false
		}
		var se *StatusError
		if err != nil && !errors.As(err, &se) {
			failAll(err)
			return true
		}
		head, n = (head+1)%depth, n-1
		ideal.done(f.seq, f.idealStart, done.Sub(f.sent))
		s := &at(done).ops[f.kind]
		switch {
		case !f.measured:
			s.warmupOps++
			if err != nil {
				s.warmupErrors++
			}
		case err != nil:
			fail(f.kind, true, err, done)
		default:
			s.record(done.Sub(f.due).Nanoseconds(), done.Sub(f.sent).Nanoseconds(), f.clientNS, open && f.sent.Sub(f.due) > LateAfter)
			s.hits += int64(reply.Hits)
			s.misses += int64(reply.Misses)
		}
		return true
	}

	for ctx.Err() == nil {
		// Queue what is due while the window has room.
		queued := 0
		for n+queued < depth && !exhausted {
			if !pending {
				var index uint64
				if open {
					var offset time.Duration
					index, offset = c.sched.next()
					pendingDue = start.Add(offset)
				} else {
					index = (c.closedN.Add(1)-1)*shards + shardOf
					pendingDue = time.Now()
				}
				if !pendingDue.Before(end) {
					exhausted = true
					break
				}
				dr.draw(index, &op)
				pending = true
			}
			sent := time.Now()
			if open && sent.Before(pendingDue) {
				if n+queued > 0 {
					break // send what is queued; wait for a reply or the due time
				}
				if !sl.until(ctx, pendingDue) {
					break
				}
				sent = time.Now()
			}
			measured := !pendingDue.Before(measStart)
			if open && sent.After(drainUntil) {
				if measured {
					at(sent).ops[op.Kind].fail(KindUnsent)
					c.noteError(KindUnsent, "operation not sent before the window closed: the target did not keep up with the asked rate (or tailgate ran out of CPU or connections to send it)", sent.Sub(measStart))
				}
				pending = false
				continue
			}
			if err := pc.Queue(ctx, &op, sent.Add(timeout)); err != nil {
				if ctx.Err() != nil {
					break
				}
				var se *StatusError
				if !errors.As(err, &se) && n+queued > 0 {
					// The stream broke under what is queued and in flight.
					n += queued
					queued = 0
					failAll(err)
				}
				fail(op.Kind, measured, err, time.Now())
				pending = false
				continue
			}
			f := &window[(head+n+queued)%depth]
			*f = inFlight{kind: op.Kind, due: pendingDue, sent: sent, measured: measured, seq: seq, clientNS: -1}
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
			if err := pc.Flush(ctx, time.Now().Add(timeout)); err != nil {
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
			if !ready && time.Now().Before(pendingDue) {
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
		out <- cur
	}
}
