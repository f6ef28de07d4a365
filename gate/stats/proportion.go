package stats

import "math"

// MethodExact compares two shares of failed operations as counts: Fisher's
// exact test for the p-value, and the exact conditional interval of the
// ratio of the two rates.
const MethodExact Method = "exact"

// CompareProportions compares the share of failed operations of a candidate
// run (candK of candN operations) with a baseline's (baseK of baseN), at the
// given two-sided confidence, as a Comparison whose Ratio is the candidate's
// rate over the baseline's (1.5: half as many errors again).
//
// The p-value is Fisher's exact test, two-sided: errors are rare, and the
// normal approximation is far too liberal with few of them (see
// twoProportionTest). The interval is the exact conditional one that goes
// with it: given the m = baseK+candK errors of both runs, the candidate's
// share of them is binomial(m, pi) with pi = theta*candN/(theta*candN +
// baseN) for the rate ratio theta (errors as rare events), so the
// Clopper-Pearson interval of pi maps onto an interval of theta. It holds at
// its stated confidence or more whatever the counts.
//
// With no errors on either side the Ratio is 1 and the interval [0, 1]: the
// candidate's rate is no higher than the baseline's, which rules out any
// increase but not a decrease. With errors only in the candidate the
// interval reaches +Inf. Counts that are negative, or more errors than
// operations, are an invalid argument (MethodNone, no interval).
func CompareProportions(baseK, baseN, candK, candN int64, confidence float64) Comparison {
	c := Comparison{Quantile: math.NaN(), Confidence: confidence, Method: MethodNone, Ratio: math.NaN(),
		RatioLo: math.NaN(), RatioHi: math.NaN(), PValue: 1, BaseSamples: baseN, CandSamples: candN}
	switch {
	case !(confidence > 0 && confidence < 1) || baseK < 0 || candK < 0 || baseK > baseN || candK > candN:
		c.Warnings = append(c.Warnings, ErrInvalidArgument)
		return c
	case baseN == 0 || candN == 0:
		c.Warnings = append(c.Warnings, ErrNotEnoughSamples)
		return c
	}
	c.Method = MethodExact
	c.NBase, c.NCand = 1, 1
	c.Ratio = Ratio(float64(candK)/float64(candN), float64(baseK)/float64(baseN))
	c.PValue = twoProportionTest(candK, candN, baseK, baseN)
	c.Significant = c.PValue < 1-confidence
	m := baseK + candK
	if m == 0 {
		c.RatioLo, c.RatioHi = 0, 1
		return c
	}
	lo, hi := binomialInterval(candK, m, confidence)
	odds := func(pi float64) float64 {
		if pi >= 1 {
			return math.Inf(1)
		}
		return pi / (1 - pi) * float64(baseN) / float64(candN)
	}
	c.RatioLo, c.RatioHi = odds(lo), odds(hi)
	return c
}

// binomialInterval is the Clopper-Pearson interval of the success
// probability after k successes in m trials, at the two-sided confidence;
// beyond fisherMaxTerms trials, the Wilson score interval, as accurate there
// and not a sum of m terms.
func binomialInterval(k, m int64, confidence float64) (lo, hi float64) {
	tail := (1 - confidence) / 2
	if m > fisherMaxTerms {
		z := normalQuantile(1 - tail)
		n, p := float64(m), float64(k)/float64(m)
		centre := (p + z*z/(2*n)) / (1 + z*z/n)
		half := z / (1 + z*z/n) * math.Sqrt(p*(1-p)/n+z*z/(4*n*n))
		return max(0, centre-half), min(1, centre+half)
	}
	lo, hi = 0, 1
	if k > 0 {
		// P(X >= k; pi) rises with pi: the lowest pi at which it reaches tail.
		lo = bisect(func(pi float64) bool { return 1-binomialCDF(k-1, m, pi) >= tail })
	}
	if k < m {
		// P(X <= k; pi) falls with pi: the highest pi at which it stays at tail.
		hi = bisect(func(pi float64) bool { return binomialCDF(k, m, pi) <= tail })
	}
	return lo, hi
}

// bisect finds, in [0, 1], where the monotone condition first holds (it is
// false at 0 and true at 1, or the end it holds at).
func bisect(holds func(float64) bool) float64 {
	a, b := 0.0, 1.0
	for range 60 {
		mid := (a + b) / 2
		if holds(mid) {
			b = mid
		} else {
			a = mid
		}
	}
	return (a + b) / 2
}

// binomialCDF is P(X <= k) for X binomial(m, p).
func binomialCDF(k, m int64, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= m || p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	// The log of each term from the one before: P(i+1)/P(i) = (m-i)/(i+1) * p/(1-p).
	lp, lq := math.Log(p), math.Log1p(-p)
	term := float64(m) * lq
	sum := math.Exp(term)
	for i := int64(0); i < k; i++ {
		term += math.Log(float64(m-i)/float64(i+1)) + lp - lq
		sum += math.Exp(term)
	}
	return min(1, sum)
}
