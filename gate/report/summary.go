package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// tally counts a result's objectives by what they mean for the verdict.
type tally struct {
	total int
	// required counts minimum and regression objectives; aspirational the
	// milestones, of which met were reached.
	required, aspirational, met int
	failed                      int
	// insufficient and clientBound count required objectives that could not
	// be judged; inconclusive the regression objectives that could not.
	insufficient, clientBound, inconclusive int
	missed                                  int
	// judged counts objectives given a verdict (status.Judged).
	judged int
}

func tallyOf(res *result.Result) tally {
	var t tally
	for _, c := range res.Components {
		for _, o := range c.Objectives {
			t.total++
			aspirational := o.Tier == string(slo.TierAspirational)
			if aspirational {
				t.aspirational++
			} else {
				t.required++
			}
			if o.Status.Judged() {
				t.judged++
			}
			switch {
			case o.Status == status.Fail:
				t.failed++
			case o.Status == status.Inconclusive:
				t.inconclusive++
			case o.Status == status.Insufficient && blocks(o):
				t.insufficient++
			case o.Status == status.ClientBound && !aspirational:
				t.clientBound++
			case o.Status == status.Missed:
				t.missed++
			case o.Status == status.Met:
				t.met++
			}
		}
	}
	return t
}

// verdictWord is the verdict as the reports' headlines print it. A shard, or
// a result nothing judged (as merge writes it), has none: NOT JUDGED.
func verdictWord(res *result.Result) string {
	switch {
	case res.Shard != nil && res.Complete:
		return "NOT JUDGED"
	case res.Verdict == status.VerdictPass && tallyOf(res).judged == 0:
		return "NOT JUDGED"
	case res.Verdict == "":
		return "UNKNOWN"
	}
	return strings.ToUpper(string(res.Verdict))
}

// headline says in one sentence why the verdict is what it is.
func headline(res *result.Result) string {
	t := tallyOf(res)
	switch {
	case !res.Complete:
		s := "the run did not complete"
		if res.Incomplete != "" {
			s += ": " + res.Incomplete
		}
		return s
	case res.Shard != nil:
		return fmt.Sprintf("shard %d of %d written; it is judged after merge: tailgate merge the %d shards, then tailgate check the merged result",
			res.Shard.Index, res.Shard.Count, res.Shard.Count)
	case t.failed > 0:
		return fmt.Sprintf("%d of %s failed", t.failed, gate.Plural(t.total, "objective", "objectives"))
	case t.inconclusive+t.insufficient+t.clientBound > 0 && res.Verdict != status.VerdictPass:
		var why []string
		if t.inconclusive > 0 {
			why = append(why, fmt.Sprintf("%d inconclusive", t.inconclusive))
		}
		if t.insufficient > 0 {
			why = append(why, fmt.Sprintf("%d with too few samples", t.insufficient))
		}
		if t.clientBound > 0 {
			why = append(why, fmt.Sprintf("%d client-bound", t.clientBound))
		}
		return fmt.Sprintf("%d of %s could not be judged: %s", t.inconclusive+t.insufficient+t.clientBound,
			gate.Plural(t.total, "objective", "objectives"), strings.Join(why, ", "))
	case t.judged == 0 && res.Verdict == status.VerdictPass:
		return "no objective was judged: check the result against its plan"
	case t.judged == 0:
		return "no objective was judged, and a run that judged nothing is not a pass"
	case res.Verdict == status.VerdictError:
		return "the run failed"
	}
	var s string
	switch t.required {
	case 0:
		s = "no required objectives"
	case 1:
		s = "the 1 required objective passed"
	default:
		s = fmt.Sprintf("all %d required objectives passed", t.required)
	}
	if t.inconclusive > 0 {
		s = fmt.Sprintf("%d of %d required objectives passed, %d inconclusive let through by the plan", t.required-t.inconclusive, t.required, t.inconclusive)
	}
	if t.aspirational > 0 {
		s += fmt.Sprintf("; %d of %s met", t.met, gate.Plural(t.aspirational, "aspirational milestone", "aspirational milestones"))
	}
	return s
}

// isRegression reports whether an objective compares with other runs: a
// baseline (regression) or the history (trend); its bar is a relative change.
func isRegression(o status.ObjectiveResult) bool {
	return o.Tier == string(slo.TierRegression) || o.Tier == string(slo.TierTrend)
}

// blocks reports whether an objective that could not be judged stops the
// run's verdict: a required one, but not a trend objective whose history
// is still too short.
func blocks(o status.ObjectiveResult) bool {
	return o.Tier != string(slo.TierAspirational) && o.Tier != string(slo.TierTrend)
}

// lowerIsBetter reports the direction of an objective's bar: throughput must
// stay high, everything else low.
func lowerIsBetter(o status.ObjectiveResult) bool {
	return o.Metric != string(slo.MetricThroughput)
}

