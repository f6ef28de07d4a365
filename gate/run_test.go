package gate_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		verdict status.Verdict
		want    int
	}{
		{status.VerdictPass, gate.ExitPass},
		{status.VerdictFail, gate.ExitFail},
		{status.VerdictError, gate.ExitRun},
		{"", gate.ExitRun},
		{"passed", gate.ExitRun},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("verdict %q exits %d", tt.verdict, tt.want), func(t *testing.T) {
			assert.Equal(t, tt.want, gate.ExitCode(tt.verdict))
		})
	}
}

// fast and slow are "cache" results under and over a 5ms p50 bar.
func fast() *result.Result {
	return fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 15, perSecond: 1000}.result()
}

func slow() *result.Result {
	return fixture{seed: 2, medianNS: 2e7, sigma: 0.3, intervals: 15, perSecond: 1000}.result()
}

func TestJudgeRun(t *testing.T) {
	p := planWith("      minimum: {get: {p50: 5ms}}\n")
	shardOf := func(res *result.Result, complete bool) *result.Result {
		res.Shard, res.Complete = &result.Shard{Index: 2, Count: 3}, complete
		if !complete {
			res.Incomplete = "interrupted"
		}
		return res
	}
	tests := []struct {
		name       string
		res        *result.Result
		runFailed  bool
		want       status.Verdict
		objectives int
		warning    string
	}{
		{name: "a whole run is judged: pass", res: fast(), want: status.VerdictPass, objectives: 1},
		{name: "a whole run is judged: fail", res: slow(), want: status.VerdictFail, objectives: 1},
		{name: "a run that failed is an error even when its bars pass", res: fast(), runFailed: true, want: status.VerdictError, objectives: 1},
		{name: "a shard is not judged and says so", res: shardOf(slow(), true), want: status.VerdictPass,
			warning: "shard 2 of 3 is not judged on its own"},
		{name: "an incomplete shard is an error", res: shardOf(fast(), false), want: status.VerdictError,
			warning: "shard 2 of 3 is not judged on its own"},
		{name: "a shard whose run failed is an error", res: shardOf(fast(), true), runFailed: true, want: status.VerdictError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.JudgeRun(p, tt.res, nil, tt.runFailed)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.Status)
			assert.Len(t, v.Objectives["cache"], tt.objectives)
			if tt.warning != "" {
				assert.Contains(t, joined(v.Warnings), tt.warning)
			}
		})
	}
	t.Run("a result of another plan is refused", func(t *testing.T) {
		res := fast()
		res.Components[0].Name = "other"
		_, err := gate.JudgeRun(p, res, nil, false)
		assert.ErrorContains(t, err, `component "cache" of plan "plan.yaml" is not in the result`)
	})
}

// twoComponents is a plan of "cache" and "store", both with a 5ms p50 bar,
// and a result of them from the given runs.
func twoComponents(t *testing.T, confirm int) *slo.Plan {
	t.Helper()
	p, err := slo.Parse([]byte(fmt.Sprintf(`version: 1
defaults: {duration: 15s, warmup: 0s, confirm: %d}
components:
  - name: cache
    target: redis://127.0.0.1:6379
    workload: {rate: 1000, mix: {get: 100}}
    slo: {minimum: {get: {p50: 5ms}}}
  - name: store
    target: redis://127.0.0.1:6380
    workload: {rate: 1000, mix: {get: 100}}
    slo: {minimum: {get: {p50: 5ms}}}
`, confirm)), "plan.yaml")
	require.NoError(t, err)
	return p
}

func resultOf(cache, store *result.Result) *result.Result {
	res := *cache
	st := store.Components[0]
	st.Name = "store"
	res.Components = []result.ComponentResult{cache.Components[0], st}
	return &res
}

// only is a re-measurement of one component.
func only(name string, run *result.Result) *result.Result {
	res := *run
	c := run.Components[0]
	c.Name = name
	res.Components = []result.ComponentResult{c}
	res.Warnings = []string{"re-measured " + name}
	return &res
}

