package result

import (
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/slo"
)

// TestPercentilesAtReadsOnlyStoredLatencies: every latency metric reads its
// own field, and a metric that is no stored latency is refused, never read
// as the maximum.
func TestPercentilesAtReadsOnlyStoredLatencies(t *testing.T) {
	p := Percentiles{P50: 1, P90: 2, P99: 3, P999: 4, P9999: 5, Max: 6, Min: 7, Mean: 8}
	for _, tt := range []struct {
		metric slo.Metric
		want   int64
	}{
		{slo.MetricP50, 1}, {slo.MetricP90, 2}, {slo.MetricP99, 3},
		{slo.MetricP999, 4}, {slo.MetricP9999, 5}, {slo.MetricMax, 6},
	} {
		t.Run(string(tt.metric)+" reads its field", func(t *testing.T) {
			got, err := p.At(tt.metric)
			if err != nil || got != tt.want {
				t.Fatalf("At(%q) = %d, %v; want %d", tt.metric, got, err, tt.want)
			}
		})
	}
	for _, m := range []slo.Metric{slo.MetricErrorRate, slo.MetricThroughput, "p42", "mean", ""} {
		t.Run(string(m)+" is refused", func(t *testing.T) {
			got, err := p.At(m)
			if err == nil {
				t.Fatalf("At(%q) = %d, want an error", m, got)
			}
			if !strings.Contains(err.Error(), `"`+string(m)+`"`) {
				t.Errorf("the error does not quote the metric: %v", err)
			}
		})
	}
}
