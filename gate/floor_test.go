package gate_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

// runnerRecord is a runner probe record: 2500 wake-ups, of which the share
// stalled woke stallNS late and the others 20 to 40 us late; the CPU probe
// takes cpuNS.
func runnerRecord(stalled float64, stallNS, cpuNS int64) *result.Runner {
	wake, cpu := result.NewHistogram(), result.NewHistogram()
	for i := range 2500 {
		v := int64(20_000 + i%200*100)
		if float64(i%1000) < stalled*1000 {
			v = stallNS
		}
		_ = wake.RecordValue(v)
		_ = cpu.RecordValue(cpuNS + int64(i%5*50))
	}
	return &result.Runner{CPUs: 2, WakeupNS: result.PercentilesOf(wake), WakeupHistogram: encode(wake),
		CPUProbeNS: result.PercentilesOf(cpu), CPUProbeHistogram: encode(cpu)}
}

var (
	quietRunner  = runnerRecord(0, 0, 8_000)
	noisyRunner  = runnerRecord(0.1, 3_000_000, 8_000)
	slowerRunner = runnerRecord(0, 0, 12_000)
)

// pressured is the quiet runner with a CPU pressure of share.
func pressured(share float64) *result.Runner {
	r := runnerRecord(0, 0, 8_000)
	r.CPUPressure = &share
	return r
}

// stolen is the runner pressured by pressure with a steal of steal.
func stolen(pressure, steal float64) *result.Runner {
	r := pressured(pressure)
	r.CPUSteal = &steal
	return r
}

// withGenerator gives every operation of res a service time and a client
// delay derived from each latency in its whole-run histogram, and res the
// runner record.
func withGenerator(res *result.Result, service, client func(latencyNS int64) int64, runner *result.Runner) *result.Result {
	for i := range res.Components[0].Operations {
		op := &res.Components[0].Operations[i]
		whole, err := op.WholeHistogram()
		if err != nil {
			panic(err)
		}
		sh, ch, lh := result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
		for _, b := range whole.Distribution() {
			v := (b.From + b.To) / 2
			_ = sh.RecordValues(max(service(v), 1), b.Count)
			_ = ch.RecordValues(max(client(v), 1), b.Count)
			_ = lh.RecordValues(max(v-client(v), 1), b.Count)
		}
		op.ServiceNS, op.ServiceHistogram = result.PercentilesOf(sh), encode(sh)
		cp, lp := result.PercentilesOf(ch), result.PercentilesOf(lh)
		op.ClientDelayNS, op.ClientDelayHistogram = &cp, encode(ch)
		op.LatencyLessClientNS, op.LatencyLessClientHistogram = &lp, encode(lh)
	}
	res.Runner = runner
	return res
}

// withOwnLatency gives every operation of res latencies less client
// delays interval by interval, own(i, v) for a latency v of interval i, and
// the whole run's, as a result writes them whose ideal timeline takes the
// runner's delay out (see withGenerator and withIntervalClients, one of
// which must have given it client delays).
func withOwnLatency(res *result.Result, own func(interval int, latencyNS int64) int64) *result.Result {
	for k := range res.Components[0].Operations {
		op := &res.Components[0].Operations[k]
		hs, err := op.IntervalHistograms()
		if err != nil {
			panic(err)
		}
		whole := result.NewHistogram()
		for i, h := range hs {
			lh := result.NewHistogram()
			for _, b := range stats.Buckets(h) {
				if b.Count > 0 {
					_ = lh.RecordValues(max(own(i, (b.Lo+b.Hi)/2), 1), b.Count)
				}
			}
			whole.Merge(lh)
			op.Intervals[i].LatencyLessClientHistogram = encode(lh)
		}
		p := result.PercentilesOf(whole)
		op.LatencyLessClientNS, op.LatencyLessClientHistogram = &p, encode(whole)
	}
	return res
}

