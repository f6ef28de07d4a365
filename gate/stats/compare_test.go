package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
)

func TestCompareQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	d := logNormal{median: 2e6, sigma: 0.5}
	base := run(t, rng, d, 500, 10, 1)
	same := run(t, rng, d, 500, 10, 1)
	slower := run(t, rng, d, 500, 10, 1.5)
	muchSlower := run(t, rng, d, 500, 10, 3)

	withGaps := append([]*hdrhistogram.Histogram{nil, newRunnerHistogram()}, same...)
	withShort := append(run(t, rng, d, 50, 2, 1), same...)
	coarse := make([]*hdrhistogram.Histogram, len(same))
	for i, h := range same {
		coarse[i] = hdrhistogram.New(1000, 3600e9, 2)
		coarse[i].Merge(h)
	}

	tests := []struct {
		name       string
		cand       []*hdrhistogram.Histogram
		q          float64
		confidence float64
		method     Method
		warnings   []error // each must be among the warnings, and no others
		interval   bool
		verdict    status.Status
	}{
		{name: "an A/A pair is no change", cand: same, q: 0.99, confidence: DefaultConfidence,
			method: MethodIntervals, interval: true, verdict: status.NoChange},
		{name: "a 50% slower candidate fails", cand: slower, q: 0.99, confidence: DefaultConfidence,
			method: MethodIntervals, interval: true, verdict: status.Fail},
		{name: "nil and empty intervals are ignored", cand: withGaps, q: 0.99, confidence: DefaultConfidence,
			method: MethodIntervals, interval: true, verdict: status.NoChange},
		{name: "intervals too short to estimate p99 are left out of the U test", cand: withShort, q: 0.99, confidence: DefaultConfidence,
			method: MethodIntervals, warnings: []error{ErrSkippedIntervals}, interval: true, verdict: status.NoChange},
		{name: "histograms of different precision are compared with a warning", cand: coarse, q: 0.99, confidence: DefaultConfidence,
			method: MethodIntervals, warnings: []error{ErrMixedPrecision}, interval: true, verdict: status.NoChange},
		{name: "p99.9 from 500 samples a second compares pooled samples", cand: muchSlower, q: 0.999, confidence: DefaultConfidence,
			method: MethodPooled, warnings: []error{ErrPooled}, interval: true, verdict: status.Fail},
		{name: "5 samples beyond p99.9 cannot establish a 50% regression", cand: slower, q: 0.999, confidence: DefaultConfidence,
			method: MethodPooled, warnings: []error{ErrPooled}, interval: true, verdict: status.Inconclusive},
		{name: "p99.99 from 5000 samples is not enough", cand: same, q: 0.9999, confidence: DefaultConfidence,
			method: MethodPooled, warnings: []error{ErrPooled, ErrNotEnoughSamples}, verdict: status.Insufficient},
		{name: "an empty candidate is not enough", cand: nil, q: 0.99, confidence: DefaultConfidence,
			method: MethodNone, warnings: []error{ErrNotEnoughSamples}, verdict: status.Insufficient},
		{name: "a quantile of 1 is invalid", cand: same, q: 1, confidence: DefaultConfidence,
			method: MethodNone, warnings: []error{ErrInvalidArgument}, verdict: status.Insufficient},
		{name: "a confidence of 0 is invalid", cand: same, q: 0.5, confidence: 0,
			method: MethodNone, warnings: []error{ErrInvalidArgument}, verdict: status.Insufficient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CompareQuantile(base, tt.cand, tt.q, tt.confidence)
			if c.Method != tt.method {
				t.Errorf("Method = %q, want %q", c.Method, tt.method)
			}
			for _, want := range tt.warnings {
				if !containsError(c.Warnings, want) {
					t.Errorf("Warnings = %v, want one matching %q", c.Warnings, want)
				}
			}
			for _, got := range c.Warnings {
				if !containsError(tt.warnings, got) {
					t.Errorf("unexpected warning %q", got)
				}
			}
			if c.HasInterval() != tt.interval {
				t.Errorf("HasInterval() = %v, want %v (%+v)", c.HasInterval(), tt.interval, c)
			}
			if c.HasInterval() && !(c.RatioLo <= c.Ratio && c.Ratio <= c.RatioHi) {
				t.Errorf("Ratio %v outside its interval [%v, %v]", c.Ratio, c.RatioLo, c.RatioHi)
			}
			if got := RegressionVerdict(c, 0.10); got != tt.verdict {
				t.Errorf("RegressionVerdict(+10%%) = %q, want %q (%+v)", got, tt.verdict, c)
			}
		})
	}

	t.Run("a run compared with itself has ratio 1 and p-value 1", func(t *testing.T) {
		c := CompareQuantile(base, base, 0.5, DefaultConfidence)
		if c.Ratio != 1 || c.PValue != 1 || c.Significant || !(c.RatioLo <= 1 && 1 <= c.RatioHi) {
			t.Errorf("got %+v", c)
		}
		if c.NBase != len(base) || c.NCand != len(base) || c.BaseSamples != 5000 || c.CandSamples != 5000 {
			t.Errorf("counts: %d and %d intervals, %d and %d samples; want %d intervals and 5000 samples each",
				c.NBase, c.NCand, c.BaseSamples, c.CandSamples, len(base))
		}
		if c.BaseEstimate != base[0].ValueAtQuantile(0) && c.BaseEstimate <= 0 {
			t.Errorf("BaseEstimate = %d", c.BaseEstimate)
		}
	})
	t.Run("the same inputs give the same comparison", func(t *testing.T) {
		a, b := CompareQuantile(base, slower, 0.99, 0.95), CompareQuantile(base, slower, 0.99, 0.95)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("two comparisons differ:\n%+v\n%+v", a, b)
		}
	})
	t.Run("the estimates are the merged runs' quantiles", func(t *testing.T) {
		merged := newRunnerHistogram()
		for _, h := range slower {
			merged.Merge(h)
		}
		c := CompareQuantile(base, slower, 0.99, DefaultConfidence)
		if want := ValueAtRank(merged, quantileRank(0.99, merged.TotalCount())); c.CandEstimate != want {
			t.Errorf("CandEstimate = %d, want %d", c.CandEstimate, want)
		}
	})
}

