package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tailgate-dev/tailgate/gate/status"
)

func TestBinomialInterval(t *testing.T) {
	tests := []struct {
		k, m   int64
		lo, hi float64
	}{
		{0, 10, 0, 0.3085},       // 1 - 0.025^(1/10)
		{10, 10, 0.6915, 1},      // its mirror
		{5, 10, 0.1871, 0.8129},  // the textbook Clopper-Pearson interval
		{1, 100, 0.0003, 0.0545}, // a rare event
	}
	for _, tt := range tests {
		lo, hi := binomialInterval(tt.k, tt.m, 0.95)
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("binomialInterval(%d, %d, 95%%) = [%.4f, %.4f], want [%.4f, %.4f]", tt.k, tt.m, lo, hi, tt.lo, tt.hi)
		}
	}
	// Beyond the exact sum the Wilson interval takes over, and agrees.
	lo, hi := binomialInterval(6000, 20000, 0.95)
	if math.Abs(lo-0.2937) > 5e-4 || math.Abs(hi-0.3064) > 5e-4 {
		t.Errorf("binomialInterval(6000, 20000) = [%.4f, %.4f]", lo, hi)
	}
}

func TestCompareProportions(t *testing.T) {
	tests := []struct {
		name                       string
		baseK, baseN, candK, candN int64
		verdict                    status.Status
		significant                bool
	}{
		{"no errors on either side is no change", 0, 10000, 0, 10000, status.NoChange, false},
		{"the same 1% on both sides is no change", 1000, 100000, 1000, 100000, status.NoChange, false},
		{"a few errors either way cannot rule +10% out", 2, 10000, 3, 10000, status.Inconclusive, false},
		{"errors only in the candidate, enough of them, fail", 0, 10000, 40, 10000, status.Fail, true},
		{"twice the errors, many of them, fail", 500, 50000, 1000, 50000, status.Fail, true},
		{"far fewer errors pass", 1000, 50000, 100, 50000, status.Pass, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CompareProportions(tt.baseK, tt.baseN, tt.candK, tt.candN, DefaultConfidence)
			if c.Method != MethodExact || !c.HasInterval() {
				t.Fatalf("comparison %+v has no interval", c)
			}
			if got := RegressionVerdict(c, 0.10); got != tt.verdict {
				t.Errorf("verdict %q, want %q (ratio %.3g [%.3g, %.3g], p %.3g)", got, tt.verdict, c.Ratio, c.RatioLo, c.RatioHi, c.PValue)
			}
			if c.Significant != tt.significant {
				t.Errorf("significant %v, want %v (p %.3g)", c.Significant, tt.significant, c.PValue)
			}
		})
	}
	if c := CompareProportions(5, 4, 0, 10, DefaultConfidence); c.HasInterval() || !errors.Is(c.Warnings[0], ErrInvalidArgument) {
		t.Errorf("more errors than operations: %+v", c)
	}
	if c := CompareProportions(0, 0, 0, 10, DefaultConfidence); RegressionVerdict(c, 0.1) != status.Insufficient {
		t.Errorf("an empty baseline: %+v", c)
	}
}

// TestCompareProportionsSimulated holds the interval to its confidence: A/A
// pairs at a 2% error rate rarely fail a +10% objective, and pairs whose
// candidate has twice the errors are caught.
func TestCompareProportionsSimulated(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n, trials = 10000, 200
	draw := func(p float64) int64 {
		var k int64
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return k
	}
	aaFail, abFail, cover := 0, 0, 0
	for range trials {
		base, same, double := draw(0.02), draw(0.02), draw(0.04)
		aa := CompareProportions(base, n, same, n, DefaultConfidence)
		if RegressionVerdict(aa, 0.10) == status.Fail {
			aaFail++
		}
		if aa.RatioLo <= 1 && 1 <= aa.RatioHi {
			cover++
		}
		if RegressionVerdict(CompareProportions(base, n, double, n, DefaultConfidence), 0.10) == status.Fail {
			abFail++
		}
	}
	t.Logf("A/A: %d/%d failed, interval covered 1 in %d; 2x errors: %d/%d failed", aaFail, trials, cover, abFail, trials)
	if aaFail > trials/20 {
		t.Errorf("A/A failed %d of %d times", aaFail, trials)
	}
	if cover < trials*85/100 {
		t.Errorf("a 90%% interval covered the true ratio %d of %d times", cover, trials)
	}
	if abFail < trials*95/100 {
		t.Errorf("twice the errors were caught %d of %d times", abFail, trials)
	}
}
