package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// built holds the commands the tests have compiled, once per test binary:
// a command runs as a process, so tests can share it, and each build of it
// would link it anew.
var built struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// buildTool compiles one of the repository's commands (a path relative to
// this directory, "." for tailgate) for the tests, once.
func buildTool(t *testing.T, pkg string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if bin, ok := built.bins[pkg]; ok {
		return bin
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "tailgate-test-bin-")
		require.NoError(t, err)
		built.dir, built.bins = dir, map[string]string{}
	}
	name := filepath.Base(pkg)
	if pkg == "." {
		name = "tailgate"
	}
	bin := filepath.Join(built.dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	outp, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, outp)
	built.bins[pkg] = bin
	return bin
}

// TestMain removes the commands the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// pinned prefixes a command with taskset pinning it to cpu, or leaves it
// as is when cpu is empty.
func pinned(cpu string, name string, args ...string) *exec.Cmd {
	if cpu == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpu, name}, args...)...)
}

// startServer starts a bench server binary (fastserver or slowserver) on
// loopback and returns its HTTP URL; it stops when the test ends.
func startServer(t *testing.T, cpu, bin string, args ...string) string {
	t.Helper()
	cmd := pinned(cpu, bin, args...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	addr := strings.TrimPrefix(strings.TrimSpace(line), "http ")
	return "http://" + addr
}

// busyLoops starts n shell busy loops (pinned to cpu unless empty) and
// returns what stops them; they stop when the test ends at the latest.
func busyLoops(t *testing.T, n int, cpu string) (stop func()) {
	t.Helper()
	var cmds []*exec.Cmd
	for range n {
		cmd := pinned(cpu, "sh", "-c", "while :; do :; done")
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

// runBinary runs the tailgate binary (pinned to cpu unless empty) and
// returns its exit status and output.
func runBinary(t *testing.T, cpu, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := pinned(cpu, bin, args...)
	outp, err := cmd.CombinedOutput()
	t.Logf("tailgate %s\n%s", strings.Join(args, " "), outp)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(outp)
	}
	require.NoError(t, err)
	return 0, string(outp)
}

func loadTestPlan(target string, rate, connections int, sloBlock string) string {
	return `version: 1
defaults: {duration: 2s, warmup: 300ms, seed: 1}
components:
  - name: web
    target: ` + target + `
    workload:
      rate: ` + strconv.Itoa(rate) + `
      arrival: poisson
      connections: ` + strconv.Itoa(connections) + `
      timeout: 2s
      requests:
        - {name: home, method: GET, path: "/"}
    slo:
` + sloBlock
}

// logFloor records what a result's figures were, for the reader of -v.
func logFloor(t *testing.T, label string, res *result.Result) {
	t.Helper()
	all := res.Components[0].Operation("all")
	d := func(ns int64) string { return slo.FormatDuration(time.Duration(ns)) }
	line := fmt.Sprintf("%s: late %d of %d", label, all.Late, all.Count)
	if all.ClientDelayNS != nil {
		line += fmt.Sprintf(", client delay p50/p99 %s/%s", d(all.ClientDelayNS.P50), d(all.ClientDelayNS.P99))
	}
	line += fmt.Sprintf(", latency p50/p99 %s/%s, service p50/p99 %s/%s",
		d(all.LatencyNS.P50), d(all.LatencyNS.P99), d(all.ServiceNS.P50), d(all.ServiceNS.P99))
	if r := res.Runner; r != nil {
		line += fmt.Sprintf(", runner wake-up p50/p99 %s/%s, CPU probe p50 %s", d(r.WakeupNS.P50), d(r.WakeupNS.P99), d(r.CPUProbeNS.P50))
		if r.CPUPressure != nil {
			line += fmt.Sprintf(", CPU pressure %.1f%%", *r.CPUPressure*100)
		}
		if r.CPUSteal != nil {
			line += fmt.Sprintf(", steal %.1f%%", *r.CPUSteal*100)
		}
	}
	for _, o := range res.Components[0].Objectives {
		line += fmt.Sprintf("; %s %s %s %s %s", o.Operation, o.Metric, o.Measured, o.Status, o.Detail)
	}
	t.Log(line)
}

// A generator starved of CPU (tailgate pinned to one CPU with two busy
// loops, the server on the other) cannot send on time: a fast server's
// missed bar is client-bound (exit 3, naming the delay and the remedies),
// while a server slower than the bar at the same rate still fails.
func TestAStarvedGeneratorIsClientBoundButASlowServerStillFails(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs: one for tailgate and the busy loops, one for the server")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("needs taskset (util-linux)")
	}
	tailgate := buildTool(t, ".")
	fast := startServer(t, "1", buildTool(t, "../../bench/fastserver"), "-http", "127.0.0.1:0", "-grpc", "127.0.0.1:0")
	slow := startServer(t, "1", buildTool(t, "../../bench/slowserver"), "-median", "10ms")
	const bar = "      minimum: {home: {p99: 5ms}}\n"
	tests := []struct {
		name        string
		target      string
		connections int
		code        int
		status      status.Status
	}{
		{"a fast server behind a starved generator is client-bound", fast, 16, 3, status.ClientBound},
		{"a server slower than the bar fails at the same rate", slow, 128, 1, status.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "result.json")
			plan := writePlan(t, loadTestPlan(tt.target, 5000, tt.connections, bar))
			stop := busyLoops(t, 2, "0")
			code, output := runBinary(t, "0", tailgate, "run", "-c", plan, "--out", out)
			stop()
			res, err := result.Read(out)
			require.NoError(t, err)
			logFloor(t, tt.name, res)
			assert.Equal(t, tt.code, code)
			o := res.Components[0].Objectives[0]
			assert.Equal(t, tt.status, o.Status, o.Detail)
			assert.Positive(t, o.FloorNS)
			assert.Contains(t, output, "measurement floor of \"web\"")
			if tt.status == status.ClientBound {
				assert.Contains(t, output, "client delay")
				assert.Contains(t, output, "lower the rate, add connections")
			}
		})
	}
}

