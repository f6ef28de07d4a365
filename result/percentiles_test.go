package result

import (
	"math/rand/v2"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

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

// TestPercentilesOfIsWhatTheHistogramSays: the percentiles, extremes and
// mean PercentilesOf reads in one scan and a packed copy are, bit for bit,
// what the histogram's own methods give, for histograms of every shape:
// one value, values on bucket edges, a recorded 0, the geometry's extremes,
// large counts, seeded random latencies, a decoded one, and one of another
// geometry.
func TestPercentilesOfIsWhatTheHistogramSays(t *testing.T) {
	own := func(h *hdrhistogram.Histogram) Percentiles {
		v := h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9, 99.99})
		return Percentiles{P50: v[0], P90: v[1], P99: v[2], P999: v[3], P9999: v[4],
			Max: h.Max(), Min: h.Min(), Mean: int64(h.Mean())}
	}
	with := func(values ...int64) *hdrhistogram.Histogram {
		h := NewHistogram()
		for _, v := range values {
			if err := h.RecordValue(v); err != nil {
				t.Fatalf("recording %d: %v", v, err)
			}
		}
		return h
	}
	tests := map[string]*hdrhistogram.Histogram{
		"one value":               with(1234567),
		"one":                     with(1),
		"a 0 alone":               with(0),
		"a 0 and others":          with(0, 0, 5, 2048, 3e6),
		"bucket edges":            with(2047, 2048, 2049, 4095, 4096, 4097, 1<<20-1, 1<<20, 1<<20+1),
		"the geometry's extremes": with(1, HistogramHighest),
		"an empty one":            NewHistogram(),
		"another geometry's":      hdrhistogram.New(1, 60e9, 2),
		"another geometry's, full": func() *hdrhistogram.Histogram {
			h := hdrhistogram.New(1, 60e9, 2)
			h.RecordValue(42)
			h.RecordValue(7e6)
			return h
		}(),
	}
	large := NewHistogram()
	large.RecordValues(20e6, 1<<40)
	large.RecordValues(35e6, 3)
	tests["large counts"] = large
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 40 {
		h := NewHistogram()
		scale := []float64{1e3, 1e5, 2e7, 1e9}[i%4]
		for range 1 + rng.IntN(5000) {
			h.RecordValue(int64(scale * (1 + rng.ExpFloat64())))
		}
		tests["random "+string(rune('a'+i))] = h
		if i == 0 {
			decoded, err := hdrhistogram.Decode([]byte(EncodeHistogram(h)))
			if err != nil {
				t.Fatal(err)
			}
			tests["a decoded one"] = decoded
		}
	}
	for name, h := range tests {
		want := Percentiles{}
		if h.TotalCount() > 0 {
			want = own(h)
		}
		if got := PercentilesOf(h); got != want {
			t.Errorf("%s: PercentilesOf = %+v, the histogram says %+v", name, got, want)
		}
	}
}
