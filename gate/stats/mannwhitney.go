package stats

import (
	"math"
	"slices"
)

// exactMaxSamples is the largest combined sample size for which MannWhitney
// computes the exact null distribution of U (when there are no ties). Up to
// 50 the counts of arrangements, at most C(50, 25) ~ 1.3e14, are exact in
// float64; beyond it the normal approximation is good.
const exactMaxSamples = 50

// MannWhitney runs the two-sided Mann-Whitney U test (also called the
// Wilcoxon rank-sum test) of whether x and y come from distributions of
// different location. u is the U statistic of x: the number of pairs (x[i],
// y[j]) with x[i] > y[j], ties counting one half. p is the probability of a U
// at least as far from its mean under the null hypothesis that x and y were
// drawn from the same continuous distribution.
//
// Without ties and with at most 50 values in all, p comes from the exact
// distribution of U. Otherwise it comes from the normal approximation, with
// the variance corrected for ties and a continuity correction. p is 1 when
// either sample is empty or every value is tied. Values must not be NaN.
//
// The test assumes the values are independent; it makes no assumption about
// the shape of their distribution.
func MannWhitney(x, y []float64) (u, p float64) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	type labelled struct {
		value float64
		fromX bool
	}
	all := make([]labelled, 0, n1+n2)
	for _, v := range x {
		all = append(all, labelled{v, true})
	}
	for _, v := range y {
		all = append(all, labelled{v, false})
	}
	slices.SortFunc(all, func(a, b labelled) int {
		switch {
		case a.value < b.value:
			return -1
		case a.value > b.value:
			return 1
		}
		return 0
	})
	// Rank sum of x, with tied values sharing their mean rank, and the tie
	// correction sum of t^3-t over groups of t tied values.
	var rankSumX, tieSum float64
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].value == all[i].value {
			j++
		}
		meanRank := float64(i+1+j) / 2
		for _, v := range all[i:j] {
			if v.fromX {
				rankSumX += meanRank
			}
		}
		t := float64(j - i)
		tieSum += t*t*t - t
		i = j
	}
	f1, f2 := float64(n1), float64(n2)
	u = rankSumX - f1*(f1+1)/2
	if tieSum == 0 && n1+n2 <= exactMaxSamples {
		return u, exactUTestP(n1, n2, u)
	}
	n := f1 + f2
	variance := f1 * f2 / 12 * (n + 1 - tieSum/(n*(n-1)))
	if variance <= 0 {
		return u, 1
	}
	z := (math.Abs(u-f1*f2/2) - 0.5) / math.Sqrt(variance)
	if z <= 0 {
		return u, 1
	}
	return u, min(1, 2*normalSurvival(z))
}

// exactUTestP is the two-sided p-value of U = u for samples of sizes n1 and
// n2 without ties: twice the smaller tail probability, at most 1. The number
// of arrangements giving each U is a coefficient of the Gaussian binomial
// coefficient [n1+n2 choose n1]_t = prod_{i=1..n1} (1-t^(n2+i))/(1-t^i).
func exactUTestP(n1, n2 int, u float64) float64 {
	maxU := n1 * n2
	ways := make([]float64, maxU+1)
	ways[0] = 1
	degree := 0
	for i := 1; i <= n1; i++ {
		// Multiply by (1 - t^(n2+i)), highest coefficients first.
		shift := n2 + i
		degree += shift
		for k := min(degree, maxU); k >= shift; k-- {
			ways[k] -= ways[k-shift]
		}
		// Divide by (1 - t^i): a running sum with stride i.
		for k := i; k <= maxU; k++ {
			ways[k] += ways[k-i]
		}
		degree -= i
	}
	var total, below, above float64
	for k, w := range ways {
		total += w
		if float64(k) <= u {
			below += w
		}
		if float64(k) >= u {
			above += w
		}
	}
	return min(1, 2*min(below, above)/total)
}
