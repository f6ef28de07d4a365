package gate_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// growing scales n intervals' latencies from 1 up to top, evenly: a soak
// whose tail grows as it runs (a leak, a compaction).
func growing(n int, top float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1 + (top-1)*float64(i)/float64(n-1)
	}
	return out
}

// TestOverTimeObjectives: p99_window judges every whole window's p99 and
// drift the last third's p99 against the first third's, so a tail that
// grows through the run fails them while the whole run's p99 passes.
func TestOverTimeObjectives(t *testing.T) {
	const block = `      minimum:
        get: {p99: 6ms, p99_window: {window: 5s, max: 3500us}, drift: +20%}
`
	tests := []struct {
		name string
		fix  fixture
		want map[slo.Metric]status.Status
		// detail holds substrings of each objective's detail or measured value.
		detail map[slo.Metric]string
	}{
		{"a steady run passes every window and shows no drift",
			fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000},
			map[slo.Metric]status.Status{slo.MetricP99: status.Pass, slo.MetricP99Window: status.Pass, slo.MetricDrift: status.NoChange},
			map[slo.Metric]string{slo.MetricP99Window: "the worst of 6 judged 5s windows"}},
		{"a tail that doubles through the run passes the whole-run p99 and fails the window and the drift",
			fixture{seed: 2, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000, drift: growing(30, 2)},
			map[slo.Metric]status.Status{slo.MetricP99: status.Pass, slo.MetricP99Window: status.Fail, slo.MetricDrift: status.Fail},
			map[slo.Metric]string{slo.MetricP99Window: "at 25s–30s"}},
		{"windows too sparse for a p99 are not judged, and it says so",
			fixture{seed: 3, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 80},
			map[slo.Metric]status.Status{slo.MetricP99: status.Pass, slo.MetricP99Window: status.Insufficient, slo.MetricDrift: status.Insufficient},
			map[slo.Metric]string{slo.MetricP99Window: "6 of 6 windows had fewer than 1000 samples", slo.MetricDrift: "at least 1000 samples in each third"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith(block), tt.fix.result(), nil)
			require.NoError(t, err)
			checkOverTime(t, v, tt.want, tt.detail)
		})
	}
}

// TestDriftOnABusyRunnerIsInconclusive: a runner's contention is recorded
// for the whole run only, so on a busy one (BusyContention) it may have
// fallen on either third that drift compares: its pass, no change or fail
// cannot stand. p99_window's absolute bar is judged as before.
func TestDriftOnABusyRunnerIsInconclusive(t *testing.T) {
	const block = `      minimum:
        get: {p99_window: {window: 5s, max: 3500us}, drift: +20%}
`
	steady := fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000}
	doubling := fixture{seed: 2, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000, drift: growing(30, 2)}
	for _, tt := range []struct {
		name   string
		fix    fixture
		runner *result.Runner
		want   map[slo.Metric]status.Status
		detail map[slo.Metric]string
	}{
		{"a steady run on a quiet runner shows no drift", steady, pressured(0.06),
			map[slo.Metric]status.Status{slo.MetricDrift: status.NoChange}, nil},
		{"a steady run on a runner whose hypervisor stole its time is inconclusive", steady, stolen(0.09, 0.35),
			map[slo.Metric]status.Status{slo.MetricDrift: status.Inconclusive},
			map[slo.Metric]string{slo.MetricDrift: "inconclusive (runner noise): the runner was kept from a CPU, by other tasks or by its hypervisor, 44% of the measured window, which may have fallen on either third and slows a target sharing it by more than tailgate's own delays show, so the no-change cannot stand"}},
		{"a doubling tail on a busy runner leaves drift inconclusive and still fails the window", doubling, stolen(0.09, 0.35),
			map[slo.Metric]status.Status{slo.MetricDrift: status.Inconclusive, slo.MetricP99Window: status.Fail},
			map[slo.Metric]string{slo.MetricDrift: "so the fail cannot stand"}},
		{"a doubling tail on a runner just under BusyContention fails the drift", doubling, pressured(0.19),
			map[slo.Metric]status.Status{slo.MetricDrift: status.Fail, slo.MetricP99Window: status.Fail}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.fix.result()
			res.Runner = tt.runner
			v, err := gate.Judge(planWith(block), res, nil)
			require.NoError(t, err)
			checkOverTime(t, v, tt.want, tt.detail)
		})
	}
}

