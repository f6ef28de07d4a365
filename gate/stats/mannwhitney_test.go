package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestMannWhitney(t *testing.T) {
	tests := []struct {
		name  string
		x, y  []float64
		u, p  float64
		delta float64
	}{
		{"complete separation of 3 and 3 (exact)", []float64{1, 2, 3}, []float64{4, 5, 6}, 0, 0.1, 1e-12},
		{"the reverse gives the complementary U", []float64{4, 5, 6}, []float64{1, 2, 3}, 9, 0.1, 1e-12},
		{"interleaved samples (exact)", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 6, 0.6857142857142857, 1e-12},
		// Rank sum of x 1+3+3+5.5 = 12.5, so U = 2.5; ties of 3 and 2 give
		// variance 16/12*(9-30/56) = 11.2857, z = (5.5-0.5)/3.3594 = 1.4884,
		// p = 0.1367 (as R's wilcox.test(exact=FALSE, correct=TRUE)).
		{"ties use the corrected normal approximation", []float64{1, 2, 2, 3}, []float64{2, 3, 4, 5}, 2.5, 0.1367, 1e-4},
		{"identical samples", []float64{1, 1, 1}, []float64{1, 1}, 3, 1, 0},
		{"an empty sample", nil, []float64{1, 2}, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p := MannWhitney(tt.x, tt.y)
			if u != tt.u || math.Abs(p-tt.p) > tt.delta {
				t.Errorf("MannWhitney = (U %v, p %v), want (%v, %v)", u, p, tt.u, tt.p)
			}
		})
	}
}

// TestExactUTestAgainstEnumeration checks the exact distribution of U
// against brute-force enumeration of every split of 1..n1+n2.
func TestExactUTestAgainstEnumeration(t *testing.T) {
	for n1 := 1; n1 <= 6; n1++ {
		for n2 := 1; n2 <= 6; n2++ {
			n := n1 + n2
			counts := make([]float64, n1*n2+1)
			for mask := 0; mask < 1<<n; mask++ {
				if popcount(mask) != n1 {
					continue
				}
				// U of x = number of (x, y) pairs with x > y.
				u, ysBelow := 0, 0
				for v := range n {
					if mask&(1<<v) != 0 {
						u += ysBelow
					} else {
						ysBelow++
					}
				}
				counts[u]++
			}
			var total float64
			for _, c := range counts {
				total += c
			}
			for u := range counts {
				var below, above float64
				for k, c := range counts {
					if k <= u {
						below += c
					}
					if k >= u {
						above += c
					}
				}
				want := math.Min(1, 2*math.Min(below, above)/total)
				if got := exactUTestP(n1, n2, float64(u)); math.Abs(got-want) > 1e-12 {
					t.Errorf("exactUTestP(%d, %d, %d) = %v, want %v", n1, n2, u, got, want)
				}
			}
		}
	}
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// TestMannWhitneySimulated checks the test's size under the null hypothesis
// and its power under a shift, for the exact path (interval counts) and the
// normal one. The values are log-normal with a standard deviation of 0.6.
func TestMannWhitneySimulated(t *testing.T) {
	t.Parallel()
	const trials = 2000
	const alpha = 0.05
	for i, tt := range []struct {
		n     int
		shift float64
	}{{12, 1}, {40, 0.5}} {
		n := tt.n
		t.Run(fmt.Sprintf("%d and %d samples", n, n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(i)))
			draw := func(shift float64) []float64 {
				xs := make([]float64, n)
				for j := range xs {
					xs[j] = math.Exp(0.5*rng.NormFloat64()) + shift
				}
				return xs
			}
			nullRejections, shiftRejections := 0, 0
			for range trials {
				if _, p := MannWhitney(draw(0), draw(0)); p < alpha {
					nullRejections++
				}
				if _, p := MannWhitney(draw(0), draw(tt.shift)); p < alpha {
					shiftRejections++
				}
			}
			size, power := float64(nullRejections)/trials, float64(shiftRejections)/trials
			t.Logf("size %.3f, power %.3f", size, power)
			if size < 0.03 || size > 0.065 {
				t.Errorf("rejected %.1f%% of A/A pairs at alpha %v, want 3%% to 6.5%%", 100*size, alpha)
			}
			if power < 0.8 {
				t.Errorf("rejected %.1f%% of pairs shifted by %v, want at least 80%%", 100*power, tt.shift)
			}
		})
	}
}
