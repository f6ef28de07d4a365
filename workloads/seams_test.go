package workloads

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simTarget is a target whose every operation takes service of simulated
// time; fail, if set, says which operations fail.
func simTarget(t testing.TB, clock *simClock, service time.Duration, fail func(op *Op) error) string {
	return fakeTarget(t, func(ctx context.Context, op *Op) error {
		if !clock.sleep(ctx, service) {
			return ctx.Err()
		}
		if fail != nil {
			return fail(op)
		}
		return nil
	})
}

func TestWindowCutsTheMeasuredWindowIntoIntervals(t *testing.T) {
	start := time.Unix(1000, 0)
	spec := fakeSpec("fake://x", 100, time.Second)
	spec.Warmup = 200 * time.Millisecond
	spec.Interval = 300 * time.Millisecond
	w := newWindow(spec, start)
	assert.Equal(t, 4, w.intervals, "1 s in 300 ms intervals: the last one short")
	assert.Equal(t, start.Add(1200*time.Millisecond), w.end)
	assert.Equal(t, start.Add(2200*time.Millisecond), w.drainUntil, "end plus the workload's timeout")
	for _, tt := range []struct {
		at   time.Duration // from start
		want int
	}{
		{0, -1}, {199 * time.Millisecond, -1}, {200 * time.Millisecond, 0}, {499 * time.Millisecond, 0},
		{500 * time.Millisecond, 1}, {1100 * time.Millisecond, 3}, {5 * time.Second, 3},
	} {
		assert.Equal(t, tt.want, w.intervalOf(start.Add(tt.at)), "interval of %s", tt.at)
	}
	assert.Equal(t, start.Add(200*time.Millisecond), w.flushAt(-1, start), "warmup flushes when the window opens")
	assert.Equal(t, start.Add(800*time.Millisecond), w.flushAt(1, start.Add(600*time.Millisecond)))
	last := start.Add(1150 * time.Millisecond)
	assert.True(t, w.flushAt(3, last).After(start.Add(time.Hour)), "the last interval takes everything after")
}

func TestPacerHandsOutTheSeededSequence(t *testing.T) {
	clock := newSimClock(t)
	start := clock.Now()
	spec := fakeSpec("fake://x", 100, time.Second)
	spec.Shard.Count, spec.Shard.Index = 2, 2
	p := newPacer(spec, newWindow(spec, start), clock)
	for i := range 50 {
		index, due, ok := p.next()
		require.True(t, ok)
		assert.EqualValues(t, 2*i+1, index, "shard 2 of 2 sends the odd operations")
		assert.Equal(t, start.Add(time.Duration(2*i+1)*10*time.Millisecond), due, "uniform at the single-runner rate")
	}
	_, _, ok := p.next()
	assert.False(t, ok, "none intended at the window's end")

	closed := fakeSpec("fake://x", 0, time.Second)
	p = newPacer(closed, newWindow(closed, start), clock)
	for i := range 3 {
		index, due, ok := p.next()
		require.True(t, ok)
		assert.EqualValues(t, i, index)
		assert.Equal(t, clock.Now(), due, "closed loop: intended now")
	}
}

// One connection at 100/s to a target taking 25 ms: operation i is
// intended at 10i ms and, queued behind the replies before it, completes at
// 25(i+1) ms. In simulated time every figure is exact: latency counts from
// the intended start (15i+25 ms), service time is 25 ms, none of the delay
// is the generator's, warmup operations are not measured, failures are
// counted and not recorded as latencies, and what could not be sent before
// the window and the timeout closed is counted unsent.
func TestTheEngineMeasuresFromTheIntendedStartInSimulatedTime(t *testing.T) {
	clock := newSimClock(t)
	target := simTarget(t, clock, 25*time.Millisecond, func(op *Op) error {
		if op.Index%10 == 5 {
			return errors.New("refused")
		}
		return nil
	})
	spec := fakeSpec(target, 100, time.Second)
	spec.Warmup = 100 * time.Millisecond
	spec.Component.Workload.Connections = 1
	res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
	require.NoError(t, err, "max_error_rate 100%")
	c := res.Components[0]
	all := c.Operation("all")
	// Operations 0-9 are warmup; 10-84 are sent by 2.1 s (the window's end
	// at 1.1 s plus the 1 s timeout); 85-109 are not.
	assert.EqualValues(t, 10, c.WarmupOperations)
	assert.EqualValues(t, 7, all.ErrorKinds[KindOther], "15, 25, ... 75 failed")
	assert.EqualValues(t, 25, all.ErrorKinds[KindUnsent])
	assert.EqualValues(t, 75-7, all.Count)
	assert.EqualValues(t, 75-7, all.Late, "every measured operation was sent late")
	within := func(want time.Duration, got int64, what string) {
		assert.InEpsilon(t, want.Nanoseconds(), got, 0.002, "%s: %s", what, time.Duration(got))
	}
	within(175*time.Millisecond, all.LatencyNS.Min, "operation 10: 175 ms")
	within(1285*time.Millisecond, all.LatencyNS.Max, "operation 84: 1285 ms")
	within(25*time.Millisecond, all.ServiceNS.Min, "service min")
	within(25*time.Millisecond, all.ServiceNS.Max, "service max")
	require.NotNil(t, all.ClientDelayNS)
	assert.LessOrEqual(t, all.ClientDelayNS.Max, int64(time.Microsecond), "the queue is the target's")
	var inIntervals int64
	for _, iv := range all.Intervals {
		inIntervals += iv.Count
	}
	assert.Equal(t, all.Count, inIntervals)
	assert.Equal(t, int64(time.Second), res.MeasuredNS)
}

