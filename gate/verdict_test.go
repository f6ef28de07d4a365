package gate_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

// inconclusivePair is a baseline and a +30% candidate on a machine whose
// speed wandered by about 40% from segment to segment, compared without a
// pairing: the interval of p50 reaches from below the +10% tolerance to far
// above it.
func inconclusivePair() (base, cand *result.Result) {
	rng := rand.New(rand.NewPCG(9, 9))
	drift := make([]float64, 16)
	for k := range 8 {
		f := math.Exp(0.4 * rng.NormFloat64())
		drift[2*k], drift[2*k+1] = f, f
	}
	run := func(seed uint64, median float64) *result.Result {
		return fixture{seed: seed, medianNS: median, sigma: 0.5, intervals: 16, perSecond: 500, drift: drift}.result()
	}
	return run(1, 2e6), run(2, 2.6e6)
}

// TestInconclusiveIsNeverASilentPass holds the regression tier to "a pass
// rules the tolerance out": an interval reaching past the tolerance is
// inconclusive, says what the run could have detected, and does to the
// verdict what defaults.inconclusive says (error unless the plan chooses).
func TestInconclusiveIsNeverASilentPass(t *testing.T) {
	const tier = "      regression: {get: {p50: +10%, p99: +10%}}\n"
	tests := []struct {
		defaults string
		verdict  status.Verdict
		warning  string
	}{
		{"", status.VerdictError, "inconclusive: the run could neither rule the regression out nor show it"},
		{"inconclusive: error, ", status.VerdictError, "neither rule the regression out nor show it"},
		{"inconclusive: fail, ", status.VerdictFail, "the plan fails the run for it"},
		{"inconclusive: pass, ", status.VerdictPass, "let through by the plan (defaults.inconclusive: pass)"},
	}
	for _, tt := range tests {
		t.Run(tt.defaults+string(tt.verdict), func(t *testing.T) {
			base, cand := inconclusivePair()
			v, err := gate.Judge(planWithDefaults(tt.defaults, tier), cand, base)
			require.NoError(t, err)
			require.Len(t, v.Objectives["cache"], 2)
			var o status.ObjectiveResult
			for _, r := range v.Objectives["cache"] {
				if r.Metric == "p50" {
					o = r
				}
				assert.NotEqual(t, status.Fail, r.Status)
			}
			assert.Equal(t, status.Inconclusive, o.Status, "p50 %+.1f%% [%+.1f%%, %+.1f%%]", 100*o.Margin, 100*o.IntervalLow, 100*o.IntervalHigh)
			assert.Less(t, o.IntervalLow, 0.10)
			assert.Greater(t, o.IntervalHigh, 0.10)
			assert.InDelta(t, 0.10+o.Margin-o.IntervalLow, o.Detectable, 1e-9, "the smallest regression the run could have shown")
			assert.Contains(t, o.Detail, "could only have shown a regression of "+gate.SignedPercent(o.Detectable)+" or more")
			assert.NotContains(t, o.Detail, "no significant change")
			assert.Equal(t, tt.verdict, v.Status)
			assert.Contains(t, joined(v.Warnings), tt.warning)
		})
	}
}

// TestNothingJudgedIsNeverAPass: a run that judged no objective does not
// pass, whatever the reason.
func TestNothingJudgedIsNeverAPass(t *testing.T) {
	tests := []struct {
		name     string
		slo      string
		baseline *result.Result
		verdict  status.Verdict
		warning  string
	}{
		{"regression objectives only, and no baseline", "      regression: {get: {p99: +10%}}\n", nil, status.VerdictError, "no objective was judged"},
		{"a plan without objectives", "      minimum: {}\n", nil, status.VerdictError, "no objective was judged"},
		{"every objective on an operation the result lacks", "      minimum: {get: {p99: 1s}}\n", nil, status.VerdictError, `get p99 could not be judged: operation "get" recorded no operations`},
		{"every objective with too few samples", "      minimum: {get: {p99.9: 1s}}\n", nil, status.VerdictError, "p99.9 needs at least 10000 successful samples"},
		{"an aspirational milestone judged is a judgment", "      aspirational: {get: {p99: 1s}}\n", nil, status.VerdictPass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := base.result()
			switch tt.name {
			case "every objective on an operation the result lacks":
				res.Components[0].Operations = res.Components[0].Operations[1:] // no "get"
			case "every objective with too few samples":
				res = fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 2, perSecond: 1000}.result()
			}
			v, err := gate.Judge(planWith(tt.slo), res, tt.baseline)
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, v.Status)
			if tt.warning != "" {
				assert.Contains(t, joined(v.Warnings), tt.warning)
			}
		})
	}
}