func TestConfirm(t *testing.T) {
	type call struct {
		attempt int
		names   []string
	}
	tests := []struct {
		name    string
		confirm int
		first   *result.Result
		// again answers each re-measurement, by attempt (from 1).
		again        func(attempt int, name string) *result.Result
		wantCalls    []call
		wantVerdict  status.Verdict
		wantWarnings []string
	}{
		{name: "a passing run is not measured again", confirm: 2, first: resultOf(fast(), fast()),
			wantVerdict: status.VerdictPass},
		{name: "a failure stands only after reproducing every time", confirm: 2, first: resultOf(fast(), slow()),
			again:       func(int, string) *result.Result { return slow() },
			wantCalls:   []call{{1, []string{"store"}}, {2, []string{"store"}}},
			wantVerdict: status.VerdictFail,
			wantWarnings: []string{
				"confirmation 1 of 2: re-measured store with the same seed: the failure reproduced",
				"confirmation 2 of 2: re-measured store with the same seed: the failure reproduced",
			}},
		{name: "a failure that does not reproduce was noise, and ends the confirmation", confirm: 3, first: resultOf(slow(), fast()),
			again:        func(int, string) *result.Result { return fast() },
			wantCalls:    []call{{1, []string{"cache"}}},
			wantVerdict:  status.VerdictPass,
			wantWarnings: []string{"confirmation 1 of 3: re-measured cache with the same seed: the failure did not reproduce: the first measurement was noise"}},
		{name: "only the components that failed are measured again, in plan order", confirm: 2, first: resultOf(slow(), slow()),
			again: func(attempt int, name string) *result.Result {
				if attempt == 1 && name == "cache" {
					return fast()
				}
				return slow()
			},
			wantCalls:   []call{{1, []string{"cache", "store"}}, {2, []string{"store"}}},
			wantVerdict: status.VerdictFail,
			wantWarnings: []string{
				"confirmation 1 of 2: re-measured cache, store with the same seed: the failure reproduced",
				"confirmation 2 of 2: re-measured store with the same seed: the failure reproduced",
			}},
		{name: "confirm: 0 believes the first failure", confirm: 0, first: resultOf(slow(), fast()),
			wantVerdict: status.VerdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := twoComponents(t, tt.confirm)
			var calls []call
			remeasure := func(attempt int, names []string, res, baseline *result.Result) (*result.Result, *result.Result, error) {
				calls = append(calls, call{attempt, names})
				assert.Nil(t, baseline)
				assert.Len(t, res.Components, 2, "the results so far, of every component")
				again := &result.Result{}
				for _, name := range names {
					again.Components = append(again.Components, only(name, tt.again(attempt, name)).Components...)
				}
				return again, nil, nil
			}
			res, baseline, err := gate.Confirm(p, tt.first, nil, remeasure)
			require.NoError(t, err)
			assert.Nil(t, baseline)
			assert.Equal(t, tt.wantCalls, calls)
			assert.Equal(t, tt.wantWarnings, res.Warnings)
			v, err := gate.Judge(p, res, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.wantVerdict, v.Status, "the confirmed result carries the last measurement")
			assert.Empty(t, tt.first.Warnings, "the first result is not changed")
		})
	}

	t.Run("a live baseline's re-measurement replaces its components too", func(t *testing.T) {
		p := twoComponents(t, 1)
		p.Components[1].SLO.Minimum = nil
		p.Components[1].SLO.Regression = []slo.Objective{{Tier: slo.TierRegression, Operation: "get", Metric: slo.MetricP50,
			Threshold: slo.Threshold{Ratio: 0.10}, Raw: "+10%"}}
		base, cand := resultOf(fast(), fast()), resultOf(fast(), slow())
		newBase := only("store", slow())
		remeasure := func(_ int, names []string, _, baseline *result.Result) (*result.Result, *result.Result, error) {
			assert.Same(t, base, baseline)
			assert.Equal(t, []string{"store"}, names)
			return only("store", slow()), newBase, nil
		}
		res, baseline, err := gate.Confirm(p, cand, base, remeasure)
		require.NoError(t, err)
		assert.Equal(t, newBase.Components[0], baseline.Components[1], "the baseline's store is the new one")
		assert.Equal(t, base.Components[0], baseline.Components[0])
		assert.Equal(t, []string{"re-measured store",
			"confirmation 1 of 1: re-measured store with the same seed: the failure did not reproduce: the first measurement was noise"}, res.Warnings)
	})

	t.Run("a failed re-measurement is returned with the results before it", func(t *testing.T) {
		p := twoComponents(t, 2)
		first := resultOf(fast(), slow())
		unreachable := errors.New("target unreachable")
		res, _, err := gate.Confirm(p, first, nil, func(int, []string, *result.Result, *result.Result) (*result.Result, *result.Result, error) {
			return nil, nil, unreachable
		})
		assert.ErrorIs(t, err, unreachable)
		assert.Same(t, first, res)
	})

	t.Run("a failure by defaults.inconclusive: fail has nothing to measure again", func(t *testing.T) {
		p := planWithDefaults("inconclusive: fail, confirm: 2, ", "      regression: {get: {p50: +10%, p99: +10%}}\n")
		base, cand := inconclusivePair()
		v, err := gate.Judge(p, cand, base)
		require.NoError(t, err)
		require.Equal(t, status.VerdictFail, v.Status, "inconclusive, failed by the plan")
		res, _, err := gate.Confirm(p, cand, base, func(int, []string, *result.Result, *result.Result) (*result.Result, *result.Result, error) {
			t.Fatal("nothing failed that a re-measurement could confirm")
			return nil, nil, nil
		})
		require.NoError(t, err)
		assert.Same(t, cand, res)
	})

	t.Run("a shard is never confirmed", func(t *testing.T) {
		p := twoComponents(t, 2)
		shard := resultOf(slow(), slow())
		shard.Shard = &result.Shard{Index: 1, Count: 2}
		res, _, err := gate.Confirm(p, shard, nil, func(int, []string, *result.Result, *result.Result) (*result.Result, *result.Result, error) {
			t.Fatal("a shard is judged after merge, and confirmed by nobody")
			return nil, nil, nil
		})
		require.NoError(t, err)
		assert.Same(t, shard, res)
	})
}

