package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/workloads"
)

// faultPlan is a plan for fault tests: uniform arrivals, no bars that
// timing on a busy machine could trip.
func faultPlan(target, duration, timeout, maxErrors string) string {
	return strings.NewReplacer("%T%", target, "%D%", duration, "%TO%", timeout, "%ME%", maxErrors).Replace(`version: 1
defaults: {duration: %D%, warmup: 0s}
components:
  - name: cache
    target: %T%
    workload:
      rate: 500
      arrival: uniform
      connections: 4
      timeout: %TO%
      max_error_rate: %ME%
      keys: {count: 100, prefix: "tailgate:fault:"}
      mix: {get: 50, set: 50}
    slo:
      minimum:
        all: {p50: 10s}
`)
}

func TestAServerThatDiesMidRunStopsTheRunWithAPartialResult(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	out := filepath.Join(t.TempDir(), "result.json")
	time.AfterFunc(1500*time.Millisecond, srv.Kill)
	inv := invoke(t, nil, "run", "-c", writePlan(t, faultPlan("redis://"+srv.Addr, "20s", "1s", "50%")), "--out", out)
	assert.Equal(t, 3, inv.code)
	assert.Less(t, inv.elapsed, 10*time.Second, "the run must stop within a few seconds of the death")
	assert.Contains(t, inv.stdout, "the run did not complete")
	assert.Contains(t, inv.stderr, "max_error_rate")
	res, err := result.Read(out)
	require.NoError(t, err)
	assert.False(t, res.Complete)
	assert.Equal(t, status.VerdictError, res.Verdict)
	c := res.Components[0]
	all := c.Operation("all")
	assert.Greater(t, all.Count, int64(300), "what was measured before the death is kept")
	assert.Positive(t, all.Errors)
	assert.NotEmpty(t, c.FirstErrors, "the report says what happened")
	for kind, sample := range c.FirstErrors {
		assert.Greater(t, sample.AtNS, int64(time.Second), "%s happened after the death", kind)
	}
}

func TestAHungServerCountsTimeoutsAndTheRunEndsOnTime(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	out := filepath.Join(t.TempDir(), "result.json")
	time.AfterFunc(time.Second, srv.Freeze)
	defer srv.Thaw()
	inv := invoke(t, nil, "run", "-c", writePlan(t, faultPlan("redis://"+srv.Addr, "3s", "200ms", "50%")), "--out", out)
	assert.Less(t, inv.elapsed, 6*time.Second)
	res, err := result.Read(out)
	require.NoError(t, err)
	all := res.Components[0].Operation("all")
	assert.Positive(t, all.ErrorKinds[workloads.KindTimeout], "timeouts are counted per kind: %v", all.ErrorKinds)
	assert.Greater(t, all.Count, int64(300))
	assert.Equal(t, 3, inv.code, "a run that is mostly timeouts cannot be measured")
}

func TestRefusalsForPartOfTheRunAreCountedAndConnectionsComeBack(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	out := filepath.Join(t.TempDir(), "result.json")
	// Killed at 1 s, back at 1.8 s, in that order: a kill that ends late
	// on a busy machine must not overlap the restart.
	start := time.Now()
	restarted := make(chan struct{})
	time.AfterFunc(1000*time.Millisecond, func() {
		defer close(restarted)
		srv.Kill()
		time.Sleep(time.Until(start.Add(1800 * time.Millisecond)))
		srv.Restart()
	})
	inv := invoke(t, nil, "run", "-c", writePlan(t, faultPlan("redis://"+srv.Addr, "4s", "500ms", "90%")), "--out", out)
	<-restarted
	res, err := result.Read(out)
	require.NoError(t, err)
	all := res.Components[0].Operation("all")
	assert.Equal(t, 0, inv.code, "the plan allows 90%% errors")
	assert.Positive(t, all.Errors, "refusals are counted")
	assert.Greater(t, all.Count, int64(1000), "operations succeed again after the server is back")
	ivs, err := all.IntervalHistograms()
	require.NoError(t, err)
	require.Len(t, ivs, 4)
	assert.Positive(t, ivs[3].TotalCount(), "the last second has successes: connections were re-established")
	assert.Less(t, all.LatencyNS.P50, (50 * time.Millisecond).Nanoseconds(), "errors are not recorded as latencies")
}

func TestUnwritableOutputsAreFoundBeforeLoad(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, faultPlan("redis://127.0.0.1:1", "1s", "1s", "50%"))
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for name, args := range map[string][]string{
		"--out in a missing directory": {"--out", filepath.Join(dir, "missing", "r.json")},
		"--report-dir under a file":    {"--report-dir", filepath.Join(file, "reports")},
	} {
		t.Run(name, func(t *testing.T) {
			inv := invoke(t, nil, append([]string{"run", "-c", plan}, args...)...)
			assert.Equal(t, 2, inv.code)
			assert.NotContains(t, inv.stderr, "unreachable", "no load may be attempted")
		})
	}
}

func TestInterrupts(t *testing.T) {
	t.Parallel()
	bin := buildTool(t, ".")
	srv := testserver.Redis(t)
	plan := writePlan(t, faultPlan("redis://"+srv.Addr, "60s", "30s", "50%"))
	start := func(out string) (*exec.Cmd, *strings.Builder) {
		cmd := exec.Command(bin, "run", "-c", plan, "--out", out)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		time.Sleep(1500 * time.Millisecond)
		return cmd, &stderr
	}
	exitCode := func(err error) int {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	}

	t.Run("SIGINT stops load and writes a partial result", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "result.json")
		cmd, stderr := start(out)
		sent := time.Now()
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		code := exitCode(cmd.Wait())
		t.Logf("stderr: %s", stderr)
		assert.Equal(t, 3, code)
		assert.Less(t, time.Since(sent), 5*time.Second)
		res, err := result.Read(out)
		require.NoError(t, err)
		assert.False(t, res.Complete)
		assert.Contains(t, res.Incomplete, "interrupted")
		assert.Positive(t, res.Components[0].Operation("all").Count)
	})

	t.Run("SIGTERM on a hung target still writes the partial result promptly", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "result.json")
		cmd, _ := start(out)
		srv.Freeze()
		defer srv.Thaw()
		time.Sleep(300 * time.Millisecond)
		sent := time.Now()
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		code := exitCode(cmd.Wait())
		assert.Equal(t, 3, code)
		assert.Less(t, time.Since(sent), 5*time.Second, "operations stuck for their 30s timeout must not hold the result back")
		_, err := result.Read(out)
		require.NoError(t, err)
	})

}

func TestASecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	signals := make(chan os.Signal, 2)
	canceled, exited := make(chan struct{}), make(chan int, 1)
	var stderr strings.Builder
	go handleSignals(signals, interruptNotice([]string{"run", "-c", "plan.yaml"}), func() { close(canceled) }, func(code int) { exited <- code }, &stderr)
	signals <- syscall.SIGINT
	<-canceled
	select {
	case code := <-exited:
		t.Fatalf("the first signal exited (%d) instead of stopping in order", code)
	case <-time.After(50 * time.Millisecond):
	}
	signals <- syscall.SIGTERM
	assert.Equal(t, 130, <-exited)
	assert.Contains(t, stderr.String(), "interrupt: stopping load and writing a partial result")
}
