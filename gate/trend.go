package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/result/history"
	"github.com/tailgate-dev/tailgate/slo"
)

// History is what the trend tier judges a result against: the earlier
// runs of a history store, oldest first, and the source (commit) of the
// result being judged.
type History struct {
	Runs    []history.Run
	Current history.Source
}

// TrendRunnerSpread is how far apart, as a ratio, a history run's CPU
// probe median may lie from the judged result's for the trend tier to
// compare the two as runs of one kind of runner. Four quiet runs of one
// machine were 7.7% apart; in the race-detector test suite on one CI
// machine, runs of its quiet phase had 10.5 and 11.2 us and one beside
// other tests' load 12.9 us (1.23 times the lowest). A fleet moved to
// machines half again as slow or fast lies beyond, and would otherwise
// show as a confirmed shift of the target. A smaller move of the fleet is
// not told from load.
const TrendRunnerSpread = 1.5

// sameRunner reports whether a history run's runner is of the judged
// result's kind: as many CPUs, and CPU probe medians within
// TrendRunnerSpread. A run or result without a runner record (older
// versions) is taken to be.
func sameRunner(cur *result.Runner, run *history.Runner) bool {
	if cur == nil || run == nil {
		return true
	}
	if cur.CPUs != run.CPUs {
		return false
	}
	a, b := float64(cur.CPUProbeNS.P50), float64(run.CPUProbeNS.P50)
	return a <= 0 || b <= 0 || max(a/b, b/a) <= TrendRunnerSpread
}

// clientBoundIn reports whether objectives judged the operation and metric
// of o client-bound: the run's value of it was the load generator's as
// much as the target's.
func clientBoundIn(objectives []status.ObjectiveResult, o slo.Objective) bool {
	for _, r := range objectives {
		if r.Operation == o.Operation && r.Metric == string(o.Metric) && r.Stage == 0 && r.Status == status.ClientBound {
			return true
		}
	}
	return false
}

// trendPoint is one run of a metric's series.
type trendPoint struct {
	value  float64
	source history.Source
	at     time.Time
	// contention is the run's runner's CPU pressure and steal, where
	// recorded.
	contention result.Contention
}

// label names a run in an alarm: its commit, or its start time.
func (p trendPoint) label() string {
	if l := p.source.Label(); l != "" {
		return l
	}
	return p.at.UTC().Format("2006-01-02 15:04")
}