// TestCompareQuantileLongRun checks that runs with more intervals than the
// bootstrap resamples (maxClusters) are grouped and still compared.
func TestCompareQuantileLongRun(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 32))
	d := logNormal{median: 2e6, sigma: 0.5}
	const intervals = 2*maxClusters + 3
	base, cand := run(t, rng, d, 50, intervals, 1), run(t, rng, d, 50, intervals, 1)
	c := CompareQuantile(base, cand, 0.5, DefaultConfidence)
	if c.Method != MethodIntervals || c.NBase != intervals || !(c.RatioLo <= 1 && 1 <= c.RatioHi) {
		t.Errorf("got %+v, want the interval method over %d intervals with 1 in the ratio interval", c, intervals)
	}
}

func TestStudentQuantile(t *testing.T) {
	tests := []struct {
		p, df, want float64
	}{
		{0.95, 10, 1.812461},
		{0.95, 14, 1.761310},
		{0.95, 18, 1.734064},
		{0.975, 10, 2.228139},
		{0.975, 30, 2.042272},
		{0.995, 14, 2.976843},
		{0.95, 1000, 1.646379},
	}
	for _, tt := range tests {
		if got := studentQuantile(tt.p, tt.df); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("studentQuantile(%v, %v) = %v, want %v", tt.p, tt.df, got, tt.want)
		}
	}
}

func TestTwoProportionTest(t *testing.T) {
	tests := []struct {
		name           string
		k1, n1, k2, n2 int64
		want, delta    float64
	}{
		{"Fisher's tea tasting: 3 of 4 against 1 of 4", 3, 4, 1, 4, 0.4857, 1e-4},
		{"a lopsided table: 1 of 10 against 11 of 14", 1, 10, 11, 14, 0.002759, 1e-5},
		{"the same table with successes and failures swapped", 9, 10, 3, 14, 0.002759, 1e-5},
		{"equal proportions", 5, 10, 5, 10, 1, 1e-12},
		{"no successes at all", 0, 10, 0, 10, 1, 0},
		{"large counts use the z-test", 60_000, 100_000, 59_000, 100_000, 5.15e-6, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := twoProportionTest(tt.k1, tt.n1, tt.k2, tt.n2); math.Abs(got-tt.want) > tt.delta {
				t.Errorf("twoProportionTest(%d/%d, %d/%d) = %v, want %v", tt.k1, tt.n1, tt.k2, tt.n2, got, tt.want)
			}
		})
	}
}

// TestPooledQuantileTestSize checks the pooled test's false-positive rate at
// a high quantile, where few samples lie beyond the split: p99 of 1000
// samples a side, 10 beyond it on average.
func TestPooledQuantileTestSize(t *testing.T) {
	t.Parallel()
	const trials = 400
	rng := rand.New(rand.NewPCG(41, 42))
	d := logNormal{median: 2e6, sigma: 0.5}
	draw := func() sparse {
		values := make([]int64, 1000)
		for i := range values {
			values[i] = int64(d.draw(rng))
		}
		slices.Sort(values)
		var s sparse
		for _, v := range values {
			s.buckets = append(s.buckets, bucket{lo: v, hi: v, count: 1})
			s.total++
		}
		return s
	}
	rejected := 0
	for range trials {
		if pooledQuantileTest(draw(), draw(), 0.99) < 0.10 {
			rejected++
		}
	}
	size := float64(rejected) / trials
	t.Logf("size %.3f at alpha 0.10", size)
	if size > 0.12 || size < 0.02 {
		t.Errorf("rejected %.1f%% of A/A pairs at alpha 0.10, want 2%% to 12%%", 100*size)
	}
}

func containsError(errs []error, target error) bool {
	for _, err := range errs {
		if errors.Is(err, target) || errors.Is(target, err) {
			return true
		}
	}
	return false
}

func TestRatioReadsNothingMeasuredAlike(t *testing.T) {
	for _, tc := range []struct {
		name       string
		a, b, want float64
	}{
		{"a ratio of two measurements is their quotient", 3, 2, 1.5},
		{"nothing on both sides is no change", 0, 0, 1},
		{"something against nothing is an infinite change", 5, 0, math.Inf(1)},
		{"nothing against something is a full drop", 0, 4, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Ratio(tc.a, tc.b); got != tc.want {
				t.Errorf("Ratio(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := Ratio(int64(tc.a), int64(tc.b)); got != tc.want {
				t.Errorf("Ratio(int64 %v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}