// Progress comes every ProgressEvery, longer than a second too.
func TestProgressComesEveryProgressEvery(t *testing.T) {
	clock := newSimClock(t)
	target := simTarget(t, clock, time.Millisecond, nil)
	spec := fakeSpec(target, 200, 6*time.Second)
	var got []Progress
	_, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock, ProgressEvery: 2500 * time.Millisecond,
		Progress: func(p Progress) { got = append(got, p) }})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(got), 2, "at 2.5 s and 5 s of a 6 s run (and maybe once more while the result is built)")
	for k := 1; k < len(got); k++ {
		assert.InDelta(t, 2500*time.Millisecond, got[k].Elapsed-got[k-1].Elapsed, float64(time.Millisecond))
	}
	for _, p := range got {
		require.Len(t, p.Components, 1)
		assert.Positive(t, p.Components[0].Rate, "at %s", p.Elapsed)
		assert.Positive(t, p.Components[0].Operations, "at %s", p.Elapsed)
		assert.Zero(t, p.RunnerDelay, "the simulated runner wakes on time")
	}
}

// Progress says how late the runner wakes while the load runs.
func TestProgressCarriesTheRunnersWakeUpDelay(t *testing.T) {
	sim := newSimClock(t)
	clock := latingClock{sim, 3 * time.Millisecond}
	target := simTarget(t, sim, time.Millisecond, nil)
	spec := fakeSpec(target, 200, 2*time.Second)
	var got []Progress
	_, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock, ProgressEvery: 500 * time.Millisecond,
		Progress: func(p Progress) { got = append(got, p) }})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(got), 3)
	for _, p := range got {
		assert.InDelta(t, 3*time.Millisecond, p.RunnerDelay, float64(100*time.Microsecond), "at %s", p.Elapsed)
	}
}

// The monitor alone, looking at a record at chosen instants: progress every
// 2.5 s in ticks of 833 ms, its rate over the time since the previous
// report; the abort check over the 3 s before each look, from the first
// look that has a base that old.
func TestTheMonitorLooksAtTheRecord(t *testing.T) {
	start := time.Unix(1000, 0)
	c := newComponentRun(fakeSpec("fake://x", 100, time.Minute), fakeDriver{})
	c.spec.Component.Workload.MaxErrorRate = 0.5
	var got []Progress
	m := newMonitor([]*componentRun{c}, start, time.Minute, 2500*time.Millisecond, func(p Progress) { got = append(got, p) })
	require.Equal(t, 2500*time.Millisecond/3, m.tick)
	at := func(i int) time.Time { return start.Add(time.Duration(i) * m.tick) }
	// 100 operations a second, none failing, then from tick 6 on (5 s)
	// every one failing.
	count := func(i int) seen {
		ops := int64(i) * 250 / 3
		errs := int64(0)
		if i > 6 {
			errs = ops - 500
		}
		return seen{ops, errs}
	}
	var abort error
	last := 0
	for i := 1; i <= 20 && abort == nil; i++ {
		c.rec.seenOps, c.rec.seenErrors = count(i).ops, count(i).errs
		abort = m.look(at(i))
		last = i
	}
	require.Len(t, got, 2, "at ticks 3 and 6; tick 9 aborts")
	for k, p := range got {
		assert.Equal(t, time.Duration(3*(k+1))*m.tick, p.Elapsed)
		assert.InDelta(t, 100, p.Components[0].Rate, 0.5, "report %d", k)
	}
	require.ErrorIs(t, abort, ErrAborted)
	// Failures from 5 s: the look at tick 9 (7.5 s) has its base at tick 5
	// (the newest at least 3 s old, half a tick of slack), before which
	// nothing failed: 250 of 334 operations since then did.
	assert.Equal(t, 9, last)
	assert.Contains(t, abort.Error(), `component "c": 250 of 334 operations failed in the 3s before 7.5s (more than max_error_rate 50%): no error message recorded`)
}