// TestAFailureStandsBesideWhatCouldNotBeJudged: a bar missed is a fail (exit
// 1), even when another objective could not be judged.
func TestAFailureStandsBesideWhatCouldNotBeJudged(t *testing.T) {
	short := fixture{seed: 1, medianNS: 2e6, sigma: 0.5, intervals: 2, perSecond: 1000}.result()
	v, err := gate.Judge(planWith("      minimum: {get: {p99: 1ms, p99.9: 1s}}\n"), short, nil)
	require.NoError(t, err)
	assert.Equal(t, status.VerdictFail, v.Status)
	assert.Equal(t, status.Fail, v.Objectives["cache"][0].Status)
	assert.Equal(t, status.Insufficient, v.Objectives["cache"][1].Status)
}

// TestAShardIsNeverJudged: a shard's result is refused by Judge, by
// Judgeable (check) and by Comparable (compare, --baseline).
func TestAShardIsNeverJudged(t *testing.T) {
	shard := base.result()
	shard.Shard = &result.Shard{Index: 1, Count: 2}
	_, err := gate.Judge(planWith("      minimum: {get: {p99: 1us}}\n"), shard, nil)
	require.ErrorIs(t, err, gate.ErrShard)
	err = gate.Judgeable(planWith("      minimum: {get: {p99: 1us}}\n"), shard)
	require.ErrorIs(t, err, gate.ErrShard)
	assert.Contains(t, err.Error(), "a shard result: merge the shards, then check the merged result")
	err = gate.Comparable(base.result(), shard)
	require.ErrorIs(t, err, gate.ErrIncomparable)
	require.ErrorIs(t, err, gate.ErrShard)
	require.ErrorIs(t, gate.Comparable(shard, base.result()), gate.ErrShard)

	v := gate.ShardVerdict(shard)
	assert.Empty(t, v.Objectives)
	assert.Contains(t, v.Warnings[0], "shard 1 of 2 is not judged on its own")
}

// TestAResultIsJudgedOnlyAgainstItsOwnWorkload: check refuses a plan whose
// workload is not the one that ran, saying what differs, and accepts a run
// whose seed was overridden.
func TestAResultIsJudgedOnlyAgainstItsOwnWorkload(t *testing.T) {
	p := planWith("      minimum: {get: {p99: 1s}}\n")
	res := base.result()
	id := result.IdentityOf(&p.Components[0], 7, nil)
	res.Components[0].Workload, res.Components[0].WorkloadHash = id, id.Hash()
	require.NoError(t, gate.Judgeable(p, res), "the seed may differ: run --seed")

	other := *p
	other.Components = append(other.Components[:0:0], p.Components...)
	other.Components[0].Workload.Rate = 2500
	err := gate.Judgeable(&other, res)
	require.ErrorIs(t, err, gate.ErrIncomparable)
	assert.Contains(t, err.Error(), `component "cache": rate 2500 in the plan, 1000 in the result`)
	assert.Contains(t, err.Error(), `plan "plan.yaml"`)

	old := base.result()
	old.Components[0].WorkloadHash = ""
	require.NoError(t, gate.Judgeable(&other, old), "a result from before workload hashes is taken as it is")
}

// TestErrorRateRegressionIsFishersTest: the error-rate regression goes
// through gate/stats like the latency path: a ratio with its interval and
// Fisher's exact p-value.
func TestErrorRateRegressionIsFishersTest(t *testing.T) {
	const tier = "      regression: {all: {error_rate: +10%}}\n"
	withErrors := func(seed uint64, errors int64) *result.Result {
		return fixture{seed: seed, medianNS: 2e6, sigma: 0.5, intervals: 15, perSecond: 1000, errors: errors}.result()
	}
	tests := []struct {
		name       string
		base, cand int64
		status     status.Status
	}{
		{"no errors on either side", 0, 0, status.NoChange},
		{"errors only in the candidate", 0, 60, status.Fail},
		{"the same errors again", 300, 300, status.Inconclusive},
		{"four times the errors", 50, 200, status.Fail},
		{"a few errors either way", 2, 3, status.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith(tier), withErrors(2, tt.cand), withErrors(1, tt.base))
			require.NoError(t, err)
			o := v.Objectives["cache"][0]
			assert.Equal(t, tt.status, o.Status, "%+.1f%% [%+.1f%%, %+.1f%%] p %.3g", 100*o.Margin, 100*o.IntervalLow, 100*o.IntervalHigh, o.PValue)
			assert.LessOrEqual(t, o.IntervalLow, o.Margin)
			if o.Status == status.Fail {
				assert.Less(t, o.PValue, 0.05)
			}
		})
	}
}

func joined(ss []string) string {
	out := ""
	for _, s := range ss {
		out += s + "\n"
	}
	return out
}
