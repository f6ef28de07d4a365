package redis_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// stallingClock is the real clock, except that from from to to every wait
// of tailgate's wakes by late: a runner that starves the load generator
// (its workers and its runner probe alike) for a while.
type stallingClock struct {
	workloads.RealClock
	from, to time.Time
	by       time.Duration
}

func (c stallingClock) NewSleeper() workloads.Sleeper {
	return stallingSleeper{c.RealClock.NewSleeper(), c}
}

type stallingSleeper struct {
	workloads.Sleeper
	c stallingClock
}

// Until oversleeps a wait that had to wait: an instant already past is
// not waited for, so what fell behind catches up as it would after a
// real stall.
func (s stallingSleeper) Until(ctx context.Context, t time.Time) bool {
	waits := time.Now().Before(t)
	if !s.Sleeper.Until(ctx, t) {
		return false
	}
	if now := time.Now(); waits && now.After(s.c.from) && now.Before(s.c.to) {
		return s.Sleeper.Until(ctx, now.Add(s.c.by))
	}
	return true
}

// TestAWindowTellsAStarvedGeneratorFromAFrozenServer: the same stretch of
// a 6 s run against a healthy Redis is slow twice over, once because the
// load generator itself woke 20 ms late on every wait, once because the
// server froze. The window objective puts the first down to the generator
// (client-bound: neither pass nor fail) and fails the second on the target.
func TestAWindowTellsAStarvedGeneratorFromAFrozenServer(t *testing.T) {
	// planFor is the plan against a server of the test's own: the frozen
	// one must not stall the other case.
	planFor := func(t *testing.T, addr string) *slo.Plan {
		plan, err := slo.Parse([]byte(`version: 1
defaults: {duration: 6s, warmup: 500ms}
components:
  - name: cache
    target: redis://`+addr+`
    workload:
      rate: 2000
      arrival: uniform
      connections: 4
      timeout: 2s
      keys: {count: 500, prefix: "tailgate:overtime:"}
      mix: {get: 100}
    slo:
      minimum:
        get: {p99_window: {window: 2s, max: 15ms}}
`), "plan.yaml")
		require.NoError(t, err)
		return plan
	}
	// The stretch lies inside the second 2 s window: the measured window
	// opens 500 ms after the run starts.
	const from, to = 2800 * time.Millisecond, 4200 * time.Millisecond
	tests := []struct {
		name   string
		start  func(t *testing.T, srv *testserver.Server) workloads.Options
		status status.Status
		detail string
		// stalled is whether the runner's own record shows the stall.
		stalled bool
	}{
		{"a starved generator is client-bound", func(*testing.T, *testserver.Server) workloads.Options {
			now := time.Now()
			return workloads.Options{Clock: stallingClock{from: now.Add(from), to: now.Add(to), by: 40 * time.Millisecond}}
		}, status.ClientBound, "above the bar only while the load generator was too late to measure the target", true},
		{"a frozen server fails", func(t *testing.T, srv *testserver.Server) workloads.Options {
			var wg sync.WaitGroup
			wg.Go(func() {
				time.Sleep(from)
				srv.Freeze()
				time.Sleep(300 * time.Millisecond)
				srv.Thaw()
			})
			t.Cleanup(wg.Wait)
			return workloads.Options{}
		}, status.Fail, "at 2s–4s", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Redis(t)
			plan := planFor(t, srv.Addr)
			c := plan.Components[0]
			spec := &workloads.Spec{Component: c, Duration: plan.Defaults.Duration, Warmup: plan.Defaults.Warmup, Seed: 1}
			res, err := workloads.Run(context.Background(), []*workloads.Spec{spec}, tt.start(t, srv))
			require.NoError(t, err)
			data, err := res.Encode()
			require.NoError(t, err)
			_, err = result.Decode(data)
			require.NoError(t, err, "the result reads back, its runner intervals checked")
			wakes, err := res.Runner.IntervalWakeups()
			require.NoError(t, err)
			require.Len(t, wakes, 6, "a runner record for each of the 6 intervals")
			worst := int64(0)
			for _, h := range wakes[2:4] {
				worst = max(worst, h.ValueAtQuantile(99))
			}
			assert.Equal(t, tt.stalled, worst >= (30*time.Millisecond).Nanoseconds(),
				"the runner's wake-up p99 in the stretch is %s", time.Duration(worst))
			get := res.Components[0].Operation("get")
			require.NotNil(t, get)
			assert.Zero(t, get.Errors)
			v, err := gate.Judge(plan, res, nil)
			require.NoError(t, err)
			o := v.Objectives["cache"][0]
			t.Logf("%s: %s, measured %s; %s", o.Metric, o.Status, o.Measured, o.Detail)
			assert.Equal(t, tt.status, o.Status)
			assert.True(t, strings.Contains(o.Detail+" "+o.Measured, tt.detail), "want %q in %q", tt.detail, o.Detail+" "+o.Measured)
			assert.NotEqual(t, status.VerdictPass, v.Status)
		})
	}
}
