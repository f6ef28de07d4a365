package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// promotePlan has one milestone any machine meets (the timeout is 5s, so a
// 4s p99 holds even on a loaded runner), one no machine meets, and one with
// no minimum yet.
const promotePlan = `# the ratchet's test plan
version: 1
defaults: {duration: 1s, warmup: 200ms, seed: 3}
components:
  - name: cache
    target: embedded:redis
    workload:
      rate: 2000
      timeout: 5s
      keys: {count: 1000, prefix: "tailgate:promote:"}
      mix: {get: 90, set: 10}
    slo:
      minimum:
        get: {p99: 4.5s}   # generous
      aspirational:
        get: {p99: 4s, p50: 1ns}
        set: {max: 4s}
`

// promoted is promotePlan after both runs earned two of its milestones on
// SOURCE_DATE_EPOCH 1795000000 (2026-11-18); the rest of the plan, its
// comments and its style stay as they were.
var promoted = strings.Replace(promotePlan, "        get: {p99: 4.5s}   # generous\n", `        # promoted 2026-11-18: get p99 4.5s -> 4s, earned by runs r1.json, r2.json
        get: {p99: 4s}   # generous
        # promoted 2026-11-18: set max (none) -> 4s, earned by runs r1.json, r2.json
        set: {max: 4s}
`, 1)

// promoteRuns soaks the embedded server twice with the plan, with two
// seeds, and returns the two result files. The tests that call it do not
// run in parallel: the 1ns milestone must be missed, not client-bound,
// and beside another run at 2000/s the runner's wake-up delays can
// exceed the server's time, which makes it client-bound.
func promoteRuns(t *testing.T, plan string) (r1, r2 string) {
	t.Helper()
	dir := t.TempDir()
	r1, r2 = filepath.Join(dir, "r1.json"), filepath.Join(dir, "r2.json")
	require.Equal(t, 0, invoke(t, nil, "run", "-c", plan, "--out", r1).code)
	require.Equal(t, 0, invoke(t, nil, "run", "-c", plan, "--out", r2, "--seed", "4").code)
	return r1, r2
}

func TestPromote(t *testing.T) {
	plan := writePlan(t, promotePlan)
	r1, r2 := promoteRuns(t, plan)
	env := map[string]string{"SOURCE_DATE_EPOCH": "1795000000"}

	t.Run("a dry run lists what would change and leaves the plan alone", func(t *testing.T) {
		inv := invoke(t, env, "promote", "-c", plan, r1, r2)
		require.Equal(t, 0, inv.code)
		assert.Contains(t, inv.stdout, "3 milestones weighed against 2 runs: r1.json, r2.json")
		assert.Contains(t, inv.stdout, "promote    cache get p99 4.5s -> 4s  ("+plan+":16:20)")
		assert.Contains(t, inv.stdout, "promote    cache set max (none) -> 4s")
		// On a loaded runner the embedded server's p50 may be client-bound
		// instead (its own time is tailgate's): either way it is not met,
		// and the line says why.
		assert.Regexp(t, `not met    cache get p50 1ns: r1\.json (measured \S+, bar 1ns|has no value of get p50 \(client-bound\)); r2\.json (measured \S+, bar 1ns|has no value of get p50 \(client-bound\))\n`, inv.stdout)
		assert.Contains(t, inv.stdout, "-  14         get: {p99: 4.5s}   # generous")
		assert.Contains(t, inv.stdout, "+  15         get: {p99: 4s}   # generous")
		assert.Contains(t, inv.stdout, "dry run: "+plan+" is unchanged")
		assert.Equal(t, promotePlan, readFile(t, plan))
	})

	t.Run("--write edits the plan in place, keeping its comments and style", func(t *testing.T) {
		require.NoError(t, os.Chmod(plan, 0o600))
		inv := invoke(t, env, "promote", "-c", plan, r1, r2, "--write")
		require.Equal(t, 0, inv.code)
		assert.Contains(t, inv.stdout, plan+": 2 minimums tightened")
		assert.Equal(t, promoted, readFile(t, plan))
		info, err := os.Stat(plan)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the plan keeps its permissions")
	})

	t.Run("promoting again changes nothing", func(t *testing.T) {
		inv := invoke(t, env, "promote", "-c", plan, r1, r2, "--write")
		require.Equal(t, 0, inv.code)
		assert.Contains(t, inv.stdout, "no change  cache get p99 4s: the minimum 4s (line 15) is already at least as tight")
		assert.Contains(t, inv.stdout, "no milestone earned")
		assert.Equal(t, promoted, readFile(t, plan))
	})

	t.Run("the promoted plan still judges the runs that earned it", func(t *testing.T) {
		assert.Equal(t, 0, invoke(t, nil, "check", "-c", plan, r1).code)
	})
}