// throughout is an own latency the same in every interval.
func throughout(own func(latencyNS int64) int64) func(int, int64) int64 {
	return func(_ int, v int64) int64 { return own(v) }
}

func TestAMissedBarIsClientBoundOnlyWhenTheGeneratorCouldHaveMadeTheMiss(t *testing.T) {
	fast := func(v int64) int64 { return v / 20 }       // the target answered in a twentieth of the latency
	same := func(v int64) int64 { return v }            // the target took all of it
	mostly := func(v int64) int64 { return v * 9 / 10 } // tailgate sent 90% of it late
	precise := func(int64) int64 { return 1_000 }
	tests := []struct {
		name    string
		bar     string
		res     *result.Result
		status  status.Status
		verdict status.Verdict
	}{
		{"a fast target behind a starved generator is client-bound", "2ms",
			withGenerator(base.result(), fast, mostly, noisyRunner), status.ClientBound, status.VerdictError},
		{"a slow target fails however starved the generator", "1ms",
			withGenerator(base.result(), same, mostly, noisyRunner), status.Fail, status.VerdictFail},
		{"a precise generator leaves the miss to the target", "2ms",
			withGenerator(base.result(), fast, precise, quietRunner), status.Fail, status.VerdictFail},
		{"a result without client delays is judged as before", "2ms", base.result(), status.Fail, status.VerdictFail},
		// A target that stalls now and then: the operations queued behind
		// a stall on its connection are late, each answered quickly once
		// it is over. Its service times are fast, its own latency is the
		// latency itself.
		{"a stalling target fails on its own latency, however fast its service times", "3ms",
			withOwnLatency(withGenerator(base.result(), fast, precise, noisyRunner), throughout(same)), status.Fail, status.VerdictFail},
		{"a result without interval latencies less client delays (older) is judged on the service times", "3ms",
			withGenerator(base.result(), fast, precise, noisyRunner), status.ClientBound, status.VerdictError},
		{"a fast target behind a starved generator is client-bound on its own latency too", "2ms",
			withOwnLatency(withGenerator(base.result(), fast, mostly, noisyRunner), throughout(fast)), status.ClientBound, status.VerdictError},
		{"a met bar passes, starved generator or not", "20ms",
			withGenerator(base.result(), fast, mostly, noisyRunner), status.Pass, status.VerdictPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith("      minimum: {get: {p99: "+tt.bar+"}}\n"), tt.res, nil)
			require.NoError(t, err)
			o := v.Objectives["cache"][0]
			assert.Equal(t, tt.status, o.Status, o.Detail)
			assert.Equal(t, tt.verdict, v.Status)
			if tt.res.Runner != nil {
				assert.Positive(t, o.FloorNS, "the floor is recorded on every latency objective")
			}
			if tt.status == status.ClientBound {
				assert.Contains(t, o.Detail, "client delay")
				assert.Contains(t, o.Detail, gate.ClientRemedies)
				assert.Contains(t, v.Warnings[0], "client-bound")
				assert.Equal(t, gate.ExitRun, gate.ExitCode(v.Status))
				if tt.res.Components[0].Operations[0].HasIntervalLatenciesLessClient() {
					assert.Contains(t, o.Detail, "the wait behind its earlier replies", "read on the latency less the client delay")
				} else {
					assert.Contains(t, o.Detail, "the target's service time")
				}
			}
		})
	}
}

