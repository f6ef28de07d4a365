package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/capacity"
	"github.com/tailgate-dev/tailgate/slo"
)

// kneeServer is an HTTP server on loopback whose service time grows
// sharply past a known rate: it answers at once while at most perSecond a
// second arrived in the last 200ms, and only after 50ms, as an overloaded
// server would, once more did. A client's late sends (a stall of the
// shared runner, then the catch-up) move few requests into a window of
// 200ms, so noise barely moves the knee: it is at perSecond, sharp from
// both sides.
func kneeServer(t *testing.T, perSecond float64) string {
	t.Helper()
	const window = 200 * time.Millisecond
	most := int(perSecond * window.Seconds())
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			return // tailgate's check of a new connection, not load
		}
		mu.Lock()
		now := time.Now()
		arrivals = append(arrivals, now)
		drop := 0
		for drop < len(arrivals) && now.Sub(arrivals[drop]) > window {
			drop++
		}
		arrivals = arrivals[drop:]
		overloaded := len(arrivals) > most
		mu.Unlock()
		if overloaded {
			time.Sleep(50 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const capacityPlan = `version: 1
defaults: {seed: 3}
components:
  - name: web
    target: %TARGET%/
    workload:
      rate: 300
      arrival: uniform
      connections: 16
      timeout: 2s
      requests: [{name: hit, method: GET, path: /}]
    capacity: {max_rate: 2400, max_probes: 16, max_duration: 60s, probe_duration: 400ms, probe_warmup: 100ms}
    slo:
      minimum:
        all: {p50: 20ms, error_rate: 1%, capacity: 450/s}
`

func TestCapacityFindsTheKneeOfARealServer(t *testing.T) {
	const knee = 500.0
	dir := t.TempDir()
	plan := writePlan(t, strings.ReplaceAll(capacityPlan, "%TARGET%", kneeServer(t, knee)))
	out, page := filepath.Join(dir, "capacity.json"), filepath.Join(dir, "capacity.html")
	inv := invoke(t, nil, "capacity", "-c", plan, "--out", out, "--html", page, "--precision", "5%")
	require.Equal(t, 0, inv.code)

	f, err := capacity.Read(out)
	require.NoError(t, err)
	c := f.Component("web")
	require.NotNil(t, c)
	assert.Equal(t, capacity.StopPrecision, c.Stop, c.Detail)
	// The capacity is within the precision asked of the knee, and the
	// bracket no wider.
	assert.GreaterOrEqual(t, c.CapacityRate, knee/1.05, "capacity %v/s", c.CapacityRate)
	assert.LessOrEqual(t, c.CapacityRate, knee*1.05, "capacity %v/s", c.CapacityRate)
	assert.LessOrEqual(t, c.UpperRate, c.CapacityRate*1.05)
	assert.Equal(t, "pass", string(c.Objectives[0].Status), "capacity: 450/s")
	for _, p := range c.Probes {
		assert.NotEqual(t, capacity.ProbeClientBound, p.Verdict, "the generator must not be the limit at %v/s", p.Rate)
	}
	assert.Contains(t, inv.stdout, "capacity: "+capacity.Bracket(c))
	assert.Contains(t, inv.stdout, "tailgate capacity: PASS")
	assert.Contains(t, inv.stderr, "tailgate: capacity of web: 300/s")
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(html), `class="capacity"`)
	assert.Contains(t, string(html), "all p50 20ms")

	// The regression against this search as the baseline, with a probe
	// each: a server whose knee is 10% higher holds 96% of the most the
	// baseline's bracket allows (the bar is 95% of it, as both brackets
	// count); one that fails below 95% of the baseline's capacity is a
	// regression. The passing probe stays well below its server's knee: the
	// baseline's capacity itself lies within 5% of the baseline server's
	// knee, where probing again is a coin toss.
	withRegression := strings.Replace(capacityPlan, "        all: {p50: 20ms, error_rate: 1%, capacity: 450/s}\n",
		"        all: {p50: 20ms, error_rate: 1%}\n      regression:\n        all: {capacity: -5%}\n", 1)
	require.NotEqual(t, capacityPlan, withRegression)
	for _, tt := range []struct {
		server, rate float64
		code         int
		status       string
	}{{server: 1.1 * knee, rate: 0.96 * c.UpperRate, code: 0, status: "pass"}, {server: 0.8 * knee, rate: 0.9 * knee, code: 1, status: "fail"}} {
		plan := writePlan(t, strings.ReplaceAll(withRegression, "%TARGET%", kneeServer(t, tt.server)))
		again := filepath.Join(dir, "again.json")
		r := rate(tt.rate)
		inv := invoke(t, nil, "capacity", "-c", plan, "--out", again, "--baseline", out, "--min", r, "--max", r)
		assert.Equal(t, tt.code, inv.code)
		f, err := capacity.Read(again)
		require.NoError(t, err)
		require.Len(t, f.Components[0].Objectives, 1)
		assert.Equal(t, tt.status, string(f.Components[0].Objectives[0].Status), f.Components[0].Objectives[0].Detail)
		assert.Equal(t, out, f.Baseline)
	}
}

func TestAnInterruptedSearchWritesWhatItFound(t *testing.T) {
	dir := t.TempDir()
	plan := writePlan(t, strings.ReplaceAll(capacityPlan, "%TARGET%", kneeServer(t, 500)))
	out := filepath.Join(dir, "capacity.json")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"capacity", "-c", plan, "--out", out}, environment{stdout: &stdout, stderr: &stderr,
		lookupEnv: func(string) (string, bool) { return "", false }, getenv: func(string) string { return "" }})
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Equal(t, 3, code)
	f, err := capacity.Read(out)
	require.NoError(t, err)
	assert.True(t, f.Interrupted)
	assert.False(t, f.Complete)
	assert.Equal(t, "error", string(f.Verdict))
	assert.Equal(t, capacity.StopInterrupted, f.Components[0].Stop)
	assert.Contains(t, stdout.String(), "interrupted: what was found so far")
}

