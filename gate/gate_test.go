package gate_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

var base = fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000}

func TestMinimumObjectives(t *testing.T) {
	tests := []struct {
		name   string
		slo    string
		run    fixture
		status status.Status
		want   status.Verdict
	}{
		{"a p99 under its bar passes", "      minimum: {get: {p99: 20ms}}\n", base, status.Pass, status.VerdictPass},
		{"a p99 over its bar fails", "      minimum: {get: {p99: 2ms}}\n", base, status.Fail, status.VerdictFail},
		{"too few samples for p99.9 is never a pass", "      minimum: {get: {p99.9: 1s}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 2, perSecond: 1000}, status.Insufficient, status.VerdictError},
		{"an error rate over its bar fails", "      minimum: {all: {error_rate: 0.1%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, errors: 100}, status.Fail, status.VerdictFail},
		{"operations never sent cut throughput", "      minimum: {all: {throughput: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, unsent: 500}, status.Fail, status.VerdictFail},
		{"operations tailgate left unsent are not the target's lost throughput", "      minimum: {all: {throughput: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, unsent: 500, clientUnsent: 400}, status.ClientBound, status.VerdictError},
		{"nor its errors", "      minimum: {all: {error_rate: 1%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, unsent: 500, clientUnsent: 400}, status.ClientBound, status.VerdictError},
		{"a bar missed even without them fails", "      minimum: {all: {throughput: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, unsent: 500, clientUnsent: 200}, status.Fail, status.VerdictFail},
		{"an error rate missed even without them fails", "      minimum: {all: {error_rate: 1%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, errors: 300, unsent: 500, clientUnsent: 500}, status.Fail, status.VerdictFail},
		{"an aspirational throughput only tailgate missed is client-bound, not missed (alone, it judges nothing)", "      aspirational: {all: {throughput: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, unsent: 500, clientUnsent: 500}, status.ClientBound, status.VerdictError},
		{"failed operations cut throughput: it counts successes", "      minimum: {all: {throughput: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, errors: 500}, status.Fail, status.VerdictFail},
		{"a full send passes throughput", "      minimum: {all: {throughput: 99%}}\n", base, status.Pass, status.VerdictPass},
		{"a hit rate at its bar passes", "      minimum: {get: {hit_rate: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, reads: true, misses: 150}, status.Pass, status.VerdictPass},
		{"a hit rate under its bar fails", "      minimum: {all: {hit_rate: 99%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, reads: true, misses: 151}, status.Fail, status.VerdictFail},
		{"a hit rate with no reads counted is never a pass", "      minimum: {get: {hit_rate: 50%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000}, status.Insufficient, status.VerdictError},
		{"a missed aspirational milestone does not fail the run", "      aspirational: {get: {p99: 1ms}}\n", base, status.Missed, status.VerdictPass},
		{"an aspirational hit rate with no reads counted is missed, not a pass", "      aspirational: {get: {hit_rate: 50%}}\n",
			fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000}, status.Missed, status.VerdictPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planWith(tt.slo)
			v, err := gate.Judge(p, tt.run.result(), nil)
			require.NoError(t, err)
			require.Len(t, v.Objectives["cache"], 1)
			assert.Equal(t, tt.status, v.Objectives["cache"][0].Status)
			assert.Equal(t, tt.want, v.Status)
		})
	}
}

func TestRegressionTier(t *testing.T) {
	const tier = "      regression: {get: {p50: +10%, p99: +10%}}\n"
	tests := []struct {
		name      string
		candidate fixture
		verdict   status.Verdict
		golden    string
	}{
		{"the same service again passes", fixture{seed: 2, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000}, status.VerdictPass, "regression-aa.golden"},
		{"a 30% slower service fails", fixture{seed: 3, medianNS: 2.6e6, sigma: 0.5, intervals: 15, perSecond: 1000}, status.VerdictFail, "regression-ab.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand := tt.candidate.result()
			v, err := gate.Judge(planWith(tier), cand, base.result())
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, v.Status)
			v.Apply(cand)
			var buf bytes.Buffer
			require.NoError(t, report.Text(&buf, cand))
			golden.Check(t, tt.golden, buf.Bytes())
		})
	}
	t.Run("without a baseline the tier is skipped, loudly", func(t *testing.T) {
		v, err := gate.Judge(planWith(tier), base.result(), nil)
		require.NoError(t, err)
		assert.Empty(t, v.Objectives["cache"])
		assert.Contains(t, v.Warnings[0], "no baseline")
	})
}

// TestInterleavedSidesAreComparedPairByPair runs the regression tier on the
// two sides of an interleaved run whose machine wandered by about 40% from
// segment to segment. Both sides saw the same wandering, segment by segment:
// compared pair by pair, the +30% candidate fails; the same results without
// their pairing are inconclusive (never a pass), and so is a baseline paired
// with another run.
func TestInterleavedSidesAreComparedPairByPair(t *testing.T) {
	const tier = "      regression: {get: {p50: +10%, p99: +10%}}\n"
	rng := rand.New(rand.NewPCG(9, 9))
	const segments, perSegment = 8, 2
	drift := make([]float64, segments*perSegment)
	for k := range segments {
		f := math.Exp(0.4 * rng.NormFloat64())
		for i := range perSegment {
			drift[k*perSegment+i] = f
		}
	}
	starts := make([]int, segments)
	for k := range starts {
		starts[k] = k * perSegment
	}
	run := func(seed uint64, median float64, id string) *result.Result {
		r := fixture{seed: seed, medianNS: median, sigma: 0.5, intervals: segments * perSegment, perSecond: 500, drift: drift}.result()
		r.Pairing = &result.Pairing{ID: id, Segments: starts}
		return r
	}
	tests := []struct {
		name       string
		base, cand *result.Result
		verdict    status.Verdict
		status     status.Status
		golden     string
	}{
		{"paired", run(1, 2e6, "run-1"), run(2, 2.6e6, "run-1"), status.VerdictFail, status.Fail, "regression-paired.golden"},
		{"the pairing dropped", run(1, 2e6, ""), run(2, 2.6e6, ""), status.VerdictError, status.Inconclusive, ""},
		{"paired with another run", run(1, 2e6, "run-1"), run(2, 2.6e6, "run-2"), status.VerdictError, status.Inconclusive, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith(tier), tt.cand, tt.base)
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, v.Status)
			for _, o := range v.Objectives["cache"] {
				if o.Metric == "p50" {
					assert.Equal(t, tt.status, o.Status, "p50 %+.1f%% [%+.1f%%, %+.1f%%]", 100*o.Margin, 100*o.IntervalLow, 100*o.IntervalHigh)
				}
			}
			if tt.golden != "" {
				v.Apply(tt.cand)
				var buf bytes.Buffer
				require.NoError(t, report.Text(&buf, tt.cand))
				golden.Check(t, tt.golden, buf.Bytes())
			}
		})
	}
}

func TestCompare(t *testing.T) {
	cand := fixture{seed: 3, medianNS: 2.6e6, sigma: 0.5, intervals: 15, perSecond: 1000}.result()
	changes, err := gate.Compare(base.result(), cand, 0.95)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, report.Compare(&buf, "base.json", "cand.json", changes, gate.CompareWarnings(base.result(), cand)))
	golden.Check(t, "compare.golden", buf.Bytes())
	for _, c := range changes {
		if c.Operation == "get" && c.Metric == "p50" {
			assert.True(t, c.Significant)
			assert.True(t, c.Tested)
			assert.InDelta(t, 1.3, c.Ratio, 0.05)
		}
		if c.Metric == "max" || c.Metric == "p99.99" {
			// +26.6% and +32.4% with no test behind them: never a change.
			assert.False(t, c.Tested, "%s %s", c.Operation, c.Metric)
			assert.False(t, c.Significant, "%s %s", c.Operation, c.Metric)
		}
	}
	assert.NotContains(t, buf.String(), "+26.6%", "an untested max is not shown as a change")
}

// TestCompareAgainstACandidateThatMeasuredNothing: a candidate whose
// operations all failed (a target it never reached) has no latency to
// compare; its side prints "-", never a "0s" that would read as replies
// that took no time, while its error rate is a measurement (100%).
func TestCompareAgainstACandidateThatMeasuredNothing(t *testing.T) {
	cand := base.result()
	for i := range cand.Components[0].Operations {
		op := &cand.Components[0].Operations[i]
		op.Errors, op.Count, op.LatencyNS = op.Errors+op.Count, 0, result.Percentiles{}
	}
	changes, err := gate.Compare(base.result(), cand, 0.95)
	require.NoError(t, err)
	for _, c := range changes {
		b, v := c.Values()
		assert.False(t, c.NoBase, "%s %s", c.Operation, c.Metric)
		assert.NotEqual(t, "-", b, "%s %s", c.Operation, c.Metric)
		if c.Metric == slo.MetricErrorRate {
			assert.False(t, c.NoCand)
			assert.Equal(t, "100%", v)
			continue
		}
		assert.False(t, c.Tested, "%s %s", c.Operation, c.Metric)
		assert.True(t, c.NoCand, "%s %s", c.Operation, c.Metric)
		assert.Equal(t, "-", v, "%s %s", c.Operation, c.Metric)
	}
	cand.Complete, cand.Incomplete = false, `component "cache": target unreachable: redis://127.0.0.1:1/0: connection refused`
	var buf bytes.Buffer
	require.NoError(t, report.Compare(&buf, "base.json", "cand.json", changes, gate.CompareWarnings(base.result(), cand)))
	assert.Contains(t, buf.String(), "tailgate compare: baseline base.json, candidate cand.json\nwarning: the candidate run is incomplete (component \"cache\": target unreachable: redis://127.0.0.1:1/0: connection refused): its figures are only what it measured before it stopped\n\n")
	assert.Regexp(t, `(?m)^cache\s+get\s+p99\s+\S+\s+-\s+not tested`, buf.String())
	assert.NotRegexp(t, `(?m)^cache\s+\S+\s+p\S+\s+\S+\s+0s\s`, buf.String())
}

func TestIncomparableResultsSayWhatDiffers(t *testing.T) {
	other := fixture{seed: 3, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 2000}.result()
	_, err := gate.Compare(base.result(), other, 0.95)
	require.ErrorIs(t, err, gate.ErrIncomparable)
	assert.Contains(t, err.Error(), "rate 1000 in the baseline, 2000 in the candidate")

	// Streams per connection are part of the workload: a change of them is
	// named, not hidden behind "workload hashes differ".
	streams := base.result()
	streams.Components[0].Workload.Streams = 4
	streams.Components[0].WorkloadHash = streams.Components[0].Workload.Hash()
	_, err = gate.Compare(base.result(), streams, 0.95)
	require.ErrorIs(t, err, gate.ErrIncomparable)
	assert.Contains(t, err.Error(), "streams 0 in the baseline, 4 in the candidate")
}

// An interval histogram that does not decode is never read as one that
// holds nothing: every regression objective of its operation is
// insufficient and says why, and compare refuses the results. (Each
// operation's histograms are decoded once for all its objectives.)
func TestAHistogramThatDoesNotDecodeIsSaidSo(t *testing.T) {
	cand := base.result()
	cand.Components[0].Operations[0].Intervals[3].Histogram = "not a histogram"
	_, err := gate.Compare(base.result(), cand, 0.95)
	require.ErrorContains(t, err, `operation "get": interval 3: histogram`)
	v, err := gate.Judge(planWith("      regression: {get: {p50: +10%, p99: +10%}}\n"), cand, base.result())
	require.NoError(t, err)
	require.Len(t, v.Objectives["cache"], 2)
	for _, o := range v.Objectives["cache"] {
		assert.Equal(t, status.Insufficient, o.Status, o.Metric)
		assert.Contains(t, o.Detail, `operation "get": interval 3: histogram`, o.Metric)
	}
}

// TestARunDoesNotJudgeCapacity: a run measures one rate, so its verdict
// leaves capacity objectives out, and says so; tailgate capacity judges them.
func TestARunDoesNotJudgeCapacity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		slo  string
		want status.Verdict
	}{
		{"beside a bar the run meets, the run passes on that bar", "      minimum: {get: {p99: 20ms}, all: {capacity: 30000/s}}\n      regression: {all: {capacity: -5%}}\n", status.VerdictPass},
		{"alone, nothing is judged, which is never a pass", "      minimum: {all: {capacity: 30000/s}}\n", status.VerdictError},
	}
	res := base.result() // the run, and its own baseline
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith(tt.slo), res, res)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.Status)
			for _, o := range v.Objectives["cache"] {
				assert.NotEqual(t, "capacity", o.Metric)
			}
			assert.Contains(t, v.Warnings, "capacity objectives are not judged by a run at one rate: tailgate capacity judges them")
		})
	}
}

