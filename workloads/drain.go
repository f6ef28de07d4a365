package workloads

import (
	"container/heap"
	"sync"
	"time"
)

// drainPool weighs the operations a component left unsent, all its
// workers' together, on the ideal timelines of all its connections (see
// leanService), a lane for each connection or pipeline slot: a generator
// never late would have sent each one on whichever lane freed first. Once
// the window and the timeout have closed, a worker no longer sends: the
// first one to finish its operation draws every remaining due operation
// from the shared schedule at once, far faster than any one connection
// would have taken them, so weighed on its own lane alone most of them
// would seem left unsent by the target.
//
// Lanes are published by their workers only from the window's end on
// (publishFrom), off the measured window's path; a lane not published yet
// has had an operation in flight since before the end, and is taken to be
// busy until the instant of the decision.
type drainPool struct {
	mu    sync.Mutex
	lanes laneOrder
}

// leanLane is one lane of a component's ideal timeline as its worker last
// published it, and what the pool has placed on it since.
type leanLane struct {
	mu sync.Mutex
	// state is laneUnpublished, laneBusy (an operation in flight since
	// sent, started at start on the ideal timeline) or laneIdle (free at
	// free).
	state             int
	start, sent, free time.Time
	// perOp is how long an operation not yet answered, or never sent,
	// lasts on the lane (leanService.expected).
	perOp time.Duration
	// placed and key are the pool's, under its lock: when the lane frees
	// after the unsent operations placed on it, and when the pool last
	// found it free (its place in the pool's order).
	placed, key time.Time
}

const (
	laneUnpublished = iota
	laneBusy
	laneIdle
)

// lane adds a lane to the pool and returns it.
func (p *drainPool) lane() *leanLane {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := &leanLane{}
	heap.Push(&p.lanes, l)
	return l
}

// busy publishes an operation in flight on the lane since sent, started
// at start on the ideal timeline, lasting perOp there as far as is known.
func (l *leanLane) busy(start, sent time.Time, perOp time.Duration) {
	l.mu.Lock()
	l.state, l.start, l.sent, l.perOp = laneBusy, start, sent, perOp
	l.mu.Unlock()
}

// idle publishes the lane free on the ideal timeline from free, an
// operation lasting perOp on it.
func (l *leanLane) idle(free time.Time, perOp time.Duration) {
	l.mu.Lock()
	l.state, l.free, l.perOp = laneIdle, free, perOp
	l.mu.Unlock()
}

// freeAt is when the lane frees on the ideal timeline, as seen at now with
// the runner late by late, and how long an unsent operation lasts on it.
// An operation in flight has lasted at least as long as it has been out,
// less the runner's delay in noticing its reply.
func (l *leanLane) freeAt(now time.Time, late time.Duration) (time.Time, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case laneBusy:
		return l.start.Add(max(l.perOp, now.Sub(l.sent)-late)), l.perOp
	case laneIdle:
		return l.free, l.perOp
	}
	return now, 0
}

// unsent places an operation intended at due, never sent, on the lane that
// frees first, as seen at now with the runner late by late, and reports
// whether it starts there by deadline: whether a generator never late would
// have sent it in time.
func (p *drainPool) unsent(due, deadline, now time.Time, late time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for { // the caller's own lane is among them
		l := p.lanes[0]
		free, perOp := l.freeAt(now, late)
		if l.placed.After(free) {
			free = l.placed
		}
		if free.After(l.key) {
			// Its worker published it later than the pool last saw it:
			// take it at its place and look again.
			l.key = free
			heap.Fix(&p.lanes, 0)
			continue
		}
		start := idealStart(due, free)
		l.placed = start.Add(perOp)
		l.key = l.placed
		heap.Fix(&p.lanes, 0)
		return !start.After(deadline)
	}
}

// timelineSlot is one slot of an ideal timeline (a connection's, or a
// pipeline slot's) as its worker publishes it to the drain pool: its lane,
// whether an operation is in flight on it, and whether that operation is
// published busy there.
type timelineSlot struct {
	lane                *leanLane // nil publishes nothing
	inFlight, published bool
}

// sent notes an operation sent at sent, starting at start on the timeline
// and taken to last perOp, and publishes it busy from publishFrom on.
func (s *timelineSlot) sent(start, sent, publishFrom time.Time, perOp time.Duration) {
	s.inFlight = true
	if s.lane != nil && !sent.Before(publishFrom) {
		s.lane.busy(start, sent, perOp)
		s.published = true
	}
}

// answered notes the operation in flight answered, the slot free from
// free, and publishes it so if its operation was published.
func (s *timelineSlot) answered(free time.Time, perOp time.Duration) {
	s.inFlight = false
	if s.published {
		s.lane.idle(free, perOp)
		s.published = false
	}
}

// idle publishes the slot free from free unless an operation is in flight
// on it: its worker sends no more.
func (s *timelineSlot) idle(free time.Time, perOp time.Duration) {
	if s.lane != nil && !s.inFlight {
		s.lane.idle(free, perOp)
	}
}

// laneOrder orders lanes by when the pool last found them free.
type laneOrder []*leanLane

func (o laneOrder) Len() int           { return len(o) }
func (o laneOrder) Less(i, j int) bool { return o[i].key.Before(o[j].key) }
func (o laneOrder) Swap(i, j int)      { o[i], o[j] = o[j], o[i] }

// Push and Pop are heap.Interface's.
func (o *laneOrder) Push(x any) { *o = append(*o, x.(*leanLane)) }

func (o *laneOrder) Pop() any {
	old := *o
	l := old[len(old)-1]
	*o = old[:len(old)-1]
	return l
}
