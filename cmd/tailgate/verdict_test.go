package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

// sleepyServer answers every request after delay(n), n counting requests.
func sleepyServer(t *testing.T, delay func(n int64) time.Duration) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay(n.Add(1)))
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func constant(d time.Duration) func(int64) time.Duration {
	return func(int64) time.Duration { return d }
}

// webPlan is webPlanAt's plan of 6 s at 400/s after a 500 ms warmup, with
// extraDefaults (", confirm: 2") added to its defaults.
func webPlan(target, extraDefaults, slo string) string {
	return webPlanAt(target, "duration: 6s, warmup: 500ms"+extraDefaults, 400, slo)
}

// webPlanAt is a plan of one HTTP component, web, that sends GET / (the
// operation home) to target at rate with the given defaults (the mapping's
// content), judged by the slo block's tiers.
func webPlanAt(target, defaults string, rate int, slo string) string {
	return `version: 1
defaults: {` + defaults + `}
components:
  - name: web
    target: ` + target + `
    workload:
      rate: ` + strconv.Itoa(rate) + `
      arrival: uniform
      connections: 16
      timeout: 2s
      requests:
        - {name: home, method: GET, path: "/"}
    slo:
` + slo
}

func TestInterleavedABAgainstALiveBaseline(t *testing.T) {
	// Noise may fail an A/A comparison at the plan's 5% by design;
	// confirm: 2 lets it stand only when it fails three times running. A
	// candidate twice as slow fails at once (re-measuring a failure is
	// TestConfirmation's).
	const tier = "      regression: {home: {p50: +25%}}\n"
	tests := []struct {
		name      string
		candidate time.Duration
		confirm   string
		wantCode  int
		wantOut   string
	}{
		{"the same service on both sides passes", 3 * time.Millisecond, ", confirm: 2", 0, "regression"},
		{"a candidate twice as slow fails", 6 * time.Millisecond, "", 1, "FAIL    regression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseline := sleepyServer(t, constant(3*time.Millisecond))
			candidate := sleepyServer(t, constant(tt.candidate))
			dir := t.TempDir()
			out := filepath.Join(dir, "result.json")
			// 1 s, the least a run may last: the fewest segments (8 a
			// side) of 125 ms, 50 requests each, plenty for a p50 twice as
			// slow, or the same within a few percent.
			inv := invoke(t, nil, "run", "-c", writePlan(t, webPlan(candidate.URL, tt.confirm, tier)), "--out", out,
				"--baseline-target", "web="+baseline.URL, "--duration", "1s")
			assert.Equal(t, tt.wantCode, inv.code)
			assert.Contains(t, inv.stdout, tt.wantOut)
			base, err := result.Read(filepath.Join(dir, "result.baseline.json"))
			require.NoError(t, err, "the live baseline's result is kept beside the candidate's")
			cand, err := result.Read(out)
			require.NoError(t, err)
			for _, r := range []*result.Result{base, cand} {
				assert.Equal(t, int64(time.Second), r.MeasuredNS, "each side gets the full duration")
				assert.InDelta(t, 400, r.Components[0].Operation("home").Count, 10)
			}
			require.Len(t, cand.Components[0].Objectives, 1)
		})
	}
	t.Run("--baseline and --baseline-target exclude each other", func(t *testing.T) {
		inv := invoke(t, nil, "run", "-c", writePlan(t, webPlan("http://127.0.0.1:1", "", tier)),
			"--baseline", "x.json", "--baseline-target", "web=http://127.0.0.1:2")
		assert.Equal(t, 2, inv.code)
	})
}

// TestConfirmation is the end-to-end case of defaults.confirm: the run
// measures the failing component again and a failure that does not
// reproduce passes. Which components are measured again, how often, and
// what a reproduced failure does are gate.Confirm's, tested in gate.
func TestConfirmation(t *testing.T) {
	// Slow for the first run's 480 requests (200 ms warmup and 1 s at
	// 400/s) only: the re-measurement, past its own warmup, is fast.
	srv := sleepyServer(t, func(n int64) time.Duration {
		if n < 480 {
			return 40 * time.Millisecond
		}
		return time.Millisecond
	})
	plan := strings.Replace(webPlan(srv.URL, ", confirm: 1", "      minimum: {home: {p50: 20ms}}\n"),
		"duration: 6s, warmup: 500ms", "duration: 1s, warmup: 200ms", 1)
	out := filepath.Join(t.TempDir(), "r.json")
	inv := invoke(t, nil, "run", "-c", writePlan(t, plan), "--out", out)
	assert.Equal(t, 0, inv.code)
	assert.Contains(t, inv.stdout, "did not reproduce")
	assert.Contains(t, inv.stderr, "confirming the failure of web (1 of 1)")
	res, err := result.Read(out)
	require.NoError(t, err)
	assert.Equal(t, status.VerdictPass, res.Verdict, "the result carries the re-measurement")
	assert.Contains(t, res.Warnings, "confirmation 1 of 1: re-measured web with the same seed: the failure did not reproduce: the first measurement was noise")
}