// A target failing everything stops the run after the abort window, with
// one message whatever order the errors came in: the kinds sorted.
func TestAbortWatchesTheErrorShareOverTheWindow(t *testing.T) {
	clock := newSimClock(t)
	target := simTarget(t, clock, time.Millisecond, func(op *Op) error {
		if op.Index%2 == 0 {
			return context.DeadlineExceeded
		}
		return errors.New("connection refused by zebra")
	})
	spec := fakeSpec(target, 100, 30*time.Second)
	spec.Component.Workload.MaxErrorRate = 0.5
	res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
	require.ErrorIs(t, err, ErrAborted)
	require.NotNil(t, res)
	assert.False(t, res.Complete)
	msg := err.Error()
	assert.Contains(t, msg, "in the 3s before 4s")
	kinds := msg[strings.Index(msg, "%): ")+4:]
	assert.Equal(t, KindOther+": connection refused by zebra; "+KindTimeout+": "+context.DeadlineExceeded.Error(), kinds)
	assert.Less(t, res.MeasuredNS, int64(10*time.Second), "stopped, not held to the run's 30 s")
}

// An interrupt stops the workers and returns what was measured, marked
// incomplete, without waiting for the run's end.
func TestAnInterruptReturnsThePartialResult(t *testing.T) {
	clock := newSimClock(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := simTarget(t, clock, time.Millisecond, func(op *Op) error {
		if op.Index == 300 {
			cancel()
		}
		return nil
	})
	res, err := Run(ctx, []*Spec{fakeSpec(target, 100, time.Minute)}, Options{Clock: clock})
	require.ErrorIs(t, err, ErrInterrupted)
	assert.False(t, res.Complete)
	assert.True(t, strings.HasPrefix(res.Incomplete, "interrupted after 3."), res.Incomplete)
	assert.Less(t, res.MeasuredNS, int64(10*time.Second), "not held to the run's minute")
	all := res.Components[0].Operation("all")
	assert.EqualValues(t, 301, all.Count, "operations 0 to 300, the one that saw the interrupt too")
}

// At 1/s the last operation is intended a second before the window ends and
// completes long before it; the run still measured its whole window, and
// its achieved rate is the asked one, not 10 in 9 s.
func TestALowRateRunMeasuresItsWholeWindow(t *testing.T) {
	clock := newSimClock(t)
	spec := fakeSpec(simTarget(t, clock, time.Millisecond, nil), 1, 10*time.Second)
	res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
	require.NoError(t, err)
	all := res.Components[0].Operation("all")
	assert.EqualValues(t, 10, all.Count)
	assert.Equal(t, int64(10*time.Second), res.MeasuredNS)
	assert.InDelta(t, 1, all.AchievedRate, 1e-9)
}

// An abort quotes max_error_rate as the plan writes it, never with the
// binary noise of its fraction times 100 (0.07 × 100 is 7.000000000000001).
func TestAbortsQuoteMaxErrorRateAsThePlanWritesIt(t *testing.T) {
	tests := []struct {
		maxErrorRate float64
		want         string
	}{
		{0.5, "(more than max_error_rate 50%)"},
		{0.07, "(more than max_error_rate 7%)"},
		{0.29, "(more than max_error_rate 29%)"},
		{0.001, "(more than max_error_rate 0.1%)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			start := time.Unix(1000, 0)
			c := newComponentRun(fakeSpec("fake://x", 100, time.Minute), fakeDriver{})
			c.spec.Component.Workload.MaxErrorRate = tt.maxErrorRate
			m := newMonitor([]*componentRun{c}, start, time.Minute, 2500*time.Millisecond, func(Progress) {})
			// Every operation fails from the start: the first look with a
			// base 3 s old aborts.
			var abort error
			for i := 1; i <= 20 && abort == nil; i++ {
				c.rec.seenOps = int64(i) * 250 / 3
				c.rec.seenErrors = c.rec.seenOps
				abort = m.look(start.Add(time.Duration(i) * m.tick))
			}
			require.ErrorIs(t, abort, ErrAborted)
			assert.Contains(t, abort.Error(), tt.want, "the monitor's abort")

			c.rec.errors[0] = 10
			require.NoError(t, c.rec.whole[0].RecordValue(1000))
			err := checkErrorShare([]*componentRun{c})
			require.ErrorIs(t, err, ErrAborted)
			assert.Contains(t, err.Error(), tt.want, "the finished run's abort")
		})
	}
}
