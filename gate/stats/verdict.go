package stats

import "math"

// Statuses RegressionVerdict returns.
const (
	// StatusPass: no regression beyond the tolerance.
	StatusPass = "pass"
	// StatusFail: a regression beyond the tolerance, significant at the
	// comparison's confidence.
	StatusFail = "fail"
	// StatusInconclusive ("~", as benchstat prints it): the estimate is
	// beyond the tolerance but not significantly so. Rerunning with a longer
	// soak or a higher rate narrows the interval.
	StatusInconclusive = "~"
	// StatusInsufficient: the comparison has no confidence interval (too few
	// samples, or nothing to compare), so it is evidence of nothing. A gate
	// must not read it as a pass.
	StatusInsufficient = "insufficient"
)

// RegressionVerdict judges a comparison against a regression objective: "the
// candidate's quantile may be at most tolerance above the baseline's" (0.10
// for +10%; a negative tolerance demands an improvement). With limit =
// 1+tolerance, the rule is, in order:
//
//	no ratio interval (HasInterval false), or tolerance NaN or <= -1  -> StatusInsufficient
//	RatioLo > limit                           -> StatusFail: the whole interval is beyond the limit
//	Ratio <= limit or RatioHi <= limit        -> StatusPass: the estimate is within the limit
//	otherwise (RatioLo <= limit < Ratio)      -> StatusInconclusive: beyond the limit, not significantly
//
// So a candidate fails only when the regression beyond the tolerance is
// significant at the comparison's confidence: at Confidence 0.90 the lower
// bound is a 95% one-sided bound, and a candidate whose true regression is
// exactly the tolerance fails at most about 5% of the time. A change that is
// significant (Significant) but whose estimate is within the tolerance
// passes; so does an insignificant one within the tolerance.
func RegressionVerdict(c Comparison, tolerance float64) (status string) {
	if !c.HasInterval() || math.IsNaN(tolerance) || tolerance <= -1 {
		return StatusInsufficient
	}
	limit := 1 + tolerance
	switch {
	case c.RatioLo > limit:
		return StatusFail
	case c.Ratio <= limit || c.RatioHi <= limit:
		return StatusPass
	}
	return StatusInconclusive
}
