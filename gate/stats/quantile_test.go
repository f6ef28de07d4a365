package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestOrderStatRanks(t *testing.T) {
	tests := []struct {
		name          string
		n             int64
		q, confidence float64
		l, u          int64
		ok            bool
	}{
		{"5 samples are too few for a 95% interval of the median", 5, 0.5, 0.95, 0, 0, false},
		{"6 samples give a 95% interval of the median from min to max", 6, 0.5, 0.95, 1, 6, true},
		{"100 samples give the textbook 95% median ranks", 100, 0.5, 0.95, 40, 61, true},
		{"367 samples are too few for a 95% interval of p99", 367, 0.99, 0.95, 0, 0, false},
		{"368 samples bound p99 by the maximum", 368, 0.99, 0.95, 0, 368, true},
		{"1000 samples are too few for p99.9", 1000, 0.999, 0.95, 0, 0, false},
		{"a large sample uses the normal approximation", 1_000_000, 0.99, 0.95, 989_805, 990_196, true},
		{"a confidence of 1 is impossible", 1000, 0.5, 1, 0, 0, false},
		{"a quantile of 0 has no interval", 1000, 0, 0.95, 0, 0, false},
		{"a NaN quantile has no interval", 1000, math.NaN(), 0.95, 0, 0, false},
		{"no samples have no interval", 0, 0.5, 0.95, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, u, ok := orderStatRanks(tt.n, tt.q, tt.confidence)
			if ok != tt.ok {
				t.Fatalf("orderStatRanks(%d, %v, %v) ok = %v, want %v", tt.n, tt.q, tt.confidence, ok, tt.ok)
			}
			if !ok {
				return
			}
			if tt.l != 0 && l != tt.l {
				t.Errorf("l = %d, want %d", l, tt.l)
			}
			if u != tt.u {
				t.Errorf("u = %d, want %d", u, tt.u)
			}
		})
	}
}

// TestNormalRanksAgreeWithExact checks the switch to the normal
// approximation: from a binomial variance of normalMinVariance on, its ranks
// stay within one of the exact ones.
func TestNormalRanksAgreeWithExact(t *testing.T) {
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		for _, confidence := range []float64{0.9, 0.95, 0.99} {
			for _, factor := range []float64{1, 1.5, 3, 10} {
				n := int64(math.Ceil(factor * normalMinVariance / (q * (1 - q))))
				l, u, ok := orderStatRanks(n, q, confidence)
				el, eu, eok := exactRanks(n, q, (1-confidence)/2)
				if ok != eok || abs(l-el) > 1 || abs(u-eu) > 1 {
					t.Errorf("q=%v confidence=%v n=%d: normal ranks (%d, %d, %v), exact (%d, %d, %v)", q, confidence, n, l, u, ok, el, eu, eok)
				}
			}
		}
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestQuantileCICoverage draws samples from known distributions and counts
// how often the 95% interval covers the true quantile: the order-statistic
// interval is exact up to the discreteness of ranks and buckets, so the
// count should be near 95%, and never far below.
func TestQuantileCICoverage(t *testing.T) {
	const trials = 400
	distributions := []struct {
		name string
		d    distribution
	}{
		{"log-normal", logNormal{median: 2e6, sigma: 0.75}},
		{"exponential", exponential{mean: 1e6}},
	}
	cases := []struct {
		q float64
		n int
	}{
		{0.5, 200},
		{0.99, 1000},
	}
	for i, dist := range distributions {
		for j, c := range cases {
			t.Run(fmt.Sprintf("%s p%v from %d samples", dist.name, 100*c.q, c.n), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(j)))
				truth := dist.d.quantile(c.q)
				covered := 0
				h := newRunnerHistogram()
				for range trials {
					lo, est, hi, ok := QuantileCI(sample(t, rng, dist.d, c.n, h), c.q, 0.95)
					if !ok {
						t.Fatalf("QuantileCI found %d samples too few", c.n)
					}
					if !(lo <= est && est <= hi) {
						t.Fatalf("estimate %d outside its interval [%d, %d]", est, lo, hi)
					}
					if float64(lo) <= truth && truth <= float64(hi) {
						covered++
					}
				}
				coverage := float64(covered) / trials
				t.Logf("coverage %.3f", coverage)
				if coverage < 0.92 || coverage > 0.99 {
					t.Errorf("95%% interval covered the true p%v in %.1f%% of %d trials, want 92%% to 99%%", 100*c.q, 100*coverage, trials)
				}
			})
		}
	}
}

func TestQuantileCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	thousand := sample(t, rng, exponential{mean: 1e6}, 1000, newRunnerHistogram())
	tests := []struct {
		name          string
		h             *hdrhistogram.Histogram
		q, confidence float64
		ok            bool
		wantEst       bool
	}{
		{"a thousand samples bound p99", thousand, 0.99, 0.95, true, true},
		{"a thousand samples are too few for p99.9, but estimate it", thousand, 0.999, 0.95, false, true},
		{"an empty histogram has no interval", newRunnerHistogram(), 0.5, 0.95, false, false},
		{"a nil histogram has no interval", nil, 0.5, 0.95, false, false},
		{"a quantile above 1 is invalid", thousand, 1.5, 0.95, false, false},
		{"a negative confidence is invalid", thousand, 0.5, -0.95, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, est, hi, ok := QuantileCI(tt.h, tt.q, tt.confidence)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (lo %d, est %d, hi %d)", ok, tt.ok, lo, est, hi)
			}
			if (est != 0) != tt.wantEst {
				t.Errorf("est = %d, want an estimate: %v", est, tt.wantEst)
			}
			if ok && !(lo <= est && est <= hi) {
				t.Errorf("estimate %d outside [%d, %d]", est, lo, hi)
			}
			if !ok && (lo != 0 || hi != 0) {
				t.Errorf("no interval, but lo = %d, hi = %d", lo, hi)
			}
		})
	}
	t.Run("the bounds are the outer edges of their buckets", func(t *testing.T) {
		h := newRunnerHistogram()
		// At 3 significant digits 4001 ns shares its bucket with 4000, and
		// 5001 with 5000 to 5003.
		if err := h.RecordValues(4001, 100); err != nil {
			t.Fatal(err)
		}
		if err := h.RecordValues(5001, 100); err != nil {
			t.Fatal(err)
		}
		lo, est, hi, ok := QuantileCI(h, 0.5, 0.95)
		if !ok || lo != 4000 || est != 4001 || hi != 5003 {
			t.Errorf("QuantileCI = (%d, %d, %d, %v), want (4000, 4001, 5003, true)", lo, est, hi, ok)
		}
	})
}

func FuzzQuantileCI(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 7}, 0.5, 0.95, int64(3))
	f.Add([]byte{}, 0.99, 0.9, int64(0))
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 127}, 1.0, 1.0, int64(-1))
	f.Add([]byte{0, 0, 0}, math.NaN(), math.Inf(1), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, data []byte, q, confidence float64, rank int64) {
		h := hdrhistogram.New(1, 3600e9, 3)
		// Each 3 bytes are a value (2 bytes, scaled up to span the range) and
		// a repeat count.
		for i := 0; i+2 < len(data); i += 3 {
			v := int64(data[i])<<8 | int64(data[i+1])
			_ = h.RecordValues(v<<(data[i+2]%30), int64(data[i+2]))
		}
		lo, est, hi, ok := QuantileCI(h, q, confidence)
		if ok && !(lo <= est && est <= hi) {
			t.Fatalf("QuantileCI(q=%v, confidence=%v) = (%d, %d, %d, true): estimate outside interval", q, confidence, lo, est, hi)
		}
		if ok && h.TotalCount() == 0 {
			t.Fatal("an interval from no samples")
		}
		v := ValueAtRank(h, rank)
		if h.TotalCount() > 0 && (v < h.Min() || v > h.Max()) {
			t.Fatalf("ValueAtRank(%d) = %d outside [%d, %d]", rank, v, h.Min(), h.Max())
		}
	})
}
