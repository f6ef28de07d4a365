package capacity

import (
	"fmt"
	"math"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// Bars returns the rates of a component's minimum capacity objectives, for
// Bounds.Bars.
func Bars(comp *slo.Component) []float64 {
	var bars []float64
	for _, o := range comp.SLO.Minimum {
		if o.Metric == slo.MetricCapacity {
			bars = append(bars, o.Threshold.Rate)
		}
	}
	return bars
}

// ProbeObjectives are the objectives a probe of a component is judged by:
// its whole-run minimum objectives but capacity, which one probe at one
// rate cannot measure. A probe runs at one rate, so a stage's objectives
// do not apply to it.
func ProbeObjectives(comp *slo.Component) []slo.Objective {
	var out []slo.Objective
	for _, o := range comp.SLO.Minimum {
		if o.Metric != slo.MetricCapacity && o.Stage == 0 {
			out = append(out, o)
		}
	}
	return out
}

// Judge judges a component's capacity objectives on what its search found
// (c): each minimum rate bar, and each regression against the baseline's
// search of the component (nil when there is no baseline, when the
// regressions are left unjudged and a warning says so). The capacity is
// known only within its bracket, [CapacityRate, UpperRate), and so is the
// baseline's: a bar is passed or failed only when the whole bracket (both
// brackets, for a regression) lies on one side of it, and is inconclusive
// otherwise, never decided by where in the bracket the capacity might be.
func Judge(comp *slo.Component, c *Component, baseline *Component, baselineFile string) (out []status.ObjectiveResult, warnings []string) {
	for _, o := range comp.SLO.Minimum {
		if o.Metric == slo.MetricCapacity {
			out = append(out, judgeBar(o, c))
		}
	}
	for _, o := range comp.SLO.Regression {
		if o.Metric != slo.MetricCapacity {
			continue
		}
		if baseline == nil {
			if baselineFile == "" {
				warnings = append(warnings, fmt.Sprintf("component %q: the capacity regression was not judged: no baseline capacity file given (--baseline)", comp.Name))
			} else {
				warnings = append(warnings, fmt.Sprintf("component %q: the capacity regression was not judged: the baseline %s has no such component", comp.Name, baselineFile))
			}
			continue
		}
		out = append(out, judgeRegression(o, c, baseline, baselineFile))
	}
	return out, warnings
}

// upper is a search's upper bound: UpperRate, or infinity when no probe
// above the capacity failed.
func upper(c *Component) float64 {
	if c.UpperRate == 0 {
		return math.Inf(1)
	}
	return c.UpperRate
}

// Bracket prints a component's capacity with its bracket, as reports do:
// "31200/s (below 32000/s)", "at least 64000/s", "below 1000/s".
func Bracket(c *Component) string {
	switch {
	case c.CapacityRate == 0 && c.UpperRate > 0:
		return fmt.Sprintf("below %s/s", formatRate(c.UpperRate))
	case c.CapacityRate == 0:
		return "none found"
	case c.UpperRate == 0:
		return fmt.Sprintf("at least %s/s", formatRate(c.CapacityRate))
	}
	return fmt.Sprintf("%s/s (below %s/s, +%s)", formatRate(c.CapacityRate), formatRate(c.UpperRate), gate.FormatPercent(c.UpperRate/c.CapacityRate-1))
}

// judgeBar judges capacity: R/s, the minimum tier's bar.
func judgeBar(o slo.Objective, c *Component) status.ObjectiveResult {
	r := gate.ObjectiveOf(o)
	bar := o.Threshold.Rate
	r.ThresholdValue, r.MeasuredValue = bar, c.CapacityRate
	r.Measured = Bracket(c)
	r.IntervalLow, r.IntervalHigh = c.CapacityRate, upper(c)
	if bar > 0 {
		r.Margin = (bar - c.CapacityRate) / bar
	}
	switch {
	case c.CapacityRate > 0 && c.CapacityRate >= bar:
		r.Status = status.Pass
	case c.UpperRate > 0 && c.UpperRate <= bar:
		r.Status = status.Fail
		r.Detail = fmt.Sprintf("a probe at %s/s, at or below the bar, failed", formatRate(c.UpperRate))
	case c.Stop == StopClientBound:
		r.Status = status.ClientBound
		r.Detail = "the search stopped where the load generator, not the target, was the limit, below the bar: " + c.Detail
	case c.Stop == StopMaxRate:
		r.Status = status.Insufficient
		r.Detail = fmt.Sprintf("the search's highest rate, %s/s, is below the bar: raise capacity.max_rate (or --max) above it", formatRate(c.MaxRate))
	case c.UpperRate > 0:
		r.Status = status.Inconclusive
		r.Detail = fmt.Sprintf("the bar lies between the highest rate that passed and the lowest that failed; the search stopped before probing it: %s", c.Detail)
	default:
		r.Status = status.Insufficient
		r.Detail = "the search stopped before it reached the bar: " + c.Detail
	}
	return r
}

// judgeRegression judges capacity: ±X% against the baseline's search: the
// capacity may be at most X% below the baseline's (or must be X% above it,
// for a positive X). It fails when even the highest the candidate's
// capacity may be is below the bar set by the lowest the baseline's may be,
// and passes when even the lowest the candidate's may be reaches the bar
// set by the highest the baseline's may be.
func judgeRegression(o slo.Objective, c, b *Component, baselineFile string) status.ObjectiveResult {
	r := gate.ObjectiveOf(o)
	factor := 1 + o.Threshold.Ratio
	r.ThresholdValue = o.Threshold.Ratio
	r.Baseline, r.BaselineValue = Bracket(b), b.CapacityRate
	r.Measured = fmt.Sprintf("%s against the baseline's %s", Bracket(c), Bracket(b))
	cHigh, bHigh := upper(c), upper(b)
	if b.CapacityRate > 0 && c.CapacityRate > 0 {
		r.MeasuredValue = c.CapacityRate/b.CapacityRate - 1
		r.Measured = fmt.Sprintf("%s (%s against the baseline's %s)", gate.SignedPercent(r.MeasuredValue), Bracket(c), Bracket(b))
		r.Margin = o.Threshold.Ratio - r.MeasuredValue
		r.IntervalLow, r.IntervalHigh = c.CapacityRate/bHigh-1, cHigh/b.CapacityRate-1
	}
	switch {
	case c.CapacityRate == 0 && c.UpperRate == 0 || b.CapacityRate == 0 && b.UpperRate == 0:
		r.Status = status.Insufficient
		r.Detail = "a search found neither a passing nor a failing rate"
	case !math.IsInf(cHigh, 1) && cHigh <= factor*b.CapacityRate:
		r.Status = status.Fail
		r.Detail = fmt.Sprintf("the candidate failed at %s/s, at or below %s of the least the baseline carried (%s/s)", formatRate(cHigh), gate.FormatPercent(factor), formatRate(b.CapacityRate))
	case c.CapacityRate > 0 && c.CapacityRate >= factor*bHigh:
		r.Status = status.Pass
	case c.Stop == StopClientBound:
		r.Status = status.ClientBound
		r.Detail = "the candidate's search stopped where the load generator, not the target, was the limit: " + c.Detail
	default:
		r.Status = status.Inconclusive
		r.Detail = fmt.Sprintf("the brackets overlap the bar: the candidate's capacity is %s, the bar %s of the baseline's %s; search with a finer --precision, or raise the baseline's max_rate if it passed its highest rate", Bracket(c), gate.FormatPercent(factor), Bracket(b))
	}
	return r
}

// Verdict is a capacity file's verdict from its components: error when the
// search is incomplete (interrupted, a probe that could not run), fail when
// a capacity objective failed, error when one could not be judged or, for a
// component without capacity objectives, when its search found no capacity
// or ended on a limit of its own (Stop.Conclusive); pass otherwise.
func Verdict(f *File) status.Verdict {
	if !f.Complete {
		return status.VerdictError
	}
	failed, blocked := false, false
	for _, c := range f.Components {
		for _, o := range c.Objectives {
			switch {
			case o.Status == status.Fail:
				failed = true
			case !o.Status.Judged():
				blocked = true
			}
		}
		if len(c.Objectives) == 0 && (c.CapacityRate == 0 || !c.Stop.Conclusive()) {
			blocked = true
		}
	}
	switch {
	case failed:
		return status.VerdictFail
	case blocked:
		return status.VerdictError
	}
	return status.VerdictPass
}

// ProbeVerdictOf reads a probe's verdict from its judged objectives: an
// error-rate bar breached first, then any other failure (a failure shown
// stands), then client-bound, then too few samples; pass when all held.
func ProbeVerdictOf(objectives []status.ObjectiveResult) (ProbeVerdict, string) {
	rank := map[ProbeVerdict]int{ProbeErrorRate: 1, ProbeFail: 2, ProbeClientBound: 3, ProbeInsufficient: 4, ProbePass: 5}
	verdict, detail := ProbePass, ""
	for _, o := range objectives {
		v := ProbePass
		switch {
		case o.Status == status.Fail && o.Metric == string(slo.MetricErrorRate):
			v = ProbeErrorRate
		case o.Status == status.Fail:
			v = ProbeFail
		case o.Status == status.ClientBound:
			v = ProbeClientBound
		case !o.Status.Judged():
			v = ProbeInsufficient
		}
		if rank[v] < rank[verdict] {
			verdict = v
			detail = fmt.Sprintf("%s %s: %s against %s", o.Operation, o.Metric, o.Measured, o.Threshold)
			if o.Detail != "" {
				detail += ": " + o.Detail
			}
		}
	}
	return verdict, detail
}