func TestRemeasured(t *testing.T) {
	res := resultOf(fast(), fast())
	res.Warnings = []string{"first"}
	again := only("store", slow())
	out := gate.Remeasured(res, again)
	assert.Equal(t, res.Components[0], out.Components[0], "cache is kept")
	assert.Equal(t, again.Components[0], out.Components[1], "store is the re-measurement")
	assert.Equal(t, []string{"first", "re-measured store"}, out.Warnings)
	assert.Equal(t, []string{"first"}, res.Warnings, "res is not changed")
	assert.Equal(t, "cache", res.Components[0].Name)
	assert.NotEqual(t, again.Components[0], res.Components[1])
}

// planResult is a result of p's components as a run at seed records their
// workloads.
func planResult(p *slo.Plan, seed int64) *result.Result {
	res := &result.Result{Seed: seed, Complete: true}
	for _, c := range p.Components {
		id := result.IdentityOf(&c, seed, nil)
		res.Components = append(res.Components, result.ComponentResult{Name: c.Name, Workload: id, WorkloadHash: id.Hash()})
	}
	return res
}

func TestBaselineComparable(t *testing.T) {
	p := twoComponents(t, 0)
	p.Defaults.Seed = 7
	tests := []struct {
		name     string
		baseline func() *result.Result
		want     string
	}{
		{name: "a baseline of the same workload and seed", baseline: func() *result.Result { return planResult(p, 7) }},
		{name: "another seed is another workload", baseline: func() *result.Result { return planResult(p, 99) },
			want: `results are not comparable: component "cache": seed 99 in the baseline, 7 in the candidate; component "store": seed 99 in the baseline, 7 in the candidate`},
		{name: "a baseline without a component of the plan", baseline: func() *result.Result {
			b := planResult(p, 7)
			b.Components = b.Components[:1]
			return b
		}, want: `results are not comparable: component "store" is not in the baseline`},
		{name: "a baseline of another rate says by how much", baseline: func() *result.Result {
			other := *p
			other.Components = append([]slo.Component(nil), p.Components...)
			other.Components[0].Workload.Rate = 500
			return planResult(&other, 7)
		}, want: `component "cache": rate 500 in the baseline, 1000 in the candidate`},
		{name: "a baseline of other streams names them", baseline: func() *result.Result {
			other := *p
			other.Components = append([]slo.Component(nil), p.Components...)
			other.Components[1].Workload.Streams = 4
			return planResult(&other, 7)
		}, want: `component "store": streams 4 in the baseline, 0 in the candidate`},
		{name: "a shard is no baseline", baseline: func() *result.Result {
			b := planResult(p, 7)
			b.Shard = &result.Shard{Index: 1, Count: 2}
			return b
		}, want: "the baseline is shard 1 of 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.baseline()
			err := gate.BaselineComparable(p, base)
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, gate.Comparable(base, planResult(p, 7)), "what the run's result will be compared by")
				return
			}
			require.ErrorIs(t, err, gate.ErrIncomparable)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, gate.Comparable(base, planResult(p, 7)).Error(), err.Error(), "the same words as after the run")
		})
	}
}

func TestEvidence(t *testing.T) {
	p := twoComponents(t, 0)
	tests := []struct {
		name   string
		result func() *result.Result
		want   string
	}{
		{name: "a run of the plan's workload", result: func() *result.Result { return planResult(p, 1) }},
		{name: "another seed is another sample of the same workload", result: func() *result.Result { return planResult(p, 42) }},
		{name: "a shard carried only part of the load", result: func() *result.Result {
			r := planResult(p, 1)
			r.Shard = &result.Shard{Index: 1, Count: 2}
			return r
		}, want: "it is shard 1/2 of a run, which carried only part of the load; merge the shards first"},
		{name: "a result without a component of the plan", result: func() *result.Result {
			r := planResult(p, 1)
			r.Components = r.Components[:1]
			return r
		}, want: `it has no component "store": it is a result of another plan`},
		{name: "a run of another workload names what differs", result: func() *result.Result {
			other := *p
			other.Components = append([]slo.Component(nil), p.Components...)
			other.Components[0].Workload.Rate = 500
			other.Components[0].Workload.Connections = 3
			return planResult(&other, 1)
		}, want: `component "cache" ran another workload than the plan asks now (rate, connections differ): its numbers are no evidence for these bars`},
		{name: "a run of the embedded server is no evidence for a deployment", result: func() *result.Result {
			r := planResult(p, 1)
			r.Components[1].Embedded = true
			return r
		}, want: `component "store" ran against tailgate's embedded server, not a deployment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gate.Evidence(p, tt.result())
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
