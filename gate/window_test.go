package gate_test

import (
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// growing scales n intervals' latencies from 1 up to top, evenly: a soak
// whose tail grows as it runs (a leak, a compaction).
func growing(n int, top float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1 + (top-1)*float64(i)/float64(n-1)
	}
	return out
}

// TestOverTimeObjectives: p99_window judges every whole window's p99 and
// drift the last third's p99 against the first third's, so a tail that
// grows through the run fails them while the whole run's p99 passes.
func TestOverTimeObjectives(t *testing.T) {
	const block = `      minimum:
        get: {p99: 6ms, p99_window: {window: 5s, max: 3500us}, drift: +20%}
`
	tests := []struct {
		name string
		fix  fixture
		want map[slo.Metric]status.Status
		// detail holds substrings of each objective's detail or measured value.
		detail map[slo.Metric]string
	}{
		{"a steady run passes every window and shows no drift",
			fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000},
			map[slo.Metric]status.Status{slo.MetricP99: status.Pass, slo.MetricP99Window: status.Pass, slo.MetricDrift: status.NoChange},
			map[slo.Metric]string{slo.MetricP99Window: "the worst of 6 judged 5s windows"}},
		{"a tail that doubles through the run passes the whole-run p99 and fails the window and the drift",
			fixture{seed: 2, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 2000, drift: growing(30, 2)},
			map[slo.Metric]status.Status{slo.MetricP99: status.Pass, slo.MetricP99Window: status.Fail, slo.MetricDrift: status.Fail},
			map[slo.Metric]string{slo.MetricP99Window: "at 25s–30s"}},
		{"windows too sparse for a p99 are not judged, and it says so",
			fixture{seed: 3, medianNS: 1e6, sigma: 0.3, intervals: 30, perSecond: 80},
			map[slo.Metric]status.Status{slo.MetricP99: status.Pass, slo.MetricP99Window: status.Insufficient, slo.MetricDrift: status.Insufficient},
			map[slo.Metric]string{slo.MetricP99Window: "6 of 6 windows had fewer than 1000 samples", slo.MetricDrift: "at least 1000 samples in each third"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := gate.Judge(planWith(block), tt.fix.result(), nil)
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, o := range v.Objectives["cache"] {
				m := slo.Metric(o.Metric)
				want, ok := tt.want[m]
				if !ok {
					continue
				}
				seen++
				if o.Status != want {
					t.Errorf("%s: status %s, want %s (measured %s; %s)", m, o.Status, want, o.Measured, o.Detail)
				}
				if d := tt.detail[m]; d != "" && !strings.Contains(o.Detail+" "+o.Measured, d) {
					t.Errorf("%s: measured %q, detail %q; want it to hold %q", m, o.Measured, o.Detail, d)
				}
			}
			if seen != len(tt.want) {
				t.Errorf("judged %d of the %d objectives", seen, len(tt.want))
			}
		})
	}
}