// streamPlan parses a one-component gRPC plan of a streaming call, "watch",
// with the given slo block.
func streamPlan(t *testing.T, sloBlock string) *slo.Plan {
	t.Helper()
	p, err := slo.Parse([]byte(`version: 1
defaults: {duration: 15s, warmup: 0s}
components:
  - name: feed
    target: grpc://127.0.0.1:50051
    workload:
      rate: 1000
      requests:
        - {name: watch, method: grpc.testing.TestService/StreamingOutputCall}
    slo:
`+sloBlock), "plan.yaml")
	require.NoError(t, err)
	return p
}

// streamResult is the fixture's run as a streaming call's: every call's
// first message came at a fifth of its latency to the end, with three
// messages a call; withFirst false leaves the first messages out, as for a
// call that is not a stream.
func streamResult(f fixture, withFirst bool) *result.Result {
	r := f.result()
	c := &r.Components[0]
	c.Name, c.Protocol, c.Target = "feed", "grpc", "grpc://127.0.0.1:50051"
	c.Operations[0].Name = "watch"
	if !withFirst {
		return r
	}
	for i := range c.Operations {
		o := &c.Operations[i]
		whole, _ := o.WholeHistogram()
		first := result.NewHistogram()
		for _, b := range stats.Buckets(whole) {
			first.RecordValues((b.Lo+b.Hi)/2/5, b.Count)
		}
		o.Messages = 3 * o.Count
		o.SetFirstMessage(first)
	}
	return r
}