// Against a stored baseline, runner noise that differs between the two
// runs is the confounder: busy loops beside one run only. A/A with them
// beside the candidate must not fail; +30% with them beside the baseline
// must not pass; +30% between two quiet runs still fails (a pair whose
// runners differed anyway, on a shared machine, is measured again). Three
// runs make the three pairs: A quiet, A beside busy loops and B (+30%)
// quiet, each pair judged by check as run would have judged it.
func TestRunnerNoiseBetweenABaselineAndACandidate(t *testing.T) {
	slowserver := buildTool(t, "../../bench/slowserver")
	// The runs are the tailgate command a pipeline runs, built without the
	// race detector: one instrumented inside the test process, beside the
	// server on two CPUs, slowed it as much as busy loops do (quiet runs
	// read 9–25% CPU pressure and a median of up to 5.9 ms for 2.6 ms).
	tailgate := buildTool(t, ".")
	a := startServer(t, "", slowserver, "-median", "2ms")
	b := startServer(t, "", slowserver, "-median", "2.6ms")
	const tier = "      regression: {home: {p50: +10%, p99: +10%}}\n"
	plan := writePlan(t, loadTestPlan(a, 1500, 32, tier))
	dir := t.TempDir()
	runs := 0
	// measure runs the plan against target, beside two busy loops when
	// busy, and returns its result file.
	measure := func(t *testing.T, target string, busy bool) string {
		t.Helper()
		runs++
		out := filepath.Join(dir, fmt.Sprintf("run-%d.json", runs))
		stop := func() {}
		if busy {
			stop = busyLoops(t, 2, "")
		}
		runBinary(t, "", tailgate, "run", "-c", plan, "--target", "web="+target, "--out", out)
		stop()
		res, err := result.Read(out)
		require.NoError(t, err)
		logFloor(t, fmt.Sprintf("run %d (%s, busy loops %t)", runs, target, busy), res)
		return out
	}
	quietA, busyA, quietB := measure(t, a, false), measure(t, a, true), measure(t, b, false)
	// judge judges cand against base and returns the exit status and the
	// judged result.
	judge := func(t *testing.T, base, cand string) (int, *result.Result) {
		t.Helper()
		reports := t.TempDir()
		inv := invoke(t, nil, "check", "-c", plan, cand, "--baseline", base, "--report-dir", reports)
		res, err := result.Read(filepath.Join(reports, "result.json"))
		require.NoError(t, err)
		logFloor(t, "candidate "+filepath.Base(cand)+" against "+filepath.Base(base), res)
		return inv.code, res
	}
	t.Run("A/A with busy loops beside the candidate only does not fail", func(t *testing.T) {
		code, res := judge(t, quietA, busyA)
		assert.NotEqual(t, 1, code)
		for _, o := range res.Components[0].Objectives {
			assert.NotEqual(t, status.Fail, o.Status, o.Detail)
		}
	})
	t.Run("+30% with busy loops beside the baseline only does not pass", func(t *testing.T) {
		code, res := judge(t, busyA, quietB)
		assert.NotEqual(t, 0, code)
		assert.NotEqual(t, status.VerdictPass, res.Verdict)
	})
	t.Run("+30% between two quiet runs fails", func(t *testing.T) {
		code, res := judge(t, quietA, quietB)
		// Two quiet runs are what this case is about; on a machine that
		// other work shares, the runners of two runs can differ all the
		// same, and the gate rightly says so, or one run's noise can widen
		// its interval across the tolerance (seen: +13% measured, within
		// [+7.8%, +19.1%], on a runner whose wake-ups reached 1.7 ms at
		// p99), and the gate rightly calls it inconclusive. Such a pair is
		// not the case under test: a pair that did not fail for being
		// inconclusive is measured again, up to twice. A gate that could
		// not tell +30% would still be inconclusive then.
		// When every pair ran on a busy runner (its contention, CPU
		// pressure plus steal, at least gate.MaterialContention: quiet
		// runs read 5.9-8.0%), the premise of two quiet runs never held and
		// the gate's inconclusive is the right verdict: the case is
		// skipped, saying so. A quiet last pair must fail.
		base, cand := quietA, quietB
		for again := 0; again < 2 && code == 3 && inconclusiveIn(res); again++ {
			t.Log("the pair was inconclusive: not two quiet runs; measuring the pair again")
			base, cand = measure(t, a, false), measure(t, b, false)
			code, res = judge(t, base, cand)
		}
		if code == 3 && inconclusiveIn(res) {
			if busy := busyRunners(t, base, cand); busy != "" {
				t.Skipf("no two quiet runs on this machine in three pairs (the last: %s), and the gate rightly left each inconclusive", busy)
			}
		}
		assert.Equal(t, 1, code)
	})
}

// busyRunners names the results among paths whose runner's contention
// (CPU pressure plus steal) was at least gate.MaterialContention, with
// their figures; empty when none was, or none records one.
func busyRunners(t *testing.T, paths ...string) string {
	t.Helper()
	var busy []string
	for _, p := range paths {
		res, err := result.Read(p)
		require.NoError(t, err)
		if c, ok := res.Runner.Contention(res.Runner); ok && c >= gate.MaterialContention {
			busy = append(busy, fmt.Sprintf("%s %s", filepath.Base(p), gate.FormatPercent(c)))
		}
	}
	return strings.Join(busy, ", ")
}

// inconclusiveIn is whether an objective of res was left inconclusive:
// by its runner's difference from the baseline's, or by an interval across
// the tolerance.
func inconclusiveIn(res *result.Result) bool {
	for _, o := range res.Components[0].Objectives {
		if o.Status == status.Inconclusive {
			return true
		}
	}
	return false
}