// checkOverTime checks the status of each of the objectives of v named in
// want, and that its detail or measured value holds detail's text for it.
// It returns the objectives checked.
func checkOverTime(t *testing.T, v *gate.Verdict, want map[slo.Metric]status.Status, detail map[slo.Metric]string) []status.ObjectiveResult {
	t.Helper()
	var seen []status.ObjectiveResult
	for _, o := range v.Objectives["cache"] {
		m := slo.Metric(o.Metric)
		w, ok := want[m]
		if !ok {
			continue
		}
		seen = append(seen, o)
		assert.Equal(t, w, o.Status, "%s: measured %s; %s", m, o.Measured, o.Detail)
		if d := detail[m]; d != "" && !strings.Contains(o.Detail+" "+o.Measured, d) {
			t.Errorf("%s: measured %q, detail %q; want it to hold %q", m, o.Measured, o.Detail, d)
		}
	}
	assert.Len(t, seen, len(want), "the objectives judged")
	return seen
}

// withIntervalClients gives every operation of res client delays interval
// by interval, client(i, v) for a latency v of interval i, with the whole
// run's their sum (and the latencies less them), and res the runner
// record.
func withIntervalClients(res *result.Result, client func(interval int, latencyNS int64) int64, runner *result.Runner) *result.Result {
	for k := range res.Components[0].Operations {
		op := &res.Components[0].Operations[k]
		hs, err := op.IntervalHistograms()
		if err != nil {
			panic(err)
		}
		whole, less := result.NewHistogram(), result.NewHistogram()
		for i, h := range hs {
			ch := result.NewHistogram()
			for _, b := range stats.Buckets(h) {
				if b.Count > 0 {
					v := (b.Lo + b.Hi) / 2
					c := max(client(i, v), 1)
					_ = ch.RecordValues(c, b.Count)
					_ = less.RecordValues(max(v-c, 1), b.Count)
				}
			}
			whole.Merge(ch)
			op.Intervals[i].ClientDelayHistogram = encode(ch)
		}
		cp, lp := result.PercentilesOf(whole), result.PercentilesOf(less)
		op.ClientDelayNS, op.ClientDelayHistogram = &cp, encode(whole)
		op.LatencyLessClientNS, op.LatencyLessClientHistogram = &lp, encode(less)
	}
	res.Runner = runner
	return res
}

// scaled is n intervals' latency scales, 1 but for [from, to), which is by.
func scaled(n, from, to int, by float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
		if i >= from && i < to {
			out[i] = by
		}
	}
	return out
}

