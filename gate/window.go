package gate

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// judgeOverTime judges an objective on the course of the run, from its
// per-interval histograms: p99_window (no window's p99 above the bar) or
// drift (the last third's p99 at most the tolerance above the first
// third's, compared as the regression tier compares two runs). confidence
// is the per-objective confidence of the regression statistics.
func judgeOverTime(o slo.Objective, cr *result.ComponentResult, intervalNS int64, confidence float64) status.ObjectiveResult {
	r := ObjectiveOf(o)
	op := cr.Operation(o.Operation)
	if op == nil || op.Count+op.Errors == 0 {
		return noData(r, o.Tier, "no data", fmt.Sprintf("operation %q recorded no operations", o.Operation))
	}
	intervals, err := op.IntervalHistograms()
	if err != nil {
		return noData(r, o.Tier, "no data", err.Error())
	}
	if o.Metric == slo.MetricP99Window {
		return judgeWindows(r, o, intervals, intervalNS)
	}
	return judgeDrift(r, o, intervals, confidence)
}

// judgeWindows cuts the intervals into consecutive windows of the
// objective's length and judges each window's p99 that has enough samples
// to estimate it; a trailing part shorter than a window is left out.
func judgeWindows(r status.ObjectiveResult, o slo.Objective, intervals []*hdrhistogram.Histogram, intervalNS int64) status.ObjectiveResult {
	r.ThresholdValue = float64(o.Threshold.Latency.Nanoseconds())
	if intervalNS <= 0 {
		return noData(r, o.Tier, "no intervals", "the result records no interval length")
	}
	per := int((o.Threshold.Window.Nanoseconds() + intervalNS/2) / intervalNS)
	if per < 1 {
		per = 1
	}
	windows := len(intervals) / per
	if windows == 0 {
		return noData(r, o.Tier, "no window", fmt.Sprintf("the run measured %s, shorter than one %s window",
			slo.FormatDuration(time.Duration(int64(len(intervals))*intervalNS)), slo.FormatDuration(o.Threshold.Window)))
	}
	need := slo.MinSamples(slo.MetricP99)
	judged, sparse, worst, worstAt := 0, 0, int64(-1), 0
	for w := range windows {
		h := result.NewHistogram()
		for _, iv := range intervals[w*per : (w+1)*per] {
			h.Merge(iv)
		}
		if h.TotalCount() < need {
			sparse++
			continue
		}
		judged++
		if p := h.ValueAtQuantile(99); p > worst {
			worst, worstAt = p, w
		}
	}
	window := time.Duration(int64(per) * intervalNS)
	var notes []string
	if sparse > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d windows had fewer than %d samples for a p99 and were not judged", sparse, windows, need))
	}
	if rest := len(intervals) - windows*per; rest > 0 {
		notes = append(notes, fmt.Sprintf("the last %s, shorter than a window, was not judged", slo.FormatDuration(time.Duration(int64(rest)*intervalNS))))
	}
	if judged == 0 {
		r = noData(r, o.Tier, fmt.Sprintf("%d windows", windows), "no window had enough samples for a p99")
		r.Detail += joinNotes(notes)
		return r
	}
	from := time.Duration(int64(worstAt) * window.Nanoseconds())
	r.MeasuredValue = float64(worst)
	r.Measured = fmt.Sprintf("%s at %s–%s", slo.FormatDuration(time.Duration(worst)), slo.FormatDuration(from), slo.FormatDuration(from+window))
	r.Margin = (r.MeasuredValue - r.ThresholdValue) / r.ThresholdValue
	r.Status = status.Pass
	if o.Tier == slo.TierAspirational {
		r.Status = status.Met
	}
	if r.MeasuredValue > r.ThresholdValue {
		r.Status = status.Fail
		if o.Tier == slo.TierAspirational {
			r.Status = status.Missed
		}
	}
	r.Detail = fmt.Sprintf("the worst of %d judged %s windows", judged, slo.FormatDuration(window)) + joinNotes(notes)
	return r
}

func joinNotes(notes []string) string {
	out := ""
	for _, n := range notes {
		out += "; " + n
	}
	return out
}

// judgeDrift compares the p99 of the run's last third of intervals with
// its first third's, with the regression tier's statistics.
func judgeDrift(r status.ObjectiveResult, o slo.Objective, intervals []*hdrhistogram.Histogram, confidence float64) status.ObjectiveResult {
	r.ThresholdValue = o.Threshold.Ratio
	third := len(intervals) / 3
	if third == 0 {
		return noData(r, o.Tier, fmt.Sprintf("%d intervals", len(intervals)), "drift compares the first and last thirds of the run, and it has fewer than 3 intervals")
	}
	first, last := intervals[:third], intervals[len(intervals)-third:]
	need := slo.MinSamples(slo.MetricP99)
	if a, b := countOf(first), countOf(last); a < need || b < need {
		return noData(r, o.Tier, fmt.Sprintf("%d and %d samples", a, b),
			fmt.Sprintf("drift needs at least %d samples in each third for a p99 (first %d, last %d)", need, a, b))
	}
	cmp := stats.CompareQuantile(first, last, 0.99, twoSided(confidence))
	r.MeasuredValue = float64(cmp.CandEstimate)
	r.BaselineValue = float64(cmp.BaseEstimate)
	applyComparison(&r, cmp, o.Threshold.Ratio)
	r.Measured = fmt.Sprintf("%s (p99 %s → %s)", SignedPercent(r.Margin), slo.FormatDuration(time.Duration(cmp.BaseEstimate)), slo.FormatDuration(time.Duration(cmp.CandEstimate)))
	r.Baseline = "first third " + slo.FormatDuration(time.Duration(cmp.BaseEstimate))
	if o.Tier == slo.TierAspirational {
		switch r.Status {
		case status.Fail, status.Inconclusive, status.Insufficient:
			r.Status = status.Missed
		default:
			r.Status = status.Met
		}
	}
	return r
}

func countOf(hs []*hdrhistogram.Histogram) int64 {
	var n int64
	for _, h := range hs {
		n += h.TotalCount()
	}
	return n
}