// TestAClientBoundRunOnAStolenRunnerSaysNoPlanChangeCuresIt: when the
// runner's hypervisor took a material share of its CPU time, the remedies
// of a client-bound bar say so first (a plan change does not cure a busy
// host); at a steal below MaterialContention they are the plan's remedies
// alone.
func TestAClientBoundRunOnAStolenRunnerSaysNoPlanChangeCuresIt(t *testing.T) {
	fast := func(v int64) int64 { return v / 20 }
	mostly := func(v int64) int64 { return v * 9 / 10 }
	onRunner := func(steal float64) *result.Runner {
		r := *noisyRunner
		r.CPUSteal = &steal
		return &r
	}
	const cure = "this runner's hypervisor gave 21.3% of its CPU time to other machines (CPU steal), which no change to the plan cures: run again, or on a runner whose CPUs are its own; otherwise " + gate.ClientRemedies
	for _, tt := range []struct {
		name   string
		runner *result.Runner
		cure   bool
	}{
		{"a steal of 21.3% is named", onRunner(0.213), true},
		{"a steal under MaterialContention is not", onRunner(0.02), false},
		{"a runner that records no steal is not", noisyRunner, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith("      minimum: {get: {p99: 2ms}}\n"), withGenerator(base.result(), fast, mostly, tt.runner), nil)
			require.NoError(t, err)
			o := v.Objectives["cache"][0]
			require.Equal(t, status.ClientBound, o.Status, o.Detail)
			assert.True(t, strings.HasSuffix(o.Detail, gate.ClientRemedies), o.Detail)
			if tt.cure {
				assert.Contains(t, o.Detail, cure)
			} else {
				assert.NotContains(t, o.Detail, "CPU steal")
			}
		})
	}
}

func TestTargetBoundGrantsEveryReplyTheRunnersWakeupDelay(t *testing.T) {
	f, ok := gate.FloorOf(withGenerator(base.result(), func(v int64) int64 { return v }, func(int64) int64 { return 1 }, noisyRunner).Components[0].Operation("get"), noisyRunner, 0.99)
	require.True(t, ok)
	assert.Greater(t, f.TargetNS, int64(2_000_000), "the body of a 2 ms service time is the target's: the stalls are a tenth of the wake-ups")
	assert.Less(t, f.TargetNS, f.ServiceNS)
	_, ok = gate.FloorOf(base.result().Components[0].Operation("get"), noisyRunner, 0.99)
	assert.False(t, ok, "no client delay recorded, no floor")
}