func TestStreamingCallsAreJudgedOnEitherLatency(t *testing.T) {
	// base's p99 is about 6.4 ms to the end, so about 1.3 ms to the first
	// message.
	tests := []struct {
		name      string
		slo       string
		withFirst bool
		status    status.Status
		measured  string // a substring of the measured value
	}{
		{"a first message under its bar passes", "      minimum: {watch: {first_message.p99: 2ms}}\n", true, status.Pass, "ms"},
		{"a first message over its bar fails", "      minimum: {watch: {first_message.p99: 1ms}}\n", true, status.Fail, "ms"},
		{"the end of the stream judges the same bar otherwise", "      minimum: {watch: {p99: 2ms}}\n", true, status.Fail, "ms"},
		{"complete is the end of the stream", "      minimum: {watch: {complete.p99: 2ms}}\n", true, status.Fail, "ms"},
		{"complete passes where the end does", "      minimum: {watch: {complete.p99: 20ms}}\n", true, status.Pass, "ms"},
		{"all holds the first messages too", "      minimum: {all: {first_message.max: 1s}}\n", true, status.Pass, "ms"},
		{"no first messages is never a pass", "      minimum: {watch: {first_message.p99: 1s}}\n", false, status.Insufficient, "no first messages"},
		{"no first messages misses a milestone", "      aspirational: {watch: {first_message.p99: 1s}}\n", false, status.Missed, "no first messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(streamPlan(t, tt.slo), streamResult(base, tt.withFirst), nil)
			require.NoError(t, err)
			require.Len(t, v.Objectives["feed"], 1)
			o := v.Objectives["feed"][0]
			assert.Equal(t, tt.status, o.Status, "%s: %s", o.Measured, o.Detail)
			assert.Contains(t, o.Measured, tt.measured)
		})
	}

	t.Run("the first message's bar reads the first messages", func(t *testing.T) {
		r := streamResult(base, true)
		v, err := gate.Judge(streamPlan(t, "      minimum: {watch: {first_message.p99: 1s, p99: 1s}}\n"), r, nil)
		require.NoError(t, err)
		require.Len(t, v.Objectives["feed"], 2)
		first, end := v.Objectives["feed"][0], v.Objectives["feed"][1]
		op := r.Components[0].Operation("watch")
		assert.Equal(t, float64(op.FirstMessageNS.P99), first.MeasuredValue)
		assert.Equal(t, float64(op.LatencyNS.P99), end.MeasuredValue)
		assert.Less(t, first.MeasuredValue, end.MeasuredValue)
		assert.Greater(t, first.IntervalHigh, first.IntervalLow, "the interval comes from the first-message histogram")
		assert.Less(t, first.IntervalHigh, end.IntervalLow)
	})

	t.Run("a regression on complete compares the end of the stream", func(t *testing.T) {
		slower := fixture{seed: 3, medianNS: 2.6e6, sigma: 0.5, intervals: 15, perSecond: 1000}
		v, err := gate.Judge(streamPlan(t, "      regression: {watch: {complete.p99: +10%}}\n"), streamResult(slower, true), streamResult(base, true))
		require.NoError(t, err)
		require.Len(t, v.Objectives["feed"], 1)
		assert.Equal(t, status.Fail, v.Objectives["feed"][0].Status)
	})
}