// barExpression writes an objective's bar with the given comparison signs:
// "<= 2ms", ">= 99%", "<= baseline +10%", ">= baseline -5%".
func barExpression(o status.ObjectiveResult, atMost, atLeast string) string {
	switch {
	case isRegression(o) && lowerIsBetter(o):
		return atMost + " baseline " + o.Threshold
	case isRegression(o):
		// The gate allows a drop of the threshold's size, whatever its sign.
		return atLeast + " baseline -" + strings.TrimLeft(o.Threshold, "+-")
	case lowerIsBetter(o):
		return atMost + " " + o.Threshold
	}
	return atLeast + " " + o.Threshold
}

// objectiveName names an objective in plain ASCII, as a test case:
// "get p99 <= 2ms (minimum)".
func objectiveName(o status.ObjectiveResult) string {
	return fmt.Sprintf("%s %s %s (%s)", o.Subject(), o.Metric, barExpression(o, "<=", ">="), o.Tier)
}

// changeText describes a regression objective's change from the baseline:
// "+15% [+8%, +22%] from 1.2ms". It is empty for other tiers.
func changeText(o status.ObjectiveResult) string {
	if !isRegression(o) || o.Status == status.Insufficient {
		return ""
	}
	change := o.Margin
	if !lowerIsBetter(o) {
		// The gate's throughput margin is the drop; the change is its opposite.
		change = -o.Margin
	}
	s := SignedPercent(change)
	if o.IntervalLow != 0 || o.IntervalHigh != 0 {
		s += " [" + SignedPercent(o.IntervalLow) + ", " + SignedPercent(o.IntervalHigh) + "]"
	}
	if o.Baseline != "" {
		s += " from " + o.Baseline
	}
	return s
}

// shortfall says how far a failed or missed objective is from its bar, in
// the same words as its margin (MarginText): "+6.4% over the bar", "+3%
// short of the bar", "+15% [+8%, +22%] from 1.2ms, +10% allowed".
func shortfall(o status.ObjectiveResult) string {
	if isRegression(o) {
		allowed := o.Threshold
		if !lowerIsBetter(o) {
			allowed = "-" + strings.TrimLeft(o.Threshold, "+-")
		}
		return changeText(o) + ", " + allowed + " allowed"
	}
	if math.IsInf(o.Margin, 1) {
		return "above a bar of zero"
	}
	if lowerIsBetter(o) {
		return MarginText(o) + " over the bar"
	}
	return MarginText(o) + " short of the bar"
}

// intervalText prints the 95% confidence interval of an absolute
// objective's measured percentile, "[23.1ms, 29ms]", or "" when the gate
// computed none (a regression's interval is its change's: changeText).
func intervalText(o status.ObjectiveResult) string {
	if isRegression(o) || !slo.Metric(o.Metric).IsLatency() || o.IntervalLow == 0 && o.IntervalHigh == 0 {
		return ""
	}
	return "[" + Latency(int64(o.IntervalLow)) + ", " + Latency(int64(o.IntervalHigh)) + "]"
}

// barInInterval reports whether an absolute objective's bar lies inside the
// confidence interval of its measurement: the verdict follows the measured
// value, as the gate judged it, but the run cannot tell on which side of
// the bar the true percentile lies.
func barInInterval(o status.ObjectiveResult) bool {
	return intervalText(o) != "" && o.Status.Judged() &&
		o.IntervalLow <= o.ThresholdValue && o.ThresholdValue <= o.IntervalHigh
}

// withinIntervalText is the words every report uses when barInInterval.
const withinIntervalText = "bar within the interval"

// intervalNote says so in a sentence, or is empty.
func intervalNote(o status.ObjectiveResult) string {
	if !barInInterval(o) {
		return ""
	}
	return fmt.Sprintf("%s: the bar %s lies inside the 95%% confidence interval %s of the measured %s, so the run cannot place the true %s on either side of it; the status follows the measured value",
		withinIntervalText, o.Threshold, intervalText(o), o.Metric, o.Metric)
}

// operationsToPlot lists the operations a chart draws: every operation, but
// not "all" when it only repeats a component's single operation.
func operationsToPlot(c *result.ComponentResult) []*result.OperationResult {
	var named []*result.OperationResult
	var all *result.OperationResult
	for i := range c.Operations {
		if c.Operations[i].Name == slo.AllOperations {
			all = &c.Operations[i]
			continue
		}
		named = append(named, &c.Operations[i])
	}
	if all != nil && len(named) != 1 {
		named = append(named, all)
	}
	return named
}

// waterfallOperations lists the operations that get a latency waterfall:
// each one the component issues; "all" only when it is the only one.
func waterfallOperations(c *result.ComponentResult) []*result.OperationResult {
	var ops []*result.OperationResult
	for i := range c.Operations {
		if c.Operations[i].Name != slo.AllOperations {
			ops = append(ops, &c.Operations[i])
		}
	}
	if len(ops) == 0 {
		for i := range c.Operations {
			ops = append(ops, &c.Operations[i])
		}
	}
	return ops
}
