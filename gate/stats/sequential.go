package stats

import (
	"math"
)

// sequentialGrid is the number of points (odd, for Simpson's rule) on which
// Boundaries integrates the density of the statistic that has not yet
// stopped. At 161 points the boundaries agree with the published ones to
// within 0.005 (TestBoundariesMatchPublishedValues).
const sequentialGrid = 161

// PocockSpending is the Lan-DeMets Pocock-type alpha-spending function: of a
// total error alpha, the looks up to information fraction t (0..1) may
// spend alpha * ln(1 + (e-1) t). It spends early, so the first look, at the
// planned length, is judged at a level not far from a single look's.
func PocockSpending(alpha, t float64) float64 {
	t = min(max(t, 0), 1)
	return alpha * math.Log(1+(math.E-1)*t)
}

// obrienFlemingSpending is the Lan-DeMets O'Brien-Fleming-type spending
// function, 2 - 2 Phi(z(1-alpha/2) / sqrt(t)). It spends almost nothing
// early; tailgate does not use it (see the package documentation), the tests
// check the integration against its published boundaries.
func obrienFlemingSpending(alpha, t float64) float64 {
	if t <= 0 {
		return 0
	}
	return 2 * normalSurvival(normalQuantile(1-alpha/2)/math.Sqrt(min(t, 1)))
}

// Boundaries returns the two-sided group-sequential boundaries of looks at
// the given information fractions, spending a total two-sided error alpha
// with PocockSpending: look k stops when |Z_k| >= b_k, Z_k the standardised
// statistic of all data up to it. The fractions must increase strictly and
// lie in (0, 1]; a look at fraction 1 is the last and spends whatever is
// left. Boundaries returns nil for anything else.
//
// The statistics of the looks are those of a Brownian motion observed at the
// fractions: Z_k = S(t_k)/sqrt(t_k), with independent increments. The
// boundaries follow by recursive numerical integration (Armitage, McPherson
// and Rowe, 1969; Jennison and Turnbull, "Group Sequential Methods", 2000,
// chapter 19): the density of S on the region where no look has stopped yet
// is carried from look to look, and b_k is set by bisection so that the
// chance of stopping first at look k is the spending function's increment.
func Boundaries(alpha float64, fractions []float64) []float64 {
	return boundaries(alpha, fractions, PocockSpending)
}

func boundaries(alpha float64, fractions []float64, spend func(alpha, t float64) float64) []float64 {
	if !(alpha > 0 && alpha < 1) || len(fractions) == 0 {
		return nil
	}
	for i, t := range fractions {
		if !(t > 0 && t <= 1) || (i > 0 && t <= fractions[i-1]) {
			return nil
		}
	}
	out := make([]float64, len(fractions))
	// grid and density hold S(t_{k-1}) on the continuation region of look
	// k-1, weights the Simpson weights of the grid.
	grid := make([]float64, sequentialGrid)
	density := make([]float64, sequentialGrid)
	weights := make([]float64, sequentialGrid)
	next := make([]float64, sequentialGrid)
	spent, previous := 0.0, 0.0
	for k, t := range fractions {
		target := spend(alpha, t) - spent
		if t == 1 {
			target = alpha - spent
		}
		if k == 0 {
			out[k] = math.Inf(1)
			if target > 0 {
				out[k] = normalQuantile(1 - target/2)
			}
			lay(grid, weights, finite(out[k])*math.Sqrt(t))
			for i, s := range grid {
				density[i] = normalDensity(s/math.Sqrt(t)) / math.Sqrt(t)
			}
		} else {
			step := math.Sqrt(t - previous)
			exit := func(b float64) float64 {
				limit := b * math.Sqrt(t)
				var p float64
				for i, u := range grid {
					p += weights[i] * density[i] * (normalCDF((u-limit)/step) + normalCDF((-limit-u)/step))
				}
				return p
			}
			out[k] = math.Inf(1)
			if target > 0 && exit(0) > target {
				lo, hi := 0.0, 40.0
				for range 60 {
					mid := (lo + hi) / 2
					if exit(mid) > target {
						lo = mid
					} else {
						hi = mid
					}
				}
				out[k] = (lo + hi) / 2
			} else if target > 0 {
				out[k] = 0
			}
			old, oldWeights := append([]float64(nil), grid...), append([]float64(nil), weights...)
			lay(grid, weights, finite(out[k])*math.Sqrt(t))
			for j, s := range grid {
				var g float64
				for i, u := range old {
					g += oldWeights[i] * density[i] * normalDensity((s-u)/step) / step
				}
				next[j] = g
			}
			density, next = next, density
		}
		spent += target
		previous = t
	}
	return out
}

// finite caps a boundary for the integration grid: beyond 8 standard
// deviations the density is nothing.
func finite(b float64) float64 { return min(b, 8) }

// lay spreads grid evenly over [-half, half] and sets Simpson's weights.
func lay(grid, weights []float64, half float64) {
	n := len(grid)
	h := 2 * half / float64(n-1)
	for i := range grid {
		grid[i] = -half + float64(i)*h
		w := 2.0
		switch {
		case i == 0 || i == n-1:
			w = 1
		case i%2 == 1:
			w = 4
		}
		weights[i] = w * h / 3
	}
}

// LookConfidence is the two-sided confidence level at which the interval of
// the last of the looks at the given information fractions is computed, so
// that a run that looks at its data at each of them, and stops at any, has
// intervals that all cover the truth together with probability confidence
// (repeated confidence intervals; Jennison and Turnbull, chapter 9). A
// verdict read from any one of them errs no more often than a single look
// at confidence would. One look at fraction 1 is confidence itself. NaN for
// fractions Boundaries refuses.
func LookConfidence(confidence float64, fractions []float64) float64 {
	b := Boundaries(1-confidence, fractions)
	if b == nil {
		return math.NaN()
	}
	return 1 - 2*normalSurvival(b[len(b)-1])
}

// normalDensity is the standard normal density.
func normalDensity(z float64) float64 {
	return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
}

// normalCDF is P(Z <= z) for a standard normal Z.
func normalCDF(z float64) float64 {
	return math.Erfc(-z/math.Sqrt2) / 2
}
