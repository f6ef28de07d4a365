package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/canary"
	"github.com/tailgate-dev/tailgate/internal/testserver"
)

// scrapeWindows GETs /metrics and returns the windows counted by verdict.
func scrapeWindows(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	if f := families[canary.MetricWindows]; f != nil {
		for _, m := range f.Metric {
			out[m.Label[0].GetValue()] = m.Counter.GetValue()
		}
	}
	return out, nil
}

func TestCanaryCommand(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	target := "redis://" + srv.Addr + "/0"

	t.Run("a failing bar exits 1 after --failures windows, scraped meanwhile", func(t *testing.T) {
		addr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
		slow, _ := slowRedis(t, 2*time.Millisecond)
		plan := writePlan(t, planFor(slow, "1us"))
		done := make(chan invocation, 1)
		go func() {
			done <- invoke(t, nil, "canary", "-c", plan, "--every", "1s", "--window", "1s", "--warmup", "100ms",
				"--scale", "100%", "--failures", "2", "--listen", addr)
		}()
		var seen map[string]float64
		require.Eventually(t, func() bool {
			w, err := scrapeWindows(addr)
			if err != nil {
				return false
			}
			seen = w
			return w["fail"] >= 1
		}, 20*time.Second, 50*time.Millisecond, "a real scrape sees the first failing window")
		assert.Zero(t, seen["pass"])
		select {
		case inv := <-done:
			assert.Equal(t, 1, inv.code)
			assert.Contains(t, inv.stderr, "2 consecutive windows failed")
			assert.Contains(t, inv.stderr, "metrics on http://"+addr+"/metrics")
		case <-time.After(30 * time.Second):
			t.Fatal("the canary did not exit after two failing windows")
		}
	})

	t.Run("a signal stops a passing canary with exit 0", func(t *testing.T) {
		plan := writePlan(t, planFor(target, "1s"))
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut bytes.Buffer
		e := environment{stdout: &out, stderr: &errOut, lookupEnv: func(string) (string, bool) { return "", false },
			getenv: func(string) string { return "" }}
		codes := make(chan int, 1)
		go func() {
			codes <- run(ctx, []string{"canary", "-c", plan, "--every", "500ms", "--window", "1s", "--warmup", "100ms",
				"--scale", "60%", "--listen", ""}, e)
		}()
		time.Sleep(2500 * time.Millisecond)
		cancel()
		select {
		case code := <-codes:
			// Fewer windows than --failures ran: whatever their verdicts
			// on a busy machine, a signal is a clean stop.
			assert.Equal(t, 0, code, "stderr:\n%s", errOut.String())
			assert.Contains(t, errOut.String(), "window 1")
		case <-time.After(10 * time.Second):
			t.Fatal("the canary did not stop on cancel")
		}
	})

	for _, tt := range []struct{ name, flag, value, want string }{
		{"a zero scale", "--scale", "0%", "a canary must send some load"},
		{"a scale above 100%", "--scale", "150%", "--scale 150%"},
		{"a bare-number scale", "--scale", "0.1", "needs a % sign"},
		{"a zero window", "--window", "0", "must be longer than 0"},
		{"a bad period", "--every", "soon", "--every"},
	} {
		t.Run(tt.name+" is a usage error", func(t *testing.T) {
			inv := invoke(t, nil, "canary", "-c", writePlan(t, planFor(target, "1s")), "--listen", "", tt.flag, tt.value)
			assert.Equal(t, 2, inv.code)
			assert.Contains(t, inv.stderr, tt.want)
		})
	}
}