func TestCapacityRefusesWhatItCannotSearch(t *testing.T) {
	t.Parallel()
	noBars := strings.Replace(capacityPlan, "all: {p50: 20ms, error_rate: 1%, capacity: 450/s}", "all: {capacity: 450/s}", 1)
	tests := []struct {
		name string
		plan string
		args []string
		code int // 2 refused before load; 3 searched, and the file written
		want string
	}{
		{"a component with no bar to hold", noBars, nil, 2, "has no minimum objective (but capacity)"},
		{"an unknown component", capacityPlan, []string{"--component", "nope"}, 2, `--component "nope" is not in the plan; its components: web`},
		{"a bad rate", capacityPlan, []string{"--min", "fast"}, 2, `--min "fast": want a rate`},
		{"a highest rate below the lowest", capacityPlan, []string{"--min", "5000", "--max", "100"}, 2, "must be at least the lowest"},
		{"a foreign baseline", capacityPlan, []string{"--baseline", "plan"}, 2, "--baseline: capacity file"},
		{"an unreachable target could not be measured", capacityPlan, nil, 3, "target unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := writePlan(t, strings.ReplaceAll(tt.plan, "%TARGET%", "http://127.0.0.1:1"))
			out := filepath.Join(t.TempDir(), "c.json")
			args := []string{"capacity", "-c", plan, "--out", out}
			for _, a := range tt.args {
				if a == "plan" {
					a = plan
				}
				args = append(args, a)
			}
			inv := invoke(t, nil, args...)
			assert.Equal(t, tt.code, inv.code)
			if tt.code == 3 {
				f, err := capacity.Read(out)
				require.NoError(t, err, "the file is written")
				assert.False(t, f.Complete)
				assert.Equal(t, capacity.StopError, f.Components[0].Stop)
			}
			assert.Contains(t, inv.stderr, tt.want)
		})
	}
}

func TestTheRateFlagsReadThePlansRates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		want  float64 // 0: refused
	}{
		{"a bare number is a rate, as the help says", "30000", 30000},
		{"a rate as the plan writes it", "30000/s", 30000},
		{"a fraction of a rate", "2.5/s", 2.5},
		{"no rate is refused", "0", 0},
		{"a word is refused", "fast", 0},
		{"an exponent, which the plan does not read, is refused", "1e4", 0},
		{"a hexadecimal number is refused", "0x10", 0},
		{"a sign is refused", "+30000", 0},
		{"a rate per minute is refused", "30000/m", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRateFlag("min", tt.value)
			if tt.want == 0 {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `--min "`+tt.value+`": want a rate more than 0`)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			plan, err := slo.ParseRate(strings.TrimSuffix(tt.value, "/s") + "/s")
			require.NoError(t, err, "the plan reads the rate the flag reads")
			assert.Equal(t, plan, got, "the flag and the plan read the same rate")
		})
	}
}
