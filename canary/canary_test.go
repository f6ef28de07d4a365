package canary_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/canary"
	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	_ "github.com/tailgate-dev/tailgate/workloads/redis"
)

// plan is a one-component plan against target with the given minimum bars
// (YAML flow mappings by operation).
func plan(t *testing.T, target string, rate int, minimum string) *slo.Plan {
	t.Helper()
	text := fmt.Sprintf(`version: 1
defaults: {duration: 60s, warmup: 1s, seed: 5}
components:
  - name: cache
    target: %s
    workload:
      rate: %d
      arrival: uniform
      connections: 4
      timeout: 500ms
      keys: {count: 1000, prefix: "tailgate:canary:"}
      mix: {get: 80, set: 20}
    slo:
      minimum:
%s
`, target, rate, minimum)
	p, err := slo.Parse([]byte(text), "canary-plan.yaml")
	require.NoError(t, err)
	return p
}

// syncBuffer is a log the canary and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scrape GETs /metrics as Prometheus would and parses the text format.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// value finds the sample of a family whose labels include want.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

// start runs a canary until the test ends; the channel yields Run's error
// once.
func start(t *testing.T, cfg canary.Config) (*canary.Canary, context.CancelFunc, <-chan error) {
	t.Helper()
	c, err := canary.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		done <- c.Run(ctx)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("the canary did not stop within 10s of its cancel")
		}
	})
	return c, cancel, done
}

func TestCanaryPublishesItsWindowsOnMetrics(t *testing.T) {
	srv := testserver.Redis(t)
	p := plan(t, "redis://"+srv.Addr+"/0", 3000, `        get: {p99: 1s}
        set: {p99: 1s}
        all: {p99: 1s, p99.9: 2s, error_rate: 1%, throughput: 90%}`)
	log := &syncBuffer{}
	c, cancel, done := start(t, canary.Config{Plan: p, Every: time.Second, Window: time.Second, Warmup: 200 * time.Millisecond,
		Scale: 0.4, Failures: 5, Listen: "127.0.0.1:0", Log: log})
	assert.ElementsMatch(t, []string{
		`component "cache": get p99 needs 1000 samples (a window must expect 1135), a window has about 960`,
		`component "cache": set p99 needs 1000 samples (a window must expect 1135), a window has about 240`,
		`component "cache": all p99.9 needs 10000 samples (a window must expect 10409), a window has about 1200`,
	}, c.Excluded(), "bars a 1s window at 1200/s cannot estimate are left out")

	var families map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		families = scrape(t, c.Addr())
		n, _ := value(families, canary.MetricWindows, map[string]string{"verdict": "pass"})
		return n >= 2
	}, 20*time.Second, 100*time.Millisecond, "two passing windows; log:\n%s", log)

	// The latest window's verdict is one of three: a busy test machine may
	// fail a window now and then, so only the passing count is asserted.
	var latest float64
	for _, verdict := range []string{"pass", "fail", "error"} {
		v, ok := value(families, canary.MetricVerdict, map[string]string{"verdict": verdict})
		assert.True(t, ok, verdict)
		latest += v
	}
	assert.Equal(t, 1.0, latest, "exactly one verdict is the latest")
	_, ok := value(families, canary.MetricConsecutiveFailures, nil)
	assert.True(t, ok)
	p99, ok := value(families, canary.MetricLatency, map[string]string{"component": "cache", "operation": "get", "quantile": "0.99"})
	assert.True(t, ok)
	assert.Greater(t, p99, 0.0)
	_, ok = value(families, canary.MetricObjectivePassing, map[string]string{"component": "cache", "operation": "all", "metric": "p99"})
	assert.True(t, ok)
	v, _ := value(families, canary.MetricObjectiveThreshold, map[string]string{"component": "cache", "operation": "all", "metric": "p99"})
	assert.Equal(t, 1.0, v, "a 1s bar is 1 second")
	_, judged := value(families, canary.MetricObjectivePassing, map[string]string{"component": "cache", "operation": "get", "metric": "p99"})
	assert.False(t, judged, "an excluded bar is not published")
	ops, _ := value(families, canary.MetricOperations, map[string]string{"component": "cache", "operation": "all"})
	assert.GreaterOrEqual(t, ops, 2*1200.0*0.9, "two passing windows of 1200 operations")
	rate, _ := value(families, canary.MetricThroughput, map[string]string{"component": "cache"})
	assert.Greater(t, rate, 0.0)
	assert.Contains(t, log.String(), "window 1")
	assert.Contains(t, log.String(), "PASS")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "a cancel is a clean stop")
	case <-time.After(10 * time.Second):
		t.Fatal("the canary did not stop")
	}
	_, err := http.Get("http://" + c.Addr() + "/metrics")
	assert.Error(t, err, "the metrics endpoint is closed with the canary")
}

