package workloads

import (
	"sort"
	"sync/atomic"
	"time"
)

// window is a component's timeline: when its load starts, when the measured
// window opens and closes, how long the backlog may still be sent after it,
// and the intervals the window is cut into.
type window struct {
	start      time.Time // the run's start: intended starts count from it
	measStart  time.Time // warmup over
	end        time.Time // no operation is intended at or after end
	drainUntil time.Time // operations not sent by then are counted unsent
	interval   time.Duration
	intervals  int
	// stageEnds is when each stage of a workload in stages ends (the
	// last at end); nil for a workload of one rate.
	stageEnds []time.Time
}

func newWindow(spec *Spec, start time.Time) window {
	w := window{start: start, measStart: start.Add(spec.Warmup), interval: spec.interval()}
	w.end = w.measStart.Add(spec.Duration)
	w.drainUntil = w.end.Add(spec.Component.Workload.Timeout)
	w.intervals = int((spec.Duration + w.interval - 1) / w.interval)
	at := w.measStart
	for _, st := range spec.Component.Workload.Stages {
		at = at.Add(st.Duration)
		w.stageEnds = append(w.stageEnds, at)
	}
	return w
}

// stageOf is the index of the stage an operation intended at due belongs
// to (0-based), due being in the measured window.
func (w *window) stageOf(due time.Time) int {
	i := sort.Search(len(w.stageEnds), func(i int) bool { return due.Before(w.stageEnds[i]) })
	return min(i, len(w.stageEnds)-1)
}

// stageStart is when stage i starts.
func (w *window) stageStart(i int) time.Time {
	if i == 0 {
		return w.measStart
	}
	return w.stageEnds[i-1]
}

// intervalOf is the interval index of instant t: negative during warmup,
// capped at the last interval for operations completing after the window.
func (w window) intervalOf(t time.Time) int {
	d := t.Sub(w.measStart)
	i := int(d / w.interval)
	if d < 0 {
		i-- // floor, not truncation
	}
	return min(i, w.intervals-1)
}

// flushAt is when a worker recording interval i hands its slice over: at
// the interval's end, or never for the last one, which takes everything
// completing after the window (t is the instant the interval was entered).
func (w window) flushAt(i int, t time.Time) time.Time {
	if i == w.intervals-1 {
		return t.Add(24 * time.Hour)
	}
	return w.measStart.Add(time.Duration(i+1) * w.interval)
}

// pacer hands out a component's operations to its workers, each with its
// index in the seeded sequence and its intended start. Open-loop runs take
// both from the arrival schedule; closed-loop ones number the operations as
// they are asked for and intend each at once.
type pacer struct {
	sched   *schedule
	open    bool
	closedN atomic.Uint64
	clock   Clock
	win     window
}

func newPacer(spec *Spec, win window, clock Clock) *pacer {
	return &pacer{sched: newSchedule(spec), open: spec.rate() > 0, clock: clock, win: win}
}

// next returns the next operation's index and intended start; ok is false
// once the next operation would be intended at or after the window's end.
func (p *pacer) next() (index uint64, due time.Time, ok bool) {
	if p.open {
		var offset time.Duration
		index, offset = p.sched.next()
		due = p.win.start.Add(offset)
	} else {
		index = (p.closedN.Add(1)-1)*p.sched.shards + p.sched.shardOf
		due = p.clock.Now()
	}
	return index, due, due.Before(p.win.end)
}