// withStages cuts each operation of res into stages of the given numbers
// of its one-second intervals, as the engine records them.
func withStages(t *testing.T, res *result.Result, seconds ...int) *result.Result {
	t.Helper()
	for i := range res.Components[0].Operations {
		op := &res.Components[0].Operations[i]
		ivals, err := op.IntervalHistograms()
		require.NoError(t, err)
		withClient := op.HasIntervalClientDelays()
		from := 0
		for k, n := range seconds {
			h, c := result.NewHistogram(), result.NewHistogram()
			for j, iv := range ivals[from : from+n] {
				iv.MergeInto(h)
				if withClient {
					cd, err := op.IntervalClientDelay(from + j)
					require.NoError(t, err)
					cd.MergeInto(c)
				}
			}
			op.Stages = append(op.Stages, result.StageResult{
				Index: k + 1, Rate: op.AskedRate, StartRate: op.AskedRate, AskedRate: op.AskedRate,
				StartNS: int64(from) * int64(time.Second), EndNS: int64(from+n) * int64(time.Second),
				Count: h.TotalCount(), AchievedRate: float64(h.TotalCount()) / float64(n),
				LatencyNS: result.PercentilesOf(h), Histogram: encode(h),
			})
			if withClient {
				op.Stages[k].ClientDelayHistogram = encode(c)
			}
			from += n
		}
		op.Stages[0].Errors = op.Errors
	}
	return res
}

