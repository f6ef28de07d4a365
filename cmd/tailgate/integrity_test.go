package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// oomPlan loads a Redis whose every SET fails with OOM (maxmemory 1mb,
// noeviction) with bars that only throughput can miss.
const oomPlan = `version: 1
defaults: {duration: 2s, warmup: 300ms}
components:
  - name: cache
    target: %TARGET%
    workload:
      rate: 1000
      connections: 8
      keys: {count: 1000}
      value_size: 256
      mix: {get: 70, set: 30}
    slo:
      minimum:
        all: {p99: 200ms, throughput: 99%}
        set: {throughput: 99%}
`

// TestThroughputCountsOnlySuccessfulOperations: a Redis that answers every
// SET with OOM, fast, is not delivering 100% throughput.
func TestThroughputCountsOnlySuccessfulOperations(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
	out := filepath.Join(t.TempDir(), "r.json")
	inv := invoke(t, nil, "run", "-c", writePlan(t, strings.Replace(oomPlan, "%TARGET%", "redis://"+srv.Addr+"/0", 1)), "--out", out)
	assert.Equal(t, 1, inv.code, "FAIL: the SETs failed")
	assert.Contains(t, inv.stdout, "tailgate: FAIL")
	res, err := result.Read(out)
	require.NoError(t, err)
	c := res.Components[0]
	set := c.Operation("set")
	require.NotNil(t, set)
	require.Positive(t, set.ErrorKinds["redis OOM"], "the SETs failed with OOM: %v", set.ErrorKinds)
	assert.InDelta(t, float64(set.Count)/(float64(res.MeasuredNS)/1e9), set.AchievedRate, 1e-6, "achieved_rate counts successes only")
	assert.Less(t, set.AchievedRate, 0.5*set.AskedRate)
	for _, o := range c.Objectives {
		if o.Metric == string(slo.MetricThroughput) {
			assert.Equal(t, status.Fail, o.Status, "%s throughput measured %s", o.Operation, o.Measured)
		}
	}
}

// TestEveryExitLeavesEvidence: an unreachable target (exit 3) still writes
// the result, marked incomplete with the reason, and every report.
func TestEveryExitLeavesEvidence(t *testing.T) {
	t.Parallel()
	port := testserver.FreePort(t)
	dir := t.TempDir()
	out, reports := filepath.Join(dir, "r.json"), filepath.Join(dir, "rep")
	plan := writePlan(t, planFor("redis://:hunter2secret@127.0.0.1:"+itoa(port), "10ms"))
	inv := invoke(t, nil, "run", "-c", plan, "--out", out, "--report-dir", reports)
	require.Equal(t, 3, inv.code)
	assert.Contains(t, inv.stdout, "tailgate: ERROR: the run did not complete")
	res, err := result.Read(out)
	require.NoError(t, err, "the result is written")
	assert.False(t, res.Complete)
	assert.Equal(t, status.VerdictError, res.Verdict)
	assert.Contains(t, res.Incomplete, "unreachable")
	assert.Equal(t, plan, res.Plan)
	for _, f := range []string{"report.txt", "report.md", "junit.xml", "report.html", "histograms.hlog", "result.json"} {
		data := readFile(t, filepath.Join(reports, f))
		assert.NotContains(t, data, "hunter2secret", f)
		if f != "histograms.hlog" {
			assert.Contains(t, data, "unreachable", "%s says why the run failed", f)
		}
	}
	assert.NotContains(t, readFile(t, out)+inv.stdout+inv.stderr, "hunter2secret")
}

// TestGitHubActionsSeeEveryFailure: on GitHub Actions an invalid plan
// (exit 2) and an unreachable target (exit 3) write the job summary, the
// step output and annotations, one per plan error at its line and column.
func TestGitHubActionsSeeEveryFailure(t *testing.T) {
	t.Parallel()
	t.Run("an invalid plan", func(t *testing.T) {
		env, summary, output := actionsEnv(t)
		plan := writePlan(t, strings.NewReplacer("rate: 2000", "rate: -5", "arrival: uniform", "arrival: bursty").Replace(planFor("redis://127.0.0.1:1", "10ms")))
		inv := invoke(t, env, "run", "-c", plan)
		require.Equal(t, 2, inv.code)
		rateLine, rateCol := positionOf(t, readFile(t, plan), "-5")
		arrLine, arrCol := positionOf(t, readFile(t, plan), "bursty")
		assert.Contains(t, inv.stdout, fmt.Sprintf("::error file=%s,line=%d,col=%d,title=tailgate%%3A invalid plan::component \"cache\": workload.rate", escapeProperty(plan), rateLine, rateCol))
		assert.Contains(t, inv.stdout, fmt.Sprintf("::error file=%s,line=%d,col=%d,title=tailgate%%3A invalid plan::component \"cache\": workload.arrival \"bursty\"", escapeProperty(plan), arrLine, arrCol))
		s := readFile(t, summary)
		assert.Contains(t, s, "### tailgate: **ERROR** — invalid plan (exit 2)")
		assert.Contains(t, s, `workload.arrival "bursty" is not supported`)
		assert.Equal(t, "verdict=error\n", readFile(t, output))
	})
	t.Run("an unreachable target", func(t *testing.T) {
		env, summary, output := actionsEnv(t)
		plan := writePlan(t, planFor("redis://127.0.0.1:"+itoa(testserver.FreePort(t)), "10ms"))
		out := filepath.Join(t.TempDir(), "r.json")
		inv := invoke(t, env, "run", "-c", plan, "--out", out)
		require.Equal(t, 3, inv.code)
		assert.Contains(t, inv.stdout, "::error file="+escapeProperty(plan)+",title=tailgate run incomplete::the run did not complete")
		assert.Equal(t, 1, strings.Count(readFile(t, summary), "### tailgate:"), "one summary, not two")
		assert.Contains(t, readFile(t, summary), "### tailgate: **ERROR** — the run did not complete")
		assert.Equal(t, "verdict=error\nresult="+out+"\n", readFile(t, output))
	})
}
