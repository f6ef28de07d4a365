package gate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// withStages cuts each operation of res into stages of the given numbers
// of its one-second intervals, as the engine records them.
func withStages(t *testing.T, res *result.Result, seconds ...int) *result.Result {
	t.Helper()
	for i := range res.Components[0].Operations {
		op := &res.Components[0].Operations[i]
		ivals, err := op.IntervalHistograms()
		require.NoError(t, err)
		from := 0
		for k, n := range seconds {
			h := result.NewHistogram()
			for _, iv := range ivals[from : from+n] {
				h.Merge(iv)
			}
			op.Stages = append(op.Stages, result.StageResult{
				Index: k + 1, Rate: op.AskedRate, StartRate: op.AskedRate, AskedRate: op.AskedRate,
				StartNS: int64(from) * int64(time.Second), EndNS: int64(from+n) * int64(time.Second),
				Count: h.TotalCount(), AchievedRate: float64(h.TotalCount()) / float64(n),
				LatencyNS: result.PercentilesOf(h), Histogram: encode(h),
			})
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
		assert.True(t, containsSubstring(v.Warnings, "get (stage 2) p90 could not be judged"), "warnings: %v", v.Warnings)
	})
	t.Run("a result without the stage is insufficient", func(t *testing.T) {
		v, err := gate.Judge(plan, f.result(), nil)
		require.NoError(t, err)
		for _, o := range v.Objectives["cache"] {
			if o.Stage > 0 {
				assert.Equal(t, status.Insufficient, o.Status)
				assert.Contains(t, o.Detail, "has no stage")
			}
		}
	})
}

func mustEncode(t *testing.T, res *result.Result) []byte {
	t.Helper()
	b, err := res.Encode()
	require.NoError(t, err)
	return b
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