// TestOverTimeObjectivesTellTheGeneratorFromTheTarget: a slice of the run
// in which the load generator itself was late is held to the whole run's
// client-bound rule, window by window and third against third, and a slow
// target still fails whatever the generator did elsewhere.
func TestOverTimeObjectivesTellTheGeneratorFromTheTarget(t *testing.T) {
	const block = `      minimum:
        get: {p99_window: {window: 5s, max: 3500us}, drift: +20%}
`
	precise := func(int, int64) int64 { return 1_000 }
	// starvedIn: in [from, to) tailgate sent late by all but 1/by of each
	// latency (the target's part), elsewhere it was precise.
	starvedIn := func(from, to int, by float64) func(int, int64) int64 {
		return func(i int, v int64) int64 {
			if i >= from && i < to {
				return v - int64(float64(v)/by)
			}
			return 1_000
		}
	}
	// run is a 30 s steady target at 2000/s with the given latency scales.
	run := func(seed uint64, scales []float64) fixture {
		return fixture{seed: seed, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000, drift: scales}
	}
	join := func(a, b []float64) []float64 {
		out := slices.Clone(a)
		for i, v := range b {
			out[i] *= v
		}
		return out
	}
	// slowMiddle is three times slower from 10 s to 15 s, slowLast twice
	// in the last third: the target's doing or the generator's, as each
	// case gives the client delays.
	slowMiddle, slowLast := run(11, scaled(30, 10, 15, 3)), run(13, scaled(30, 20, 30, 2))
	steady := withIntervalClients(run(15, nil).result(), func(_ int, v int64) int64 { return v / 10 }, quietRunner)
	tests := []struct {
		name   string
		res    *result.Result
		metric slo.Metric
		status status.Status
		detail string // in the objective's detail or measured value
	}{
		{"a window the generator was starved in is client-bound, not the target's fail",
			withIntervalClients(slowMiddle.result(), starvedIn(10, 15, 3), quietRunner), slo.MetricP99Window, status.ClientBound,
			"1 of 6 judged windows was above the bar only while the load generator was too late to measure the target: the worst at 10s–15s"},
		{"the same window slow with a precise generator fails",
			withIntervalClients(slowMiddle.result(), precise, quietRunner), slo.MetricP99Window, status.Fail, "at 10s–15s"},
		{"a slow window of the target's fails beside a starved one, and is the one shown",
			withIntervalClients(run(12, join(scaled(30, 10, 15, 3), scaled(30, 25, 30, 2.5))).result(), starvedIn(10, 15, 3), quietRunner),
			slo.MetricP99Window, status.Fail, "at 25s–30s"},
		// A generator that notices replies late queues the operations
		// behind them on the ideal timeline, which counts the wait as the
		// target's: only a timeline that takes the runner's delay out
		// tells it was the runner's.
		{"a window whose queue was the runner noticing replies late is client-bound on its own latency",
			withOwnLatency(withIntervalClients(slowMiddle.result(), precise, noisyRunner), func(i int, v int64) int64 {
				if i >= 10 && i < 15 {
					return v / 20
				}
				return v
			}), slo.MetricP99Window, status.ClientBound, "the worst at 10s–15s"},
		{"without its latencies less client delays (an older result) that window fails",
			withIntervalClients(slowMiddle.result(), precise, noisyRunner), slo.MetricP99Window, status.Fail, "at 10s–15s"},
		{"a window the target made slow fails on its own latency behind the same runner",
			withOwnLatency(withIntervalClients(slowMiddle.result(), precise, noisyRunner), func(_ int, v int64) int64 { return v }),
			slo.MetricP99Window, status.Fail, "at 10s–15s"},
		{"a result without interval client delays is judged on its latency alone",
			slowMiddle.result(), slo.MetricP99Window, status.Fail, "at 10s–15s"},
		{"a drift the generator's lateness in the last third could explain is client-bound",
			withIntervalClients(slowLast.result(), starvedIn(20, 30, 2), quietRunner), slo.MetricDrift, status.ClientBound,
			"too late to measure the target in the last third"},
		{"a target that doubles in the last third fails the drift with a precise generator",
			withIntervalClients(slowLast.result(), precise, quietRunner), slo.MetricDrift, status.Fail, "+"},
		{"a generator late in the first third that hides the target's doubling is client-bound, never a pass",
			withIntervalClients(run(14, join(scaled(30, 0, 10, 2), scaled(30, 20, 30, 2))).result(), starvedIn(0, 10, 2), quietRunner),
			slo.MetricDrift, status.ClientBound, "later in the first third than in the last"},
		{"a generator delay steady through the run passes its windows", steady, slo.MetricP99Window, status.Pass, ""},
		{"a generator delay steady through the run leaves no drift to stand", steady, slo.MetricDrift, status.NoChange, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith(block), tt.res, nil)
			require.NoError(t, err)
			for _, o := range checkOverTime(t, v, map[slo.Metric]status.Status{tt.metric: tt.status}, map[slo.Metric]string{tt.metric: tt.detail}) {
				if tt.res.Runner != nil {
					assert.Positive(t, o.FloorNS, "%s: the floor is recorded", o.Metric)
				}
				if o.Status == status.ClientBound {
					assert.Contains(t, o.Detail, gate.ClientRemedies)
					assert.NotEqual(t, status.VerdictPass, v.Status, "a client-bound objective is not a pass")
				}
			}
		})
	}
}