// judgeTrend judges one trend objective: the series of the metric over the
// history's runs of the same workload, the judged result last, is searched
// for change points (stats.TrendAlarms at significance alpha); the
// objective fails when a confirmed change point, or the drift from the
// anchor's segment (the oldest run's) to the latest, raises the metric by
// more than the bar. Each alarm names the runs (commits) between which the
// shift happened. A series too short to confirm a change is insufficient,
// which the verdict reports without blocking the run.
func judgeTrend(o slo.Objective, cr *result.ComponentResult, res *result.Result, hist *History, alpha float64) status.ObjectiveResult {
	r := ObjectiveOf(o)
	r.ThresholdValue = o.Threshold.Ratio
	need := slo.MinSamples(o.Metric)
	var points []trendPoint
	other, otherRunner, unjudged := 0, 0, 0
	for i := range hist.Runs {
		run := &hist.Runs[i]
		if run.StartedAt.Equal(res.StartedAt) {
			continue // the judged result itself, added before
		}
		c := run.Component(cr.Name)
		if !run.Complete || c == nil {
			continue
		}
		if c.WorkloadHash != cr.WorkloadHash {
			other++
			continue
		}
		if !sameRunner(res.Runner, run.Runner) {
			otherRunner++
			continue
		}
		if clientBoundIn(c.Objectives, o) {
			unjudged++
			continue
		}
		if op := c.Operation(o.Operation); op != nil && op.Count >= need {
			if v, err := op.LatencyNS.At(o.Metric); err == nil && v > 0 {
				p := trendPoint{value: float64(v), source: run.Source, at: run.StartedAt}
				if run.Runner != nil {
					p.contention = result.Contention{Pressure: run.Runner.CPUPressure, Steal: run.Runner.CPUSteal}
				}
				points = append(points, p)
			}
		}
	}
	if op := cr.Operation(o.Operation); res.Complete && op != nil && op.Count >= need {
		if v, err := op.LatencyNS.At(o.Metric); err == nil && v > 0 {
			points = append(points, trendPoint{value: float64(v), source: hist.Current, at: res.StartedAt, contention: res.Runner.CPUContention()})
		}
	}
	var notes []string
	if other > 0 {
		notes = append(notes, fmt.Sprintf("%s of another workload left out", Plural(other, "run", "runs")))
	}
	if otherRunner > 0 {
		notes = append(notes, fmt.Sprintf("%s on another kind of runner left out (another CPU count, or a CPU probe median more than %g times this run's, or less than 1/%g)",
			Plural(otherRunner, "run", "runs"), TrendRunnerSpread, TrendRunnerSpread))
	}
	if unjudged > 0 {
		notes = append(notes, fmt.Sprintf("%s whose %s %s was client-bound left out", Plural(unjudged, "run", "runs"), o.Operation, o.Metric))
	}
	if min := 2 * stats.MinSegment; len(points) < min {
		r.Status = status.Insufficient
		r.Measured = Plural(len(points), "run", "runs")
		r.Detail = fmt.Sprintf("the history is too short to judge: %s of this workload with enough samples (this one included); a change is confirmed only with %d runs on each side, so the trend tier needs at least %d",
			Plural(len(points), "run", "runs"), stats.MinSegment, min) + joinNotes(notes)
		return r
	}
	values := make([]float64, len(points))
	for i, p := range points {
		values[i] = p.value
	}
	alarms, cps := stats.TrendAlarms(values, o.Threshold.Ratio, alpha)
	segs := stats.Segments(len(values), cps)
	first, last := segs[0], segs[len(segs)-1]
	anchor := stats.Median(values[first[0]:first[1]])
	latest := stats.Median(values[last[0]:last[1]])
	r.BaselineValue, r.MeasuredValue = anchor, latest
	r.Baseline = fmt.Sprintf("%s (anchor %s)", slo.FormatDuration(time.Duration(anchor)), points[0].label())
	rise := latest/anchor - 1
	var shifts []string
	for _, c := range cps {
		shifts = append(shifts, fmt.Sprintf("%s..%s %s (p=%.3f)", points[c.Index-1].label(), points[c.Index].label(), SignedPercent(c.Ratio-1), c.PValue))
	}
	summary := fmt.Sprintf("%s; ", Plural(len(points), "run", "runs"))
	if len(cps) == 0 {
		summary += "no change point"
	} else {
		summary += Plural(len(cps), "change point", "change points") + ": " + strings.Join(shifts, ", ")
	}
	switch {
	case len(alarms) > 0:
		r.Status = status.Fail
		var said []string
		worst := alarms[0]
		for _, a := range alarms {
			if a.Rise > worst.Rise {
				worst = a
			}
			if a.Drift {
				said = append(said, fmt.Sprintf("drift %s since the anchor run %s, in steps each within %s, the last at %s",
					SignedPercent(a.Rise), points[0].label(), SignedPercent(o.Threshold.Ratio), points[a.After].label()))
			} else {
				said = append(said, fmt.Sprintf("a shift of %s between %s and %s", SignedPercent(a.Rise), points[a.Before].label(), points[a.After].label()))
			}
		}
		rise = worst.Rise
		r.PValue = worst.PValue
		r.Detail = strings.Join(said, "; ") + "; " + summary + joinNotes(notes)
	case len(cps) == 0:
		r.Status = status.NoChange
		r.Detail = summary + joinNotes(notes)
	default:
		r.Status = status.Pass
		r.Detail = summary + joinNotes(notes)
	}
	r.Margin = rise
	r.Measured = fmt.Sprintf("%s (%s)", SignedPercent(rise), slo.FormatDuration(time.Duration(latest)))
	if r.Status == status.Fail {
		generatorsRise(&r, o, cr.Operation(o.Operation), res.Runner, anchor)
	}
	if r.Status == status.Fail {
		busierAfter(&r, points, segs, alarms)
	}
	return r
}

