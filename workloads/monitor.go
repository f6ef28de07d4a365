package workloads

import (
	"context"
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// abortWindow is the span over which the error share is watched while load
// runs: a target that fails more than the plan's max_error_rate of the
// operations in this span cannot be measured, and the run stops.
const abortWindow = 3 * time.Second

// maxLookEvery is the longest gap between two looks of the abort monitor,
// however rarely progress is reported.
const maxLookEvery = time.Second

// monitor watches a running load: it reports progress every
// Options.ProgressEvery and stops a run whose target fails too much to be
// measured. It looks at the components' records every tick: ProgressEvery
// cut evenly into pieces no longer than maxLookEvery, so that progress keeps
// its period and the abort check looks at least every maxLookEvery.
type monitor struct {
	runs     []*componentRun
	start    time.Time
	total    time.Duration
	every    time.Duration
	tick     time.Duration
	progress func(Progress)

	// history holds, per component, what it had seen at each look since
	// the last one at least abortWindow old.
	history      [][]seenAt
	lastProgress time.Time
	prevOps      []int64
	// alls hold each component's histogram for the p99 of all its
	// operations, reused at every report: a new one a second was most of
	// the garbage a run made while load ran.
	alls []*hdrhistogram.Histogram
}

type seenAt struct {
	at time.Time
	seen
}

func newMonitor(runs []*componentRun, start time.Time, total, every time.Duration, progress func(Progress)) *monitor {
	pieces := (every + maxLookEvery - 1) / maxLookEvery
	m := &monitor{
		runs: runs, start: start, total: total, every: every, tick: every / pieces, progress: progress,
		history: make([][]seenAt, len(runs)), lastProgress: start, prevOps: make([]int64, len(runs)),
		alls: make([]*hdrhistogram.Histogram, len(runs)),
	}
	for i := range m.alls {
		m.alls[i] = result.NewHistogram()
	}
	return m
}

// run looks at the load at every tick (of period m.tick) until stop closes
// or ctx ends, and cancels the load with the reason when a target fails too
// much. It stops tick.
func (m *monitor) run(ctx context.Context, tick Ticker, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C():
			if err := m.look(now); err != nil {
				cancel(err)
				return
			}
		}
	}
}

// look is one tick at instant now: it returns an error wrapping ErrAborted
// when a component failed more than its max_error_rate of the operations it
// completed over the last abortWindow, and otherwise reports progress when
// it is due.
func (m *monitor) look(now time.Time) error {
	// Ticks come at multiples of m.tick; half a tick of slack takes a late
	// one as the one it was.
	due := now.Sub(m.lastProgress) >= m.every-m.tick/2
	elapsed := now.Sub(m.start)
	p := Progress{Elapsed: elapsed, Total: m.total}
	for i, c := range m.runs {
		var cp ComponentProgress
		var cur seen
		if due {
			cp, cur = c.rec.snapshot(c.spec.Component.Name, c.ops, m.alls[i])
		} else {
			cur = c.rec.seenSoFar()
		}
		if err := m.checkWindow(i, now, cur); err != nil {
			return err
		}
		if !due {
			continue
		}
		if elapsed < c.spec.Warmup {
			p.Warmup = true
		}
		cp.Rate = float64(cur.ops-m.prevOps[i]) / now.Sub(m.lastProgress).Seconds()
		m.prevOps[i] = cur.ops
		p.Components = append(p.Components, cp)
	}
	if !due {
		return nil
	}
	m.lastProgress = now
	if len(m.runs) > 0 {
		p.RunnerDelay = m.runs[0].late.now()
	}
	if m.progress != nil {
		m.progress(p)
	}
	return nil
}

// checkWindow adds component i's count at now to its history and fails it
// when, over the abortWindow before now, more than its max_error_rate of at
// least 20 operations failed. Until the history spans the window there is
// nothing to judge.
func (m *monitor) checkWindow(i int, now time.Time, cur seen) error {
	h := append(m.history[i], seenAt{now, cur})
	// Keep the newest look at least abortWindow old as the window's base
	// (half a tick of slack, as for progress).
	cutoff := now.Add(-abortWindow + m.tick/2)
	base := -1
	for k, s := range h {
		if !s.at.After(cutoff) {
			base = k
		}
	}
	if base > 0 {
		h = append(h[:0], h[base:]...)
	}
	m.history[i] = h
	if base < 0 {
		return nil
	}
	c, old := m.runs[i], h[0]
	dOps, dErrs := cur.ops-old.ops, cur.errs-old.errs
	maxShare := c.spec.Component.Workload.MaxErrorRate
	if dOps >= 20 && float64(dErrs) > maxShare*float64(dOps) {
		return fmt.Errorf("%w: component %q: %d of %d operations failed in the %s before %s (more than max_error_rate %s): %s",
			ErrAborted, c.spec.Component.Name, dErrs, dOps, abortWindow, now.Sub(m.start).Round(100*time.Millisecond),
			slo.FormatPercent(maxShare), c.errs.summary())
	}
	return nil
}

// checkErrorShare fails a finished run whose measured error share is above
// its plan's max_error_rate: too many errors to measure anything.
func checkErrorShare(runs []*componentRun) error {
	for _, c := range runs {
		var ok, failed int64
		for k := range c.ops {
			ok += c.rec.whole[k].TotalCount()
			failed += c.rec.errors[k]
		}
		maxShare := c.spec.Component.Workload.MaxErrorRate
		if ok+failed == 0 {
			return fmt.Errorf("%w: component %q: no operation completed in the measured window", ErrAborted, c.spec.Component.Name)
		}
		if float64(failed) > maxShare*float64(ok+failed) {
			return fmt.Errorf("%w: component %q: %d of %d operations failed (more than max_error_rate %s): %s",
				ErrAborted, c.spec.Component.Name, failed, ok+failed, slo.FormatPercent(maxShare), c.errs.summary())
		}
	}
	return nil
}
