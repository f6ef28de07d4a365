package stats

import (
	"math"

	"github.com/tailgate-dev/tailgate/gate/status"
)

// RegressionVerdict judges a comparison against a regression objective: "the
// candidate's quantile may be at most tolerance above the baseline's" (0.10
// for +10%; a negative tolerance demands an improvement). With limit =
// 1+tolerance, the rule is, in order:
//
//	no ratio interval (HasInterval false), or tolerance NaN or <= -1  -> status.Insufficient
//	RatioLo > limit                           -> status.Fail: the whole interval is beyond the limit
//	Ratio <= limit or RatioHi <= limit        -> status.Pass: the estimate is within the limit
//	otherwise (RatioLo <= limit < Ratio)      -> status.NoChange: beyond the limit, not significantly
//
// So a candidate fails only when the regression beyond the tolerance is
// significant at the comparison's confidence: at Confidence 0.90 the lower
// bound is a 95% one-sided bound, and a candidate whose true regression is
// exactly the tolerance fails at most about 5% of the time. A change that is
// significant (Significant) but whose estimate is within the tolerance
// passes; so does an insignificant one within the tolerance.
func RegressionVerdict(c Comparison, tolerance float64) status.Status {
	if !c.HasInterval() || math.IsNaN(tolerance) || tolerance <= -1 {
		return status.Insufficient
	}
	limit := 1 + tolerance
	switch {
	case c.RatioLo > limit:
		return status.Fail
	case c.Ratio <= limit || c.RatioHi <= limit:
		return status.Pass
	}
	return status.NoChange
}