func TestPromoteRefusesWhatIsNoEvidence(t *testing.T) {
	plan := writePlan(t, promotePlan)
	r1, r2 := promoteRuns(t, plan)
	dir := t.TempDir()

	copied := filepath.Join(dir, "copy.json")
	require.NoError(t, os.WriteFile(copied, []byte(readFile(t, r1)), 0o644))

	res, err := result.Read(r2)
	require.NoError(t, err)
	res.Complete, res.Incomplete, res.StartedAt = false, "interrupted", res.StartedAt.Add(time.Hour)
	incomplete := filepath.Join(dir, "incomplete.json")
	require.NoError(t, res.WriteFile(incomplete))

	res.Complete, res.Incomplete, res.StartedAt = true, "", res.StartedAt.Add(time.Hour)
	res.Shard = &result.Shard{Index: 1, Count: 2}
	shard := filepath.Join(dir, "shard.json")
	require.NoError(t, res.WriteFile(shard))

	otherRate := writePlan(t, strings.Replace(promotePlan, "rate: 2000", "rate: 1500", 1))
	otherPlan := writePlan(t, strings.Replace(promotePlan, "name: cache", "name: sessions", 1))
	deployment := writePlan(t, strings.Replace(promotePlan, "embedded:redis", "redis://127.0.0.1:6379/0", 1))

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no result at all is a usage error", args: []string{"promote", "-c", plan}, code: 2, want: "promote needs at least one RESULT"},
		{name: "no plan is a usage error", args: []string{"promote", r1}, code: 2, want: "no plan given"},
		{name: "the same file twice is one run", args: []string{"promote", "-c", plan, r1, r1}, code: 2, want: "given twice"},
		{name: "a copy of a run is the same run", args: []string{"promote", "-c", plan, r1, copied}, code: 2, want: "are the same run"},
		{name: "a shard carried only part of the load", args: []string{"promote", "-c", plan, shard}, code: 2, want: "shard 1/2"},
		{name: "a run of another workload is no evidence", args: []string{"promote", "-c", otherRate, r1}, code: 2, want: "ran another workload than the plan asks now (rate differ)"},
		{name: "a run of another plan is no evidence", args: []string{"promote", "-c", otherPlan, r1}, code: 2, want: `no component "sessions"`},
		{name: "a run of the embedded server is no evidence for a deployment", args: []string{"promote", "-c", deployment, r1}, code: 2, want: "embedded server"},
		{name: "an incomplete run earns nothing", args: []string{"promote", "-c", plan, r1, incomplete, "--write"}, code: 0, want: "incomplete.json is incomplete (interrupted)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := invoke(t, nil, tt.args...)
			assert.Equal(t, tt.code, inv.code)
			assert.Contains(t, inv.stdout+inv.stderr, tt.want)
		})
	}
	assert.Equal(t, promotePlan, readFile(t, plan), "nothing was promoted")
}

func TestPromoteNamesRunsOfTheSameFileName(t *testing.T) {
	plan := writePlan(t, promotePlan)
	r1, r2 := promoteRuns(t, plan)
	a, b := filepath.Join(t.TempDir(), "result.json"), filepath.Join(t.TempDir(), "result.json")
	require.NoError(t, os.Rename(r1, a))
	require.NoError(t, os.Rename(r2, b))
	inv := invoke(t, map[string]string{"SOURCE_DATE_EPOCH": "1795000000"}, "promote", "-c", plan, a, b, "--write")
	require.Equal(t, 0, inv.code)
	assert.Regexp(t, `earned by runs result\.json \(20\d\d-\d\d-\d\dT[0-9:]+Z\), result\.json \(20\d\d-`, readFile(t, plan))
}

func TestPromoteRejectsABadClock(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, promotePlan)
	inv := invoke(t, map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, "promote", "-c", plan, "r.json")
	assert.Equal(t, 2, inv.code)
	assert.Contains(t, inv.stderr, `SOURCE_DATE_EPOCH "yesterday"`)
}

// TestValidateWarnsAboutBarsPromoteCannotUse checks the lint promote relies
// on: a milestone looser than its minimum, and (errors, not warnings) an
// objective on an operation the workload never issues and a percentile the
// planned samples cannot estimate.
func TestValidateWarnsAboutBarsPromoteCannotUse(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, `version: 1
defaults: {duration: 60s}
components:
  - name: cache
    target: embedded:redis
    workload:
      rate: 2000
      mix: {get: 100, set: 0}
    slo:
      minimum:
        get: {p99: 2ms}
        set: {p99: 3ms}
      aspirational:
        get: {p99: 5ms}
`)
	inv := invoke(t, nil, "validate", "-c", plan)
	assert.Equal(t, 2, inv.code)
	assert.Contains(t, inv.stderr, plan+`:12:9: component "cache": slo.minimum: operation "set" has weight 0 in workload.mix, so the workload never issues it`)

	plan = writePlan(t, strings.Replace(readFile(t, plan), "        set: {p99: 3ms}\n", "", 1))
	inv = invoke(t, nil, "validate", "-c", plan)
	assert.Equal(t, 0, inv.code)
	assert.Contains(t, inv.stdout, plan+`:13:20: warning: component "cache": aspirational get p99 5ms is not tighter than the minimum 2ms (line 11)`)
	assert.Contains(t, inv.stdout, plan+`:11:20: warning: component "cache": minimum latency bars but no error_rate bar`)
	assert.Contains(t, inv.stdout, "2 warnings")

	short := writePlan(t, strings.NewReplacer("get: {p99: 5ms}", "get: {p99.99: 1ms}", "duration: 60s", "duration: 10s").Replace(readFile(t, plan)))
	inv = invoke(t, nil, "validate", "-c", short)
	assert.Equal(t, 2, inv.code)
	assert.Contains(t, inv.stderr, short+`:13:23: component "cache": get p99.99 needs at least 100000 samples`)
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	before := "a\nb\nc\nd\n"
	after := "a\n# new\nB\nc\nd\ne\n"
	assert.Equal(t, []string{"-   2 b", "+   2 # new", "+   3 B", "+   6 e"}, lineDiff(before, after))
	assert.Empty(t, lineDiff(before, before))
}