func TestCanaryFailsAfterKConsecutiveFailingWindows(t *testing.T) {
	// A Redis 1 ms slow, so the 1us bar is the target's miss whatever the runner.
	srv := testserver.SlowRedis(t, time.Millisecond)
	p := plan(t, "redis://"+srv.Addr+"/0", 1500, `        all: {p99: 1us}`)
	log := &syncBuffer{}
	began := time.Now()
	c, _, done := start(t, canary.Config{Plan: p, Every: time.Second, Window: time.Second, Warmup: 100 * time.Millisecond,
		Scale: 1, Failures: 2, Listen: "127.0.0.1:0", Log: log})
	select {
	case err := <-done:
		require.Error(t, err)
		assert.True(t, errors.Is(err, canary.ErrFailing), "%v", err)
		assert.Contains(t, err.Error(), "2 consecutive windows failed")
		assert.Contains(t, err.Error(), "cache all p99")
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit after two failing windows; log:\n%s", log)
	}
	t.Logf("stopped after %s; log:\n%s", time.Since(began).Round(time.Millisecond), log)
	assert.Equal(t, 2, strings.Count(log.String(), "FAIL"))
	// The endpoint closed with the canary; its handler still holds the counts.
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	require.NoError(t, err)
	v, _ := value(families, canary.MetricWindows, map[string]string{"verdict": "fail"})
	assert.Equal(t, 2.0, v)
}

func TestCanaryKeepsRunningAndReportsFailures(t *testing.T) {
	// A Redis 1 ms slow, so the 1us bar is the target's miss whatever the runner.
	srv := testserver.SlowRedis(t, time.Millisecond)
	p := plan(t, "redis://"+srv.Addr+"/0", 1500, `        all: {p99: 1us}`)
	// 1500/s × 800ms expects 1200 samples, above the 1135 p99 must expect.
	c, cancel, done := start(t, canary.Config{Plan: p, Every: 500 * time.Millisecond, Window: 800 * time.Millisecond,
		Warmup: 100 * time.Millisecond, Scale: 1, Failures: 1, KeepRunning: true, Listen: "127.0.0.1:0"})
	require.Eventually(t, func() bool {
		n, _ := value(scrape(t, c.Addr()), canary.MetricConsecutiveFailures, nil)
		return n >= 3
	}, 20*time.Second, 100*time.Millisecond)
	families := scrape(t, c.Addr())
	v, _ := value(families, canary.MetricObjectivePassing, map[string]string{"component": "cache", "operation": "all", "metric": "p99"})
	assert.Equal(t, 0.0, v)
	v, _ = value(families, canary.MetricVerdict, map[string]string{"verdict": "fail"})
	assert.Equal(t, 1.0, v)
	select {
	case err := <-done:
		t.Fatalf("--keep-running stopped: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the canary did not stop")
	}
}

