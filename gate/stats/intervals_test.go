package stats

import (
	"math/rand/v2"
	"reflect"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histograms read once compare as they do read on every call, for every
// quantile, and the histograms may be reused once read: the gate reads an
// operation's histograms once for all its objectives.
func TestIntervalsReadOnceCompareAsTheHistogramsDo(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	d := logNormal{median: 2e6, sigma: 0.5}
	base, cand := run(t, rng, d, 500, 10, 1), run(t, rng, d, 500, 10, 1.2)
	withGaps := append([]*hdrhistogram.Histogram{nil, newRunnerHistogram()}, cand...)
	b, c := ReadIntervals(base), ReadIntervals(withGaps)
	if got := c.Samples(); got != 5000 {
		t.Errorf("Samples() = %d, want 5000", got)
	}
	pb, pc := newSegments(8), newSegments(8)
	simulatePair(rng, d, 500, 0.1, 0.03, 1.2, pb, pc)
	rb, rc := readSegments(pb), readSegments(pc)
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if got, want := b.Compare(c, q, DefaultConfidence), CompareQuantile(base, withGaps, q, DefaultConfidence); !reflect.DeepEqual(got, want) {
			t.Errorf("q %v: read once %+v, read each time %+v", q, got, want)
		}
		if got, want := ComparePaired(rb, rc, q, DefaultConfidence), ComparePairedQuantile(pb, pc, q, DefaultConfidence); !reflect.DeepEqual(got, want) {
			t.Errorf("q %v paired: read once %+v, read each time %+v", q, got, want)
		}
	}
	want := b.Compare(c, 0.99, DefaultConfidence)
	for _, h := range base {
		h.Reset()
	}
	if got := b.Compare(c, 0.99, DefaultConfidence); !reflect.DeepEqual(got, want) {
		t.Errorf("after the histograms were reused: %+v, want %+v", got, want)
	}
}
