package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// githubPlan fails on purpose: no server answers a get within 1us, and no
// operation takes 1ns. Its target is a Redis behind a 1 ms proxy
// (slowRedis), so that the bar is the target's miss whatever the runner.
const githubPlan = `version: 1
defaults: {duration: 1s, warmup: 200ms, seed: 5}
components:
  - name: cache
    target: %TARGET%
    workload:
      rate: 2000
      arrival: uniform
      connections: 8
      keys: {count: 1000, prefix: "tailgate:gh:"}
      mix: {get: 90, set: 10}
    slo:
      minimum:
        get: {p99: 1us}
        all: {error_rate: 50%}
      aspirational:
        get: {max: 1ns}
`

// positionOf returns the 1-based line and column of the first occurrence
// of needle in text, as an annotation names it.
func positionOf(t *testing.T, text, needle string) (line, col int) {
	t.Helper()
	i := strings.Index(text, needle)
	require.GreaterOrEqual(t, i, 0, "%q not in the plan", needle)
	before := text[:i]
	return strings.Count(before, "\n") + 1, i - strings.LastIndex(before, "\n")
}

// actionsEnv is the environment of a GitHub Actions step, with the summary
// and output files in a temp dir; the summary already holds an earlier
// step's text, which must stay.
func actionsEnv(t *testing.T) (env map[string]string, summary, output string) {
	t.Helper()
	dir := t.TempDir()
	summary, output = filepath.Join(dir, "summary.md"), filepath.Join(dir, "output")
	require.NoError(t, os.WriteFile(summary, []byte("earlier step\n"), 0o644))
	return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": output}, summary, output
}

func TestGitHubActions(t *testing.T) {
	t.Parallel()
	slow, _ := slowRedis(t, time.Millisecond)
	text := strings.Replace(githubPlan, "%TARGET%", slow, 1)
	plan := writePlan(t, text)
	barLine, barCol := positionOf(t, text, "1us")
	maxLine, maxCol := positionOf(t, text, "1ns")
	wantError := fmt.Sprintf("::error file=%s,line=%d,col=%d,title=cache get p99::", escapeProperty(plan), barLine, barCol)
	wantWarning := fmt.Sprintf("::warning file=%s,line=%d,col=%d,title=cache get max::aspirational milestone missed: ", escapeProperty(plan), maxLine, maxCol)
	resultFile := filepath.Join(t.TempDir(), "result.json")
	reportDir := filepath.Join(t.TempDir(), "report")

	t.Run("run appends the summary, writes the outputs and annotates the missed bars", func(t *testing.T) {
		env, summary, output := actionsEnv(t)
		inv := invoke(t, env, "run", "-c", plan, "--out", resultFile, "--report-dir", reportDir)
		require.Equal(t, 1, inv.code, "a 1us bar fails")

		assert.Contains(t, inv.stdout, wantError)
		assert.Regexp(t, `::error [^\n]*title=cache get p99::\S+ vs bar 1us \(margin \+[0-9.]+%25\) \[minimum\]\n`, inv.stdout)
		assert.Contains(t, inv.stdout, wantWarning)
		assert.Equal(t, 1, strings.Count(inv.stdout, "::error "), "only the failed objective is an error")
		assert.Equal(t, 1, strings.Count(inv.stdout, "::warning "))

		s := readFile(t, summary)
		assert.True(t, strings.HasPrefix(s, "earlier step\n"), "the summary is appended to, not replaced")
		assert.Contains(t, s, "### tailgate: **FAIL**")
		assert.Equal(t, "verdict=fail\nresult="+resultFile+"\nreport-dir="+reportDir+"\n", readFile(t, output))
	})

	t.Run("check of the saved result does the same, pointing result at the report directory", func(t *testing.T) {
		env, summary, output := actionsEnv(t)
		checkDir := filepath.Join(t.TempDir(), "check-report")
		inv := invoke(t, env, "check", "-c", plan, resultFile, "--report-dir", checkDir)
		require.Equal(t, 1, inv.code)
		assert.Contains(t, inv.stdout, wantError)
		assert.Contains(t, inv.stdout, wantWarning)
		assert.Contains(t, readFile(t, summary), "### tailgate: **FAIL**")
		assert.Equal(t, "verdict=fail\nresult="+filepath.Join(checkDir, "result.json")+"\nreport-dir="+checkDir+"\n", readFile(t, output))
		_, err := result.Read(filepath.Join(checkDir, "result.json"))
		assert.NoError(t, err, "the result output names a result file")
	})

	t.Run("check without a report directory writes the verdict alone", func(t *testing.T) {
		env, _, output := actionsEnv(t)
		inv := invoke(t, env, "check", "-c", plan, resultFile)
		require.Equal(t, 1, inv.code)
		assert.Equal(t, "verdict=fail\n", readFile(t, output))
	})

	t.Run("a passing check says pass and annotates nothing", func(t *testing.T) {
		env, summary, output := actionsEnv(t)
		lenient := writePlan(t, strings.Replace(strings.Replace(text, "1us", "10s", 1), "max: 1ns", "max: 10s", 1))
		inv := invoke(t, env, "check", "-c", lenient, resultFile)
		require.Equal(t, 0, inv.code)
		assert.NotContains(t, inv.stdout, "::")
		assert.Contains(t, readFile(t, summary), "**PASS**")
		assert.Equal(t, "verdict=pass\n", readFile(t, output))
	})

	t.Run("outside GitHub Actions none of it happens", func(t *testing.T) {
		env, summary, output := actionsEnv(t)
		delete(env, "GITHUB_ACTIONS")
		inv := invoke(t, env, "check", "-c", plan, resultFile)
		require.Equal(t, 1, inv.code)
		assert.NotContains(t, inv.stdout, "::")
		assert.Equal(t, "earlier step\n", readFile(t, summary))
		assert.NoFileExists(t, output)
	})
}

func TestWorkflowCommandEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, data, property string
	}{
		{in: "plain", data: "plain", property: "plain"},
		{in: "100% sure", data: "100%25 sure", property: "100%25 sure"},
		{in: "two\r\nlines", data: "two%0D%0Alines", property: "two%0D%0Alines"},
		{in: "a:b,c", data: "a:b,c", property: "a%3Ab%2Cc"},
		{in: "%0A is not a newline", data: "%250A is not a newline", property: "%250A is not a newline"},
		{in: "::error::injected", data: "::error::injected", property: "%3A%3Aerror%3A%3Ainjected"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.data, escapeData(tt.in))
			assert.Equal(t, tt.property, escapeProperty(tt.in))
		})
	}
	t.Run("a message with a newline stays one command", func(t *testing.T) {
		var b bytes.Buffer
		workflowCommand(&b, "error", [][2]string{{"file", "plans/a,b.yaml"}, {"title", "c: get"}}, "line one\nline two")
		assert.Equal(t, "::error file=plans/a%2Cb.yaml,title=c%3A get::line one%0Aline two\n", b.String())
	})
}

func TestStepOutputs(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	writeOutput(&b, "verdict", "pass")
	assert.Equal(t, "verdict=pass\n", b.String())

	b.Reset()
	writeOutput(&b, "result", "odd\nname.json")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 4, "a value with a newline is written as a heredoc")
	delimiter := strings.TrimPrefix(lines[0], "result<<")
	assert.True(t, strings.HasPrefix(delimiter, "ghadelimiter_"))
	assert.Equal(t, []string{"odd", "name.json", delimiter}, lines[1:])
}

func TestAnnotationPath(t *testing.T) {
	t.Parallel()
	workspace := t.TempDir()
	env := func(ws string) func(string) string {
		return func(k string) string {
			if k == "GITHUB_WORKSPACE" {
				return ws
			}
			return ""
		}
	}
	assert.Equal(t, "plans/perf.yaml", annotationPath(filepath.Join(workspace, "plans", "perf.yaml"), env(workspace)),
		"a plan in the checkout is named relative to it")
	assert.Equal(t, "/elsewhere/perf.yaml", annotationPath("/elsewhere/perf.yaml", env(workspace)), "outside the checkout it stays absolute")
	assert.Equal(t, "plans/perf.yaml", annotationPath("plans/perf.yaml", env("")), "without a workspace the path is kept")
}