// TestAWindowReadsTheRunnersWakeupsOfItsOwnIntervals: a runner that
// stalls for 1.5% of one window's probes, an eighth of a percent of the
// run's, delays the replies noticed in that window while the whole run's
// wake-up p99 stays quiet. Read from the window's own intervals, the stall
// excuses the window's p99 (client-bound); read from the whole run's, as
// in a result without runner intervals, the replies' delay is the
// target's.
func TestAWindowReadsTheRunnersWakeupsOfItsOwnIntervals(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	res := fixture{seed: 21, medianNS: 1e6, sigma: 0.3, intervals: 60, perSecond: 2000}.result()
	wakeAll := result.NewHistogram()
	var runnerIvals []result.RunnerInterval
	var ops []result.Interval
	for i := range 60 {
		stalls := i >= 10 && i < 15
		lat, cl, wk := result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
		for range 2000 {
			target, c, r := 1e6*math.Exp(0.3*rng.NormFloat64()), 2e3+1e3*rng.Float64(), 20e3+20e3*rng.Float64()
			if stalls && rng.Float64() < 0.015 {
				u := rng.Float64()
				c, r = c+0.5e6*u, r+12e6*u
			}
			_ = lat.RecordValue(int64(target + c + r))
			_ = cl.RecordValue(int64(c))
		}
		for range 500 {
			w := 20e3 + 20e3*rng.Float64()
			if stalls && rng.Float64() < 0.015 {
				w += 12e6 * rng.Float64()
			}
			_ = wk.RecordValue(int64(w))
		}
		wakeAll.Merge(wk)
		ops = append(ops, result.Interval{OffsetNS: int64(i) * int64(time.Second), Count: lat.TotalCount(), Histogram: encode(lat), ClientDelayHistogram: encode(cl)})
		runnerIvals = append(runnerIvals, result.RunnerInterval{OffsetNS: int64(i) * int64(time.Second), WakeupHistogram: encode(wk)})
	}
	for k := range res.Components[0].Operations {
		op := &res.Components[0].Operations[k]
		op.Intervals, op.ClientDelayHistogram = ops, encode(result.NewHistogram())
	}
	res.Runner = &result.Runner{CPUs: 2, WakeupNS: result.PercentilesOf(wakeAll), WakeupHistogram: encode(wakeAll), Intervals: runnerIvals}
	require.Less(t, res.Runner.WakeupNS.P99, int64(time.Millisecond), "the whole run's wake-up p99 does not see the stall")
	plan := planWith("      minimum:\n        get: {p99_window: {window: 5s, max: 3500us}}\n")

	v, err := gate.Judge(plan, res, nil)
	require.NoError(t, err)
	checkOverTime(t, v, map[slo.Metric]status.Status{slo.MetricP99Window: status.ClientBound},
		map[slo.Metric]string{slo.MetricP99Window: "the worst at 10s–15s"})

	// The same run in three stages, the stalled window the second: its
	// p99 bar reads the stage's own wake-ups as the window does.
	staged := withStages(t, res, 10, 5, 45)
	stagePlan := stagedPlan(t, "        - {rate: 2000, duration: 10s}\n        - {rate: 2000, duration: 5s}\n        - {rate: 2000, duration: 45s}\n",
		"      minimum:\n        get: {p99: 3500us, stage: 2}\n")
	v, err = gate.Judge(stagePlan, staged, nil)
	require.NoError(t, err)
	require.Len(t, v.Objectives["cache"], 1)
	assert.Equal(t, status.ClientBound, v.Objectives["cache"][0].Status, v.Objectives["cache"][0].Detail)

	res.Runner.Intervals = nil
	v, err = gate.Judge(plan, res, nil)
	require.NoError(t, err)
	checkOverTime(t, v, map[slo.Metric]status.Status{slo.MetricP99Window: status.Fail},
		map[slo.Metric]string{slo.MetricP99Window: "at 10s–15s"})
	v, err = gate.Judge(stagePlan, staged, nil)
	require.NoError(t, err)
	assert.Equal(t, status.Fail, v.Objectives["cache"][0].Status, "without the runner's intervals the stage reads the whole run's wake-ups")
}