// busierAfter makes a failed trend objective inconclusive (runner noise)
// when every alarm's rise came with busier runners: the runs after it
// (the last segment, for a drift) had a median contention at least
// MaterialContention above the runs before it (the anchor's segment). How
// much a busier runner slows a target sharing it is not measured, so the
// rise cannot be told from the runners'. Contentions sum only the figures
// every run of both sides records (result.Contentions), as between a
// baseline and a candidate; an alarm whose runs share none stands.
func busierAfter(r *status.ObjectiveResult, points []trendPoint, segs [][2]int, alarms []stats.TrendAlarm) {
	segmentOf := func(i int) [2]int {
		for _, s := range segs {
			if i >= s[0] && i < s[1] {
				return s
			}
		}
		return segs[len(segs)-1]
	}
	// medians are the median contentions of the runs of before and of
	// after, over the figures all of them record (result.Contentions).
	medians := func(before, after [2]int) (calm, busy float64, ok bool) {
		var cs []result.Contention
		for _, s := range [][2]int{before, after} {
			for _, p := range points[s[0]:s[1]] {
				cs = append(cs, p.contention)
			}
		}
		n := before[1] - before[0]
		shares, ok := result.Contentions(cs...)
		if !ok || n == 0 || n == len(shares) {
			return 0, 0, false
		}
		return stats.Median(shares[:n]), stats.Median(shares[n:]), true
	}
	var said []string
	for _, a := range alarms {
		before, after := segmentOf(a.Before), segmentOf(a.After)
		if a.Drift {
			before, after = segs[0], segs[len(segs)-1]
		}
		calm, busy, ok := medians(before, after)
		if !ok || busy-calm < MaterialContention {
			return
		}
		said = append(said, fmt.Sprintf("runs %s..%s a median %s of the measured window, against %s before", points[after[0]].label(), points[after[1]-1].label(), FormatPercent(busy), FormatPercent(calm)))
	}
	if len(said) == 0 {
		return
	}
	r.Status = status.Inconclusive
	r.Detail = fmt.Sprintf(runnerNoiseDetail+": the runs after the rise ran on busier runners than those before it (kept from a CPU by other tasks or by their hypervisors: %s), which slows a target sharing them by more than tailgate's own delays show, so the fail cannot stand; ",
		strings.Join(said, "; ")) + r.Detail
}

// generatorsRise makes a failed trend objective client-bound when the
// judged run's own measurement floor could have made the rise: the
// target's part of its value may lie within the anchor's plus the
// tolerance, and the load generator's delay is material to that (the
// client-bound rule of a minimum bar, at the bar the trend implies).
func generatorsRise(r *status.ObjectiveResult, o slo.Objective, op *result.OperationResult, runner *result.Runner, anchor float64) {
	f, ok := FloorOf(op, runner, metricQuantile(o.Metric))
	bar := anchor * (1 + o.Threshold.Ratio)
	if !ok || !f.excuses(bar) {
		return
	}
	r.Status = status.ClientBound
	r.Detail = fmt.Sprintf("the load generator was too late in this run to tell the rise from its own delay: its own delay at %s was %s (client delay %s, runner wake-up delay %s), and the target's part may be within the anchor's %s plus %s (%s; at least %s): %s; ",
		o.Metric, dur(f.NS()), dur(f.ClientNS), dur(f.WakeupNS), dur(int64(anchor)), SignedPercent(o.Threshold.Ratio), dur(int64(bar)), dur(f.TargetNS), f.Remedies()) + r.Detail
}
