package workloads

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// ProbeEvery is the period of the runner probe: every ProbeEvery while load
// runs, a goroutine of tailgate's wakes on the generator's own timer and
// times a fixed computation (see Runner).
const ProbeEvery = 2 * time.Millisecond

// cpuProbeRounds sizes the fixed computation of the CPU probe: a few
// microseconds on a current core, so probing costs well under 1% of one.
const cpuProbeRounds = 4000

// lateness is the runner's recent wake-up delay: a moving average of the
// probe's last sixteen or so (about 32 ms), which the workers read when a
// reply comes, as the share of its service time that was, on average,
// tailgate noticing it late (see leanService). Only the probe writes it.
// A nil lateness is always zero.
type lateness struct{ ns atomic.Int64 }

// note adds one probe's wake-up delay.
func (l *lateness) note(late int64) {
	old := l.ns.Load()
	l.ns.Store(old + (late-old)/16)
}

// now is the recent wake-up delay.
func (l *lateness) now() time.Duration {
	if l == nil {
		return 0
	}
	return time.Duration(l.ns.Load())
}

// runnerProbe records the probe's samples for one run.
type runnerProbe struct {
	wakeups, cpu *hdrhistogram.Histogram
	// intervals are the wake-ups of each interval of the measured window,
	// by the instant the probe meant to wake at: sparse, as wake-up
	// delays fill few buckets, so a long soak's stay small.
	intervals []*hdrhistogram.PackedHistogram
	win       probeWindow
	// measured and ended are the runner's contention (CPU pressure and
	// steal) at the measured window's start (read once: marked) and at
	// the probe's end.
	measured, ended pressureMark
	marked          bool
}

// probeWindow is the measured window as the probe cuts it: its start, the
// interval length and how many intervals it has (the last one takes every
// later instant, as the operations' last interval does).
type probeWindow struct {
	start    time.Time
	interval time.Duration
	count    int
}

// cpuProbeSink keeps the probe's computation from being optimized away.
var cpuProbeSink atomic.Uint64

// cpuProbe is the fixed computation: a chain of dependent xorshift rounds,
// no memory traffic, the same work on every call.
func cpuProbe() uint64 {
	x := uint64(0x9e3779b97f4a7c15)
	for range cpuProbeRounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// probeRunner samples the runner every ProbeEvery from start until ctx ends,
// waiting with sl, which it closes; win is the measured window, whose
// intervals get their own record of the wake-ups; recent is kept at the
// recent wake-up delay for the workers while the probe runs.
func probeRunner(ctx context.Context, clock Clock, sl Sleeper, start time.Time, win probeWindow, recent *lateness) *runnerProbe {
	p := &runnerProbe{wakeups: result.NewHistogram(), cpu: result.NewHistogram(), win: win}
	if win.interval > 0 && win.count > 0 {
		p.intervals = make([]*hdrhistogram.PackedHistogram, win.count)
		for i := range p.intervals {
			p.intervals[i] = result.NewPackedHistogram()
		}
	}
	defer sl.Close()
	next := start
	for {
		next = next.Add(ProbeEvery)
		if !sl.Until(ctx, next) {
			if p.marked {
				p.ended = markPressure()
			}
			return p
		}
		woke := clock.Now()
		if !p.marked && !next.Before(win.start) {
			p.measured, p.marked = markPressure(), true
		}
		late := clampNS(woke.Sub(next).Nanoseconds())
		_ = p.wakeups.RecordValue(late)
		recent.note(late)
		if p.intervals != nil && !next.Before(win.start) {
			i := min(int(next.Sub(win.start)/win.interval), win.count-1)
			_ = p.intervals[i].RecordValue(late)
		}
		cpuProbeSink.Store(cpuProbe())
		_ = p.cpu.RecordValue(clampNS(clock.Now().Sub(woke).Nanoseconds()))
		// After a stall the probes it swallowed fire at once, each late
		// by what is left of it: every instant is sampled, as an event
		// arriving then would have waited, stalls not under-counted.
	}
}

// result is the probe's record as the result file holds it.
func (p *runnerProbe) record() *result.Runner {
	r := result.RunnerOf(p.wakeups, p.cpu, runtime.GOMAXPROCS(0))
	for i, h := range p.intervals {
		r.Intervals = append(r.Intervals, result.RunnerInterval{
			OffsetNS: int64(i) * p.win.interval.Nanoseconds(), WakeupHistogram: result.EncodePacked(h),
		})
	}
	if share, ok := pressureShare(p.measured, p.ended); ok {
		r.CPUPressure = &share
	}
	if share, ok := stealShare(p.measured, p.ended); ok {
		r.CPUSteal = &share
	}
	return r
}
