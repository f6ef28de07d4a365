package stats

import (
	"math"

	"github.com/tailgate-dev/tailgate/gate/status"
)

// RegressionVerdict judges a comparison against a regression objective: "the
// candidate's quantile may be at most tolerance above the baseline's" (0.10
// for +10%; a negative tolerance demands an improvement). With limit =
// 1+tolerance and the ratio interval [RatioLo, RatioHi], the rule is, in
// order:
//
//	no ratio interval (HasInterval false), or tolerance NaN or <= -1  -> status.Insufficient
//	RatioLo > limit                    -> status.Fail: the whole interval lies beyond the limit
//	RatioHi <= limit, RatioLo <= 1 <= RatioHi
//	                                   -> status.NoChange: within the limit, and no change beyond noise
//	RatioHi <= limit                   -> status.Pass: within the limit, a change the run could see
//	otherwise (RatioLo <= limit < RatioHi)
//	                                   -> status.Inconclusive: the run can rule the limit neither out nor in
//
// So a candidate fails only when a regression beyond the tolerance is shown,
// and passes only when one is ruled out, each at the one-sided level of the
// interval's bound (95% at Confidence 0.90): a candidate whose true
// regression is exactly the tolerance fails at most about 5% of the time,
// and passes at most about 5% of the time. An interval too wide to do either
// is inconclusive whatever its estimate: a run that could not have seen the
// regression is no evidence that there is none. DetectableRegression says
// how large a regression the run could have shown.
func RegressionVerdict(c Comparison, tolerance float64) status.Status {
	if !c.HasInterval() || math.IsNaN(tolerance) || tolerance <= -1 {
		return status.Insufficient
	}
	limit := 1 + tolerance
	switch {
	case c.RatioLo > limit:
		return status.Fail
	case c.RatioHi <= limit && c.RatioLo <= 1 && 1 <= c.RatioHi:
		return status.NoChange
	case c.RatioHi <= limit:
		return status.Pass
	}
	return status.Inconclusive
}

// DetectableRegression is the smallest regression (0.25 for +25%) the
// comparison's run could have shown beyond the tolerance: the interval's
// reach below its estimate, added to the limit. Had the candidate's true
// ratio been at least this, an interval as wide as this one would have lain
// wholly beyond the limit. It is +Inf without an interval.
func DetectableRegression(c Comparison, tolerance float64) float64 {
	if !c.HasInterval() || math.IsNaN(c.Ratio) {
		return math.Inf(1)
	}
	return tolerance + (c.Ratio - c.RatioLo)
}