// TestAWindowWithNoRepliesPublishesNoLatency: when the target goes away
// between windows, the window after measures only failures; its latency
// series are withdrawn rather than set to 0, which would read as replies
// that took no time and keep a latency alert quiet through the outage.
func TestAWindowWithNoRepliesPublishesNoLatency(t *testing.T) {
	srv := testserver.Redis(t)
	p := plan(t, "redis://"+srv.Addr+"/0", 1500, `        all: {p99: 1s}`)
	c, _, _ := start(t, canary.Config{Plan: p, Every: 300 * time.Millisecond, Window: 800 * time.Millisecond,
		Warmup: 100 * time.Millisecond, Scale: 1, Failures: 1, KeepRunning: true, Listen: "127.0.0.1:0"})
	p99 := map[string]string{"component": "cache", "operation": "all", "quantile": "0.99"}
	require.Eventually(t, func() bool {
		v, ok := value(scrape(t, c.Addr()), canary.MetricLatency, p99)
		return ok && v > 0
	}, 20*time.Second, 50*time.Millisecond, "a measured window publishes its p99")
	srv.Stop()
	require.Eventually(t, func() bool {
		families := scrape(t, c.Addr())
		failing, _ := value(families, canary.MetricVerdict, map[string]string{"verdict": "error"})
		errs, _ := value(families, canary.MetricErrors, map[string]string{"component": "cache", "operation": "all"})
		return failing == 1 && errs > 0
	}, 20*time.Second, 50*time.Millisecond, "a window against the stopped server is an error")
	families := scrape(t, c.Addr())
	_, ok := value(families, canary.MetricLatency, p99)
	assert.False(t, ok, "no latency is published for a window with no replies")
	rate, ok := value(families, canary.MetricThroughput, map[string]string{"component": "cache"})
	assert.True(t, ok)
	assert.Zero(t, rate, "the achieved rate of a window with no replies is a measurement: 0")
}

func TestAnUnreachableTargetIsAFailingWindow(t *testing.T) {
	port := testserver.FreePort(t) // nothing listens there
	p := plan(t, fmt.Sprintf("redis://127.0.0.1:%d/0", port), 1500, `        all: {p99: 1s}`)
	_, _, done := start(t, canary.Config{Plan: p, Every: 200 * time.Millisecond, Window: time.Second, Scale: 1, Failures: 2})
	select {
	case err := <-done:
		require.ErrorIs(t, err, canary.ErrFailing)
		assert.Contains(t, err.Error(), "unreachable")
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after two unreachable windows")
	}
}

func TestCanaryRefuses(t *testing.T) {
	good := plan(t, "redis://127.0.0.1:6379/0", 1000, `        all: {p99: 1s}`)
	closed := plan(t, "redis://127.0.0.1:6379/0", 1000, `        all: {p99: 1s}`)
	closed.Components[0].Workload.Rate = 0
	staged := plan(t, "redis://127.0.0.1:6379/0", 1000, `        all: {p99: 1s}`)
	staged.Components[0].Workload.Stages = []slo.Stage{{Rate: 1000, Duration: time.Second}}
	tests := []struct {
		name string
		cfg  canary.Config
		want string
	}{
		{"no plan", canary.Config{}, "no plan"},
		{"a closed-loop component", canary.Config{Plan: closed}, "closed loop"},
		{"a component in stages", canary.Config{Plan: staged}, "runs in stages"},
		{"a scale above 100%", canary.Config{Plan: good, Scale: 1.5}, "--scale 150%"},
		{"a scale of 110%, quoted as given", canary.Config{Plan: good, Scale: 1.1}, "--scale 110% is outside"},
		{"zero failures", canary.Config{Plan: good, Failures: -1}, "--failures -1"},
		{"a negative period", canary.Config{Plan: good, Every: -time.Second}, "must be positive"},
		{"a bad listen address", canary.Config{Plan: good, Listen: "127.0.0.1:99999"}, "--listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := canary.New(tt.cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, canary.ErrConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
