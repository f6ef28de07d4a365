package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tailgate-dev/tailgate/gate/status"
)

func TestRegressionVerdict(t *testing.T) {
	nan := math.NaN()
	comparison := func(lo, ratio, hi float64, significant bool) Comparison {
		return Comparison{Quantile: 0.99, Confidence: 0.9, Method: MethodIntervals, Ratio: ratio, RatioLo: lo, RatioHi: hi, Significant: significant}
	}
	tests := []struct {
		name      string
		c         Comparison
		tolerance float64
		want      status.Status
	}{
		{"a regression significantly beyond the tolerance fails", comparison(1.2, 1.3, 1.4, true), 0.10, status.Fail},
		{"a lower bound exactly at the limit does not fail", comparison(1.1, 1.3, 1.4, true), 0.10, status.Inconclusive},
		{"an estimate beyond the tolerance, not significantly, is inconclusive", comparison(1.05, 1.15, 1.25, true), 0.10, status.Inconclusive},
		{"an insignificant change beyond the tolerance is inconclusive", comparison(0.95, 1.15, 1.35, false), 0.10, status.Inconclusive},
		{"an estimate within the tolerance whose interval reaches past it is inconclusive", comparison(0.9, 1.05, 1.2, false), 0.10, status.Inconclusive},
		{"the interleaved A/B of a busy runner is inconclusive, not a pass", comparison(0.938, 1.154, 1.498, false), 0.10, status.Inconclusive},
		{"an interval around no change within the tolerance is no change", comparison(0.95, 1.01, 1.08, false), 0.10, status.NoChange},
		{"an upper bound exactly at the limit rules it out", comparison(0.95, 1.02, 1.1, false), 0.10, status.NoChange},
		{"a significant change within the tolerance passes", comparison(1.02, 1.06, 1.09, true), 0.10, status.Pass},
		{"an interval entirely within the tolerance passes", comparison(1.0, 1.05, 1.09, true), 0.10, status.NoChange},
		{"an improvement passes", comparison(0.6, 0.7, 0.8, true), 0.10, status.Pass},
		{"a zero tolerance fails any significant regression", comparison(1.01, 1.03, 1.05, true), 0, status.Fail},
		{"a zero tolerance: no change is inconclusive unless the interval lies below 1", comparison(0.98, 1.0, 1.02, false), 0, status.Inconclusive},
		{"a negative tolerance fails a candidate that did not improve enough", comparison(0.96, 0.98, 1.0, true), -0.05, status.Fail},
		{"a negative tolerance passes a large enough improvement", comparison(0.85, 0.9, 0.94, true), -0.05, status.Pass},
		{"no interval is insufficient, never a pass", comparison(nan, 1, nan, false), 0.10, status.Insufficient},
		{"no ratio is insufficient", comparison(nan, nan, nan, false), 0.10, status.Insufficient},
		{"a NaN tolerance is insufficient", comparison(1.2, 1.3, 1.4, true), nan, status.Insufficient},
		{"a tolerance of -100% is insufficient", comparison(0.2, 0.3, 0.4, true), -1, status.Insufficient},
		{"an infinite upper bound is inconclusive, never a pass", comparison(0.5, 1.0, math.Inf(1), false), 0.10, status.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RegressionVerdict(tt.c, tt.tolerance); got != tt.want {
				t.Errorf("RegressionVerdict([%v, %v, %v], %v) = %q, want %q", tt.c.RatioLo, tt.c.Ratio, tt.c.RatioHi, tt.tolerance, got, tt.want)
			}
		})
	}
}

