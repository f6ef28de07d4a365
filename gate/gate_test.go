package gate_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
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
	require.NoError(t, report.Compare(&buf, "base.json", "cand.json", changes))
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
