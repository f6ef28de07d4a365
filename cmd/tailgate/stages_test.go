package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// stagedWebPlan loads target in three stages of 350 ms: 1000/s, a ramp to
// 2000/s, and 2000/s: 350, 525 and 700 operations.
func stagedWebPlan(target string) string {
	return `version: 1
defaults: {warmup: 100ms, seed: 3}
components:
  - name: web
    target: ` + target + `
    workload:
      arrival: uniform
      connections: 16
      timeout: 2s
      requests:
        - {name: home, method: GET, path: "/"}
      stages:
        - {rate: 1000, duration: 350ms}
        - {rate: 2000, duration: 350ms, ramp: linear}
        - {rate: 2000, duration: 350ms}
    slo:
      minimum:
        home:
          - {p90: 1s, error_rate: 1%}
          - {p50: 1ns, stage: 2}
        all: {p90: 1s, throughput: 99%, stage: all}
`
}

func TestARunInStagesIsMeasuredAndJudgedStageByStage(t *testing.T) {
	// 2 ms a request: stage 2's 1ns bar is the target's miss whatever the
	// runner.
	srv := sleepyServer(t, constant(2*time.Millisecond))
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	inv := invoke(t, nil, "run", "-c", writePlan(t, stagedWebPlan(srv.URL)), "--out", out, "--report-dir", filepath.Join(dir, "reports"))
	assert.Equal(t, 1, inv.code, "stage 2's p50 under 1ns fails")
	res, err := result.Read(out)
	require.NoError(t, err, "the result file, stages included, reads back")
	assert.Equal(t, int64(1050*time.Millisecond), res.MeasuredNS, "the stages' total is the measured window")
	c := res.Components[0]
	for _, name := range []string{"home", "all"} {
		op := c.Operation(name)
		require.NotNil(t, op)
		require.Len(t, op.Stages, 3, name)
		for i, want := range []int64{350, 525, 700} {
			s := op.Stages[i]
			assert.Equal(t, want, s.Count+s.Errors, "%s stage %d: rate × duration operations intended (the ramp's mean rate)", name, i+1)
			assert.Equal(t, int64(i)*int64(350*time.Millisecond), s.StartNS)
			assert.Positive(t, s.LatencyNS.P50, "%s stage %d has its percentiles", name, i+1)
			assert.GreaterOrEqual(t, s.LatencyNS.P99, s.LatencyNS.P50)
			assert.NotEmpty(t, s.Histogram)
		}
		assert.Equal(t, "linear", op.Stages[1].Ramp)
		assert.EqualValues(t, 1000, op.Stages[1].StartRate)
	}
	got := map[string]status.Status{}
	for _, o := range c.Objectives {
		got[o.Subject()+" "+o.Metric] = o.Status
	}
	assert.Equal(t, status.Fail, got["home (stage 2) p50"], "objectives: %v", got)
	for _, key := range []string{"home p90", "home error_rate", "all (stage 1) p90", "all (stage 2) p90", "all (stage 3) p90", "all (stage 3) throughput"} {
		assert.Equal(t, status.Pass, got[key], "%s; objectives: %v", key, got)
	}
	assert.Contains(t, inv.stdout, "home (stage 2)", "the text report names the stage")
	assert.Contains(t, inv.stdout, "1000→2000/s linear", "the text report has a row per stage")
	assertFilesSay(t, filepath.Join(dir, "reports"), map[string]string{
		"report.md":   "| web | home | 2 | 1000→2000/s linear |",
		"report.html": `class="stage-boundary"`,
		"junit.xml":   `name="home (stage 2) p50`,
		"result.json": `"stage": 2`,
	})
}

func TestStagesRefuseWhatWouldCutThem(t *testing.T) {
	plan := writePlan(t, stagedWebPlan("http://127.0.0.1:1"))
	for name, args := range map[string][]string{
		"--duration":        {"--duration", "5s"},
		"--baseline-target": {"--baseline-target", "web=http://127.0.0.1:2"},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			inv := invoke(t, nil, append([]string{"run", "-c", plan}, args...)...)
			assert.Equal(t, 2, inv.code)
			assert.Contains(t, inv.stderr, "runs in stages")
		})
	}
}

func TestEachSpecRunsForTheLengthItsComponentMeasures(t *testing.T) {
	t.Parallel()
	p, err := slo.Parse([]byte(`version: 1
defaults: {duration: 1m}
components:
  - name: steady
    target: http://127.0.0.1:1
    workload: {rate: 100, requests: [{name: home, method: GET, path: "/"}]}
    slo: {minimum: {all: {error_rate: 1%}}}
  - name: staged
    target: http://127.0.0.1:1
    workload:
      requests: [{name: home, method: GET, path: "/"}]
      stages: [{rate: 100, duration: 10s}, {rate: 200, duration: 20s}]
    slo: {minimum: {all: {error_rate: 1%}}}
`), "plan.yaml")
	require.NoError(t, err)
	tests := []struct {
		name string
		want time.Duration
	}{
		{"steady", time.Minute},
		{"staged", 30 * time.Second},
	}
	specs := specsFor(p, result.Shard{})
	require.Len(t, specs, len(tests))
	for i, tt := range tests {
		t.Run("the "+tt.name+" component", func(t *testing.T) {
			require.Equal(t, tt.name, specs[i].Component.Name)
			assert.Equal(t, tt.want, specs[i].Duration)
			assert.Equal(t, p.Components[i].RunLength(p.Defaults.Duration), specs[i].Duration, "the run measures what the sample rule counts")
		})
	}
}
