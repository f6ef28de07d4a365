package stats

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// normalMinVariance is the binomial variance n*q*(1-q) from which
// orderStatRanks uses the normal approximation instead of summing the exact
// binomial distribution. At a variance of 100 the continuity-corrected normal
// ranks are within one rank of the exact ones, and the exact sum below it
// never needs more than a thousand terms.
const normalMinVariance = 100

// QuantileCI returns a distribution-free confidence interval [lo, hi] for the
// q-quantile of the distribution h was sampled from, and the sample quantile
// est (the value of rank ceil(q*n), as ValueAtRank reads it).
//
// The interval is made of two order statistics X(l) and X(u) of the n
// recorded samples, chosen so that P(X(l) <= true quantile <= X(u)) >=
// confidence whatever the distribution, with at most (1-confidence)/2 of the
// miss probability on each side. The number of samples below the true
// quantile is binomial(n, q); the ranks come from its exact distribution, or
// from its normal approximation with continuity correction once n*q*(1-q)
// reaches 100. lo is the lowest and hi the highest value equivalent to those
// order statistics at the histogram's precision, so bucket width only ever
// widens the interval.
//
// ok is false when no such interval exists: q or confidence outside (0, 1),
// or too few samples for the lower rank to be at least 1 and the upper rank
// at most n (for example, a 95% interval for the median needs 6 samples, for
// p99 needs 368). est is still the sample quantile then, when there is one;
// lo and hi are 0.
//
// The samples are assumed independent and identically distributed; latencies
// of a steady soak are close enough, bursts and drifts make the interval too
// narrow.
func QuantileCI(h *hdrhistogram.Histogram, q, confidence float64) (lo, est, hi int64, ok bool) {
	return sparseOf(h).quantileCI(q, confidence)
}

func (s sparse) quantileCI(q, confidence float64) (lo, est, hi int64, ok bool) {
	if s.total == 0 || !(q > 0 && q < 1) {
		return 0, 0, 0, false
	}
	est = s.at(quantileRank(q, s.total)).hi
	l, u, ok := orderStatRanks(s.total, q, confidence)
	if !ok {
		return 0, est, 0, false
	}
	return s.at(l).lo, est, s.at(u).hi, true
}

// orderStatRanks returns the ranks l <= u of the order statistics bounding a
// confidence interval for the q-quantile of n samples: with B ~ binomial(n, q)
// the number of samples at or below the quantile, P(B < l) and P(B >= u) are
// each at most (1-confidence)/2. ok is false when l would be below 1 or u
// above n.
func orderStatRanks(n int64, q, confidence float64) (l, u int64, ok bool) {
	if n <= 0 || !(q > 0 && q < 1) || !(confidence > 0 && confidence < 1) {
		return 0, 0, false
	}
	tail := (1 - confidence) / 2
	nf := float64(n)
	mean, variance := nf*q, nf*q*(1-q)
	if variance >= normalMinVariance {
		spread := normalQuantile(1-tail) * math.Sqrt(variance)
		// P(B <= l-1) ~ Phi((l-1+0.5-mean)/sd) <= tail, and
		// P(B >= u) ~ 1-Phi((u-0.5-mean)/sd) <= tail.
		lf := math.Floor(mean - spread + 0.5)
		uf := math.Ceil(mean + spread + 0.5)
		if lf < 1 || uf > nf {
			return 0, 0, false
		}
		return int64(lf), int64(uf), true
	}
	return exactRanks(n, q, tail)
}

// exactRanks is orderStatRanks from the exact binomial distribution, summed
// over a window of 40 standard deviations (plus 40) around the mean; with a
// variance under normalMinVariance the mass outside is far below float64
// resolution.
func exactRanks(n int64, q, tail float64) (l, u int64, ok bool) {
	nf := float64(n)
	mean, sd := nf*q, math.Sqrt(nf*q*(1-q))
	from := max(int64(math.Floor(mean-40*sd-40)), 0)
	to := min(int64(math.Ceil(mean+40*sd+40)), n)
	pmf := make([]float64, to-from+1)
	lgammaN, _ := math.Lgamma(nf + 1)
	logQ, logNotQ := math.Log(q), math.Log1p(-q)
	for k := from; k <= to; k++ {
		kf := float64(k)
		lgK, _ := math.Lgamma(kf + 1)
		lgRest, _ := math.Lgamma(nf - kf + 1)
		pmf[k-from] = math.Exp(lgammaN - lgK - lgRest + kf*logQ + (nf-kf)*logNotQ)
	}
	// l: one more than the largest k with P(B <= k) <= tail.
	l = from
	var below float64
	for k := from; k <= to; k++ {
		below += pmf[k-from]
		if below > tail {
			break
		}
		l = k + 1
	}
	// u: the smallest k with P(B >= k) <= tail.
	u = to + 1
	var above float64
	for k := to; k >= from; k-- {
		above += pmf[k-from]
		if above > tail {
			break
		}
		u = k
	}
	if l < 1 || u > n {
		return 0, 0, false
	}
	return l, u, true
}

// normalQuantile is the inverse of the standard normal distribution function.
func normalQuantile(p float64) float64 {
	return -math.Sqrt2 * math.Erfcinv(2*p)
}

// normalSurvival is P(Z > z) for a standard normal Z.
func normalSurvival(z float64) float64 {
	return math.Erfc(z/math.Sqrt2) / 2
}