// TestRegressionVerdictSimulated holds the gate to its design goals: with
// log-normal service times (median 2 ms, sigma 0.5) measured at 500 ops/s
// into per-second histograms for 10 s, at most 1 A/A comparison in 20 fails,
// and at least 19 in 20 candidates 30% slower fail a +10% objective, on p50
// and on p99; no slower candidate passes. It logs how many A/A pairs pass,
// ruling the tolerance out, rather than being inconclusive (100 trials: 100%
// at p50, 76% at p99; a longer run or defaults.adaptive narrows the rest).
// (TestCalibration covers more rates, durations and spreads.)
//
// Each run is read once (readRun) and compared at both quantiles, through
// the function CompareQuantile wraps.
func TestRegressionVerdictSimulated(t *testing.T) {
	t.Parallel()
	const (
		trials    = 100
		tolerance = 0.10
		rate      = 500 // operations per second
		seconds   = 10
	)
	quantiles := []float64{0.5, 0.99}
	d := logNormal{median: 2e6, sigma: 0.5}
	// falseAlarms[qi][trial] and caught[qi][trial]: did RegressionVerdict fail
	// the A/A pair and the +30% pair.
	falseAlarms, caught := make([][]bool, len(quantiles)), make([][]bool, len(quantiles))
	// aaPassed and abPassed: did the pair pass (pass or no-change), ruling
	// the tolerance out.
	aaPassed, abPassed := make([][]bool, len(quantiles)), make([][]bool, len(quantiles))
	for qi := range quantiles {
		falseAlarms[qi], caught[qi] = make([]bool, trials), make([]bool, trials)
		aaPassed[qi], abPassed[qi] = make([]bool, trials), make([]bool, trials)
	}
	parallel(trials, workers(), func(trial int) {
		rng := rand.New(rand.NewPCG(5, uint64(trial)))
		values := make([]int64, rate)
		base := readRun(t, rng, d, 1, seconds, values)
		same := readRun(t, rng, d, 1, seconds, values)
		slower := readRun(t, rng, d, 1.3, seconds, values)
		for qi, q := range quantiles {
			aa := RegressionVerdict(compareIntervals(base, same, q, DefaultConfidence, defaultSettings), tolerance)
			ab := RegressionVerdict(compareIntervals(base, slower, q, DefaultConfidence, defaultSettings), tolerance)
			falseAlarms[qi][trial], caught[qi][trial] = aa == status.Fail, ab == status.Fail
			aaPassed[qi][trial] = aa == status.Pass || aa == status.NoChange
			abPassed[qi][trial] = ab == status.Pass || ab == status.NoChange
		}
	})
	for qi, q := range quantiles {
		t.Run(fmt.Sprintf("p%v", 100*q), func(t *testing.T) {
			alarmRate, power := share(falseAlarms[qi]), share(caught[qi])
			t.Logf("A/A fails %.0f%% and passes %.0f%% (the rest inconclusive), A/B +30%% fails %.0f%%", 100*alarmRate, 100*share(aaPassed[qi]), 100*power)
			if n := share(abPassed[qi]); n > 0 {
				t.Errorf("%.0f%% of +30%% candidates passed: a pass must rule the +10%% tolerance out", 100*n)
			}
			if alarmRate > 1.0/20 {
				t.Errorf("%.0f%% of A/A comparisons failed, want at most 5%%", 100*alarmRate)
			}
			if power < 0.95 {
				t.Errorf("%.0f%% of +30%% candidates failed, want at least 95%%", 100*power)
			}
		})
	}
}

func share(outcomes []bool) float64 {
	n := 0
	for _, o := range outcomes {
		if o {
			n++
		}
	}
	return float64(n) / float64(len(outcomes))
}

func TestDetectableRegression(t *testing.T) {
	c := Comparison{Quantile: 0.99, Confidence: 0.9, Method: MethodIntervals, Ratio: 1.154, RatioLo: 0.938, RatioHi: 1.498}
	if got := DetectableRegression(c, 0.10); math.Abs(got-0.316) > 1e-9 {
		t.Errorf("DetectableRegression = %v, want 0.316 (the tolerance plus the interval's reach below the estimate)", got)
	}
	// A true ratio of 1+DetectableRegression with an interval of this width
	// would have failed.
	shifted := c
	d := DetectableRegression(c, 0.10) + 0.001
	shifted.Ratio, shifted.RatioLo, shifted.RatioHi = 1+d, 1+d-(c.Ratio-c.RatioLo), 1+d+(c.RatioHi-c.Ratio)
	if got := RegressionVerdict(shifted, 0.10); got != status.Fail {
		t.Errorf("a shift just beyond the detectable regression is %q, want fail", got)
	}
	if got := DetectableRegression(Comparison{Ratio: 1, RatioLo: math.NaN(), RatioHi: math.NaN()}, 0.10); !math.IsInf(got, 1) {
		t.Errorf("without an interval nothing is detectable: got %v", got)
	}
}