func TestRunnerNoiseBetweenRunsMakesWhatItCouldExplainInconclusive(t *testing.T) {
	none := func(int64) int64 { return 1_000 }
	same := func(v int64) int64 { return v }
	run := func(f fixture, r *result.Runner) *result.Result {
		return withGenerator(f.result(), same, none, r)
	}
	slower := func(scale float64) fixture {
		f := base
		f.seed = 2
		f.medianNS *= scale
		return f
	}
	tests := []struct {
		name       string
		base, cand *result.Result
		want       status.Status
		// detail is what an inconclusive objective's detail must hold.
		detail string
	}{
		{"A/A on a busier candidate runner does not fail",
			run(base, pressured(0.06)), run(slower(1.2), pressured(0.25)), status.Inconclusive,
			"the candidate's runner was busier than the baseline's (its tasks kept from a CPU, by other tasks or by its hypervisor, 25% of the measured window against 6%)"},
		{"+30% against a baseline whose hypervisor stole its time does not pass",
			run(slower(1.3), stolen(0.12, 0.23)), run(slower(1.3), stolen(0.06, 0.01)), status.Inconclusive,
			"the baseline's runner was busier than the candidate's (its tasks kept from a CPU, by other tasks or by its hypervisor, 35% of the measured window against 7%)"},
		{"a steal only one runner records is not compared",
			run(slower(1.3), stolen(0.06, 0.3)), run(slower(1.3), pressured(0.06)), status.Pass, ""},
		{"+30% against a baseline on a busier runner does not pass",
			run(slower(1.3), pressured(0.27)), run(slower(1.3), pressured(0.07)), status.Inconclusive,
			"the baseline's runner was busier than the candidate's (its tasks kept from a CPU, by other tasks or by its hypervisor, 27% of the measured window against 7%)"},
		{"+30% on a candidate runner busier by less than MaterialContention fails",
			run(base, pressured(0.06)), run(slower(1.3), pressured(0.15)), status.Fail, ""},
		{"+30% on a calmer candidate runner still fails",
			run(base, pressured(0.27)), run(slower(1.3), pressured(0.06)), status.Fail, ""},
		// Both runners busy (BusyContention): any difference counts.
		{"+30% against a baseline a little busier, both busy, does not pass",
			run(slower(1.3), stolen(0.24, 0.37)), run(slower(1.3), stolen(0.19, 0.33)), status.Inconclusive,
			"the baseline's runner was busier than the candidate's (its tasks kept from a CPU, by other tasks or by its hypervisor, 61% of the measured window against 52%)"},
		{"+30% on a candidate a little busier, both busy, does not fail",
			run(base, stolen(0.19, 0.33)), run(slower(1.3), stolen(0.24, 0.37)), status.Inconclusive,
			"the candidate's runner was busier than the baseline's (its tasks kept from a CPU, by other tasks or by its hypervisor, 61% of the measured window against 52%)"},
		{"+30% on a candidate a little calmer, both busy, still fails",
			run(base, stolen(0.24, 0.37)), run(slower(1.3), stolen(0.19, 0.33)), status.Fail, ""},
		{"+30% against a baseline without a CPU pressure fails",
			run(base, quietRunner), run(slower(1.3), pressured(0.3)), status.Fail, ""},
		{"A/A on a busier candidate runner passes",
			run(base, pressured(0.06)), run(fixture{seed: 2, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000}, pressured(0.3)), status.Pass, ""},
		{"A/A with a noisy candidate runner does not fail",
			run(base, quietRunner), run(slower(1.2), noisyRunner), status.Inconclusive, ""},
		{"+30% with a noisy baseline runner does not pass",
			run(slower(1.3), noisyRunner), run(slower(1.3), quietRunner), status.Inconclusive, ""},
		{"+30% with a slower baseline CPU does not pass",
			run(slower(1.3), slowerRunner), run(slower(1.3), quietRunner), status.Inconclusive, ""},
		{"+30% between comparable runners fails",
			run(base, quietRunner), run(slower(1.3), quietRunner), status.Fail, ""},
		{"+30% with a quieter candidate runner still fails",
			run(base, noisyRunner), run(slower(1.3), quietRunner), status.Fail, ""},
		{"A/A between comparable runners passes",
			run(base, quietRunner), run(fixture{seed: 2, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000}, quietRunner), status.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith("      regression: {get: {p99: +10%}}\n"), tt.cand, tt.base)
			require.NoError(t, err)
			o := v.Objectives["cache"][0]
			if tt.want == status.Pass {
				assert.Contains(t, []status.Status{status.Pass, status.NoChange}, o.Status, o.Detail)
				return
			}
			assert.Equal(t, tt.want, o.Status, o.Detail)
			if tt.want == status.Inconclusive {
				assert.Contains(t, o.Detail, "runner noise")
				assert.Contains(t, o.Detail, "--baseline-target")
				assert.Contains(t, o.Detail, tt.detail)
				assert.NotEqual(t, status.VerdictPass, v.Status)
				assert.NotEqual(t, status.VerdictFail, v.Status)
			}
		})
	}
	t.Run("the two sides of an interleaved run share the runner", func(t *testing.T) {
		b, c := run(base, quietRunner), run(slower(1.2), noisyRunner)
		segments := make([]int, 15)
		for i := range segments {
			segments[i] = i
		}
		b.Pairing = &result.Pairing{ID: "x", Segments: segments}
		c.Pairing = &result.Pairing{ID: "x", Segments: segments}
		v, err := gate.Judge(planWith("      regression: {get: {p99: +10%}}\n"), c, b)
		require.NoError(t, err)
		o := v.Objectives["cache"][0]
		assert.Equal(t, status.Fail, o.Status, o.Detail)
	})
}