func TestAnnotationsOfEveryKindOfMiss(t *testing.T) {
	t.Parallel()
	res := &result.Result{Verdict: status.VerdictError, Complete: false, Incomplete: "interrupted",
		Components: []result.ComponentResult{{Name: "api", Objectives: []status.ObjectiveResult{
			{Tier: "minimum", Operation: "get", Metric: "p99", Threshold: "2ms", Measured: "2.5ms", Margin: 0.25, Status: status.Fail, Line: 10, Column: 19},
			{Tier: "regression", Operation: "get", Metric: "p99", Threshold: "+10%", Measured: "1.3ms", Baseline: "1.1ms", Margin: 0.182, Status: status.Fail, Line: 14, Column: 19},
			{Tier: "minimum", Operation: "all", Metric: "throughput", Threshold: "99%", Measured: "95% (4750/s)", Margin: 0.0404, Status: status.Fail, Line: 11, Column: 40},
			{Tier: "minimum", Operation: "set", Metric: "p99.9", Threshold: "5ms", Measured: "900 samples", Status: status.Insufficient, Detail: "p99.9 needs at least 10000 successful samples, the run has 900", Line: 12, Column: 21},
			{Tier: "aspirational", Operation: "get", Metric: "p99", Threshold: "1ms", Measured: "2.5ms", MeasuredValue: 2.5e6, Margin: 1.5, Status: status.Missed, Line: 13, Column: 19},
			{Tier: "aspirational", Operation: "get", Metric: "max", Threshold: "1s", Measured: "20ms", MeasuredValue: 2e7, Margin: -0.98, Status: status.Met, Line: 13, Column: 30},
			{Tier: "minimum", Operation: "all", Metric: "error_rate", Threshold: "1%", Measured: "0%", Margin: -1, Status: status.Pass, Line: 11, Column: 20},
		}}}}
	var b bytes.Buffer
	writeAnnotations(&b, "perf.yaml", res)
	// A % in a message is escaped as %25; the runner shows it as %.
	want := `::error file=perf.yaml,title=tailgate run incomplete::the run did not complete: interrupted
::error file=perf.yaml,line=10,col=19,title=api get p99::2.5ms vs bar 2ms (margin +25%25) [minimum]
::error file=perf.yaml,line=14,col=19,title=api get p99::1.3ms vs bar baseline 1.1ms +10%25 (change +18.2%25) [regression]
::error file=perf.yaml,line=11,col=40,title=api all throughput::95%25 (4750/s) vs bar 99%25 (margin +4%25) [minimum]
::error file=perf.yaml,line=12,col=21,title=api set p99.9::could not be judged: p99.9 needs at least 10000 successful samples, the run has 900 [minimum]
::warning file=perf.yaml,line=13,col=19,title=api get p99::aspirational milestone missed: 2.5ms vs bar 1ms (margin +150%25) [aspirational]
`
	assert.Equal(t, want, b.String())
}

func TestGitHubActionsNeverShowSecrets(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-gh-secret"
	lookup := func(k string) (string, bool) {
		if k == "PW" {
			return secret, true
		}
		return "", false
	}
	p, err := slo.ParseWithEnv([]byte(`version: 1
defaults: {duration: 60s}
components:
  - name: cache
    target: redis://:${PW}@127.0.0.1:1
    workload: {rate: 100}
    slo:
      minimum:
        all: {error_rate: 1%}
`), "plan.yaml", lookup)
	require.NoError(t, err)
	res := &result.Result{Schema: result.Schema, Verdict: status.VerdictError, Incomplete: "dial redis://:" + secret + "@127.0.0.1:1: refused",
		Components: []result.ComponentResult{{Name: "cache", Target: "redis://:" + secret + "@127.0.0.1:1", Objectives: []status.ObjectiveResult{
			{Tier: "minimum", Operation: "all", Metric: "error_rate", Threshold: "1%", Measured: secret, Status: status.Fail, Line: 9, Column: 27},
		}}}}
	envVars, summary, output := actionsEnv(t)
	var stdout, stderr bytes.Buffer
	env := environment{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return envVars[k] }, lookupEnv: lookup}
	githubActions(env, p, res, filepath.Join(t.TempDir(), "r.json"), "")
	assert.Contains(t, stdout.String(), "::error file=plan.yaml,line=9,col=27,title=cache all error_rate::")
	for name, text := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "summary": readFile(t, summary), "outputs": readFile(t, output)} {
		assert.NotContains(t, text, secret, name)
	}
}