func stagedPlan(t *testing.T, stages, sloBlock string) *slo.Plan {
	t.Helper()
	p, err := slo.Parse([]byte(`version: 1
defaults: {warmup: 0s}
components:
  - name: cache
    target: redis://127.0.0.1:6379
    workload:
      mix: {get: 100}
      stages:
`+stages+`    slo:
`+sloBlock), "plan.yaml")
	require.NoError(t, err)
	return p
}

func TestStageObjectivesAreJudgedOnTheirStage(t *testing.T) {
	t.Parallel()
	// Five seconds at 1 ms, then five at 3 ms: the whole run's p50 is
	// between the two.
	f := fixture{seed: 1, medianNS: 1e6, sigma: 0.1, intervals: 10, perSecond: 2000,
		drift: []float64{1, 1, 1, 1, 1, 3, 3, 3, 3, 3}}
	plan := stagedPlan(t, "        - {rate: 2000, duration: 5s}\n        - {rate: 2000, duration: 5s}\n", `      minimum:
        get:
          - {p99: 10ms}
          - {p50: 2ms, stage: all}
`)
	res := withStages(t, f.result(), 5, 5)
	_, err := result.Decode(mustEncode(t, res))
	require.NoError(t, err, "the fixture's stages are a sound result")
	v, err := gate.Judge(plan, res, nil)
	require.NoError(t, err)
	got := map[string]status.Status{}
	for _, o := range v.Objectives["cache"] {
		got[o.Subject()+" "+o.Metric] = o.Status
	}
	assert.Equal(t, map[string]status.Status{
		"get p99": status.Pass, "get (stage 1) p50": status.Pass, "get (stage 2) p50": status.Fail,
	}, got)
	assert.Equal(t, status.VerdictFail, v.Status)

	t.Run("a stage the load generator was starved in is client-bound, not the target's fail", func(t *testing.T) {
		// The same run, its second stage slow because tailgate sent all
		// but a third of each latency late.
		starved := withIntervalClients(f.result(), func(i int, v int64) int64 {
			if i >= 5 {
				return v - v/3
			}
			return 1_000
		}, quietRunner)
		res := withStages(t, starved, 5, 5)
		_, err := result.Decode(mustEncode(t, res))
		require.NoError(t, err, "the fixture's stages are a sound result")
		v, err := gate.Judge(plan, res, nil)
		require.NoError(t, err)
		stage2 := func(v *gate.Verdict) status.ObjectiveResult {
			i := slices.IndexFunc(v.Objectives["cache"], func(o status.ObjectiveResult) bool { return o.Stage == 2 })
			require.GreaterOrEqual(t, i, 0, "stage 2's objective")
			return v.Objectives["cache"][i]
		}
		o := stage2(v)
		assert.Equal(t, status.ClientBound, o.Status, o.Detail)
		assert.Contains(t, o.Detail, "taken out of the latency")
		assert.Positive(t, o.FloorNS)
		assert.Equal(t, status.VerdictError, v.Status)

		precise := withStages(t, withIntervalClients(f.result(), func(int, int64) int64 { return 1_000 }, quietRunner), 5, 5)
		v, err = gate.Judge(plan, precise, nil)
		require.NoError(t, err)
		assert.Equal(t, status.Fail, stage2(v).Status, "a precise generator leaves the slow stage to the target")
	})
	t.Run("a stage with too few samples is insufficient, never a pass", func(t *testing.T) {
		short := fixture{seed: 2, medianNS: 1e6, sigma: 0.1, intervals: 3, perSecond: 400}
		plan := stagedPlan(t, "        - {rate: 400, duration: 2s}\n        - {rate: 400, duration: 1s}\n", `      minimum:
        get: {p90: 10ms, stage: 2}
`)
		res := withStages(t, short.result(), 2, 1)
		// Stage 2 measured 40 operations where the plan expected 400
		// (operations failed, or the target fell behind).
		for i := range res.Components[0].Operations {
			s := &res.Components[0].Operations[i].Stages[1]
			h := result.NewHistogram()
			for range 40 {
				h.RecordValue(1e6)
			}
			s.Count, s.LatencyNS, s.Histogram = 40, result.PercentilesOf(h), encode(h)
		}
		v, err := gate.Judge(plan, res, nil)
		require.NoError(t, err)
		require.Len(t, v.Objectives["cache"], 1)
		o := v.Objectives["cache"][0]
		assert.Equal(t, status.Insufficient, o.Status)
		assert.Equal(t, 2, o.Stage)
		assert.Contains(t, o.Detail, "needs at least 100 successful samples, the run has 40")
		assert.Equal(t, status.VerdictError, v.Status)
		assert.True(t, slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.Contains(w, "get (stage 2) p90 could not be judged") }),
			"warnings: %v", v.Warnings)
	})
	t.Run("a result without the stage is insufficient", func(t *testing.T) {
		v, err := gate.Judge(plan, f.result(), nil)
		require.NoError(t, err)
		staged := 0
		for _, o := range v.Objectives["cache"] {
			if o.Stage > 0 {
				staged++
				assert.Equal(t, status.Insufficient, o.Status)
				assert.Contains(t, o.Detail, "has no stage")
			}
		}
		assert.Equal(t, 2, staged, "the p50 of each of the plan's 2 stages keeps its stage")
	})
}

func mustEncode(t *testing.T, res *result.Result) []byte {
	t.Helper()
	b, err := res.Encode()
	require.NoError(t, err)
	return b
}
