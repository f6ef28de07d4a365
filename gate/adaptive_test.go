package gate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// A component that was looked at several times (defaults.adaptive) is
// judged at the level of its last look: the first of several possible
// looks is held to a wider interval than a single look, the last look of
// a run that extended to its longest a little wider still than a single
// look, and a result judged again (tailgate check) gets the same interval
// as the run did.
func TestTheLooksOfAResultSetTheLevelItIsJudgedAt(t *testing.T) {
	const tier = "      regression: {get: {p50: +10%}}\n"
	cand := fixture{seed: 2, medianNS: 2.1e6, sigma: 0.5, intervals: 15, perSecond: 1000}.result()
	width := func(looks *result.Looks) float64 {
		r := *cand
		r.Components = append([]result.ComponentResult(nil), cand.Components...)
		r.Components[0].Looks = looks
		v, err := gate.Judge(planWith(tier), &r, base.result())
		require.NoError(t, err)
		o := v.Objectives["cache"][0]
		return o.IntervalHigh - o.IntervalLow
	}
	single := width(nil)
	atFull := width(&result.Looks{MaxNS: 15e9, MeasuredNS: []int64{15e9}})
	first := width(&result.Looks{MaxNS: 45e9, MeasuredNS: []int64{15e9}})
	last := width(&result.Looks{MaxNS: 45e9, MeasuredNS: []int64{15e9, 22.5e9, 30e9, 37.5e9, 45e9}})
	assert.Equal(t, single, atFull, "one look at the whole run is a single look")
	assert.Greater(t, first, single, "the first of several looks is judged at a wider interval")
	assert.Greater(t, last, single, "the last look pays for the ones before it")
	assert.Equal(t, first, width(&result.Looks{MaxNS: 45e9, MeasuredNS: []int64{15e9}}), "judging again gives the same interval")
}

func TestInconclusiveNamesWhatIsUndecided(t *testing.T) {
	v := &gate.Verdict{Status: status.VerdictPass, Objectives: map[string][]status.ObjectiveResult{
		"web": {
			{Operation: "home", Metric: "p99", Threshold: "+10%", Status: status.Inconclusive, Margin: 0.042, IntervalLow: -0.031, IntervalHigh: 0.145},
			{Operation: "home", Metric: "p50", Threshold: "+10%", Status: status.Pass},
		},
		"cache": {
			{Operation: "get", Metric: "p50", Threshold: "+5%", Status: status.Inconclusive, Margin: 0.06, IntervalLow: 0.01, IntervalHigh: 0.11},
			{Operation: "get", Metric: "p99", Threshold: "+5%", Status: status.NoChange},
		},
	}}
	assert.Equal(t, "cache get p50 +6% [+1%, +11%] against +5%; web home p99 +4.2% [-3.1%, +14.5%] against +10%", gate.Inconclusive(v))
	v.Objectives["web"] = append(v.Objectives["web"], status.ObjectiveResult{Operation: "home", Metric: "p90", Threshold: "+10%", Status: status.Inconclusive,
		Detail: "inconclusive (runner noise): the two runs' runners differ"})
	assert.NotContains(t, gate.Inconclusive(v), "p90", "runner noise is not measured away by a longer candidate run")
	v.Status = status.VerdictFail
	assert.NotEmpty(t, gate.Inconclusive(v), "a run failed by defaults.inconclusive: fail is measured on")
	v.Objectives["cache"][1].Status = status.Fail
	assert.Empty(t, gate.Inconclusive(v), "a failed objective is conclusive: more data cannot make the run pass")
	v.Status = status.VerdictPass
	v.Objectives["cache"][1].Status = status.NoChange
	v.Objectives["web"][0].Status = status.NoChange
	v.Objectives["cache"][0].Status = status.Pass
	assert.Empty(t, gate.Inconclusive(v), "nothing inconclusive, nothing to measure longer for")
}

// TestUndecidedAsksOnlyOfWhatMoreDataCanDecide is the adaptation policy of
// an adaptive run: it measures on while a component it measures is
// inconclusive, against a stored baseline or a live one, and when it
// measures some components of an earlier result again, judges the others
// as they were and asks nothing of them.
func TestUndecidedAsksOnlyOfWhatMoreDataCanDecide(t *testing.T) {
	p, err := slo.Parse([]byte(`version: 1
defaults: {duration: 15s, warmup: 0s}
components:
  - name: cache
    target: redis://127.0.0.1:6379
    workload: {rate: 1000, mix: {get: 100}}
    slo: {regression: {get: {p50: +10%}}}
  - name: store
    target: redis://127.0.0.1:6380
    workload: {rate: 1000, mix: {get: 100}}
    slo: {regression: {get: {p50: +10%}}}
`), "plan.yaml")
	require.NoError(t, err)
	wideBase, wideCand := inconclusivePair()
	steady := base.result()
	storeOf := func(r *result.Result) *result.Result { return only("store", r) }
	// Base and candidate of both components: cache's interval reaches past
	// its tolerance, store's is the same run on both sides.
	baseline, undecided := resultOf(wideBase, steady), resultOf(wideCand, steady)
	decided := resultOf(steady, steady)
	for _, tt := range []struct {
		name                       string
		baseline, prior, priorBase *result.Result
		cand, base                 *result.Result
		want                       string // a substring; "" for none
	}{
		{name: "an inconclusive component is measured on", baseline: baseline, cand: undecided, want: "cache get p50"},
		{name: "every component conclusive: the run stops", baseline: resultOf(steady, steady), cand: decided},
		{name: "a live baseline is the one judged against", baseline: resultOf(steady, steady), cand: undecided, base: baseline, want: "cache get p50"},
		{name: "re-measuring a conclusive component asks nothing of the inconclusive one", baseline: baseline,
			prior: undecided, cand: storeOf(steady)},
		{name: "re-measuring the inconclusive component judges it with the others from before", baseline: baseline,
			prior: undecided, cand: only("cache", wideCand), want: "cache get p50"},
		{name: "with a live baseline measured again too", prior: undecided, priorBase: baseline,
			cand: only("cache", wideCand), base: only("cache", wideBase), want: "cache get p50"},
		{name: "a result that cannot be judged is decided", baseline: baseline, cand: only("cache", wideCand)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := gate.Undecided(p, tt.baseline, tt.prior, tt.priorBase)(tt.cand, tt.base)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
			assert.NotContains(t, got, "store", "store is conclusive")
		})
	}
}