func TestADurationBeyondTheAdaptiveLimitIsRefused(t *testing.T) {
	t.Parallel()
	plan := webPlan("http://127.0.0.1:1", ", adaptive: {max_duration: 8s}", "      regression: {home: {p50: +25%}}\n")
	inv := invoke(t, nil, "run", "-c", writePlan(t, plan), "--duration", "10s", "--out", filepath.Join(t.TempDir(), "r.json"))
	assert.Equal(t, 2, inv.code)
	assert.Contains(t, inv.stderr, `--duration "10s" is longer than the plan's defaults.adaptive.max_duration 8s`)
}

// An interleaved run whose first look cannot decide measures more segment
// pairs until it can: the candidate is twice as slow for its first two
// segments only, so after the planned 8 pairs the interval of its p50 ratio
// reaches from no change to +100%, across the +25% bar; the pairs that
// follow are alike, and the extended run passes. The result records the
// looks and why the run was extended, and the report says so.
func TestAnAdaptiveRunExtendsAnInconclusiveVerdict(t *testing.T) {
	baseline := sleepyServer(t, constant(3*time.Millisecond))
	// 800/s: a 200 ms warmup and a 125 ms segment, then a 100 ms warmup and
	// a segment, are the first 440 requests.
	candidate := sleepyServer(t, func(n int64) time.Duration {
		if n <= 440 {
			return 6 * time.Millisecond
		}
		return 3 * time.Millisecond
	})
	plan := webPlanAt(candidate.URL, "duration: 1s, warmup: 200ms, adaptive: {max_duration: 3s}", 800, "      regression: {home: {p50: +25%}}\n")
	out := filepath.Join(t.TempDir(), "result.json")
	inv := invoke(t, nil, "run", "-c", writePlan(t, plan), "--out", out, "--baseline-target", "web="+baseline.URL)
	assert.Equal(t, 0, inv.code, "stdout:\n%s\nstderr:\n%s", inv.stdout, inv.stderr)
	assert.Contains(t, inv.stderr, "tailgate: inconclusive after 1s (web home p50")
	assert.Contains(t, inv.stdout, "extended from 1s")
	res, err := result.Read(out)
	require.NoError(t, err)
	looks := res.Components[0].Looks
	require.NotNil(t, looks, "an adaptive run records its looks")
	assert.True(t, looks.Extended())
	assert.Equal(t, int64(time.Second), looks.MeasuredNS[0])
	assert.Equal(t, looks.MeasuredNS[len(looks.MeasuredNS)-1], res.MeasuredNS)
	// Up to 3 s: on a quiet machine 1.5 s decides it; on a busy one the two
	// slow first pairs can keep the interval open longer, and the run goes
	// on until it is not (that is what adaptive is for).
	assert.LessOrEqual(t, res.MeasuredNS, int64(3*time.Second))
	require.NotEmpty(t, looks.Reasons)
	assert.Contains(t, looks.Reasons[0], "web home p50")
	require.Len(t, res.Components[0].Objectives, 1)
	judged := res.Components[0].Objectives[0]
	assert.True(t, judged.Status.Judged(), "status %s", judged.Status)

	// Judged again from the files, the result gets the level of its last
	// look, so the same interval and status.
	again := t.TempDir()
	inv = invoke(t, nil, "check", "-c", writePlan(t, plan), out, "--baseline", strings.TrimSuffix(out, ".json")+".baseline.json", "--report-dir", again)
	assert.Equal(t, 0, inv.code, "stdout:\n%s\nstderr:\n%s", inv.stdout, inv.stderr)
	rejudged, err := result.Read(filepath.Join(again, "result.json"))
	require.NoError(t, err)
	require.Len(t, rejudged.Components[0].Objectives, 1)
	o := rejudged.Components[0].Objectives[0]
	assert.Equal(t, judged.Status, o.Status)
	assert.Equal(t, [2]float64{judged.IntervalLow, judged.IntervalHigh}, [2]float64{o.IntervalLow, o.IntervalHigh})
}
