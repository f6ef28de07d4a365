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
// is the per-objective confidence of the regression statistics; runner is
// the result's runner record (nil in older results). Where the result
// records each interval's client delays, a slice of the run is held to the
// same rule as a whole run's latency (see clientBound): what the load
// generator's own delay could explain is client-bound, not the target's.
func judgeOverTime(o slo.Objective, cr *result.ComponentResult, intervalNS int64, confidence float64, runner *result.Runner) status.ObjectiveResult {
	r := ObjectiveOf(o)
	op := cr.Operation(o.Operation)
	if op == nil || op.Count+op.Errors == 0 {
		return noData(r, o.Tier, "no data", fmt.Sprintf("operation %q recorded no operations", o.Operation))
	}
	t, err := readOverTime(op, runner)
	if err != nil {
		return noData(r, o.Tier, "no data", err.Error())
	}
	if o.Metric == slo.MetricP99Window {
		return judgeWindows(r, o, t, intervalNS)
	}
	return judgeDrift(r, o, t, confidence)
}

// overTime is an operation's record read for judging it over time: its
// interval histograms, and the operation and runner record its slices'
// floors are read from (see intervalDelays).
type overTime struct {
	intervals []*hdrhistogram.PackedHistogram
	op        *result.OperationResult
	runner    *result.Runner
}

func readOverTime(op *result.OperationResult, runner *result.Runner) (overTime, error) {
	intervals, err := op.IntervalHistograms()
	if err != nil {
		return overTime{}, err
	}
	return overTime{intervals: intervals, op: op, runner: runner}, nil
}

// merged is intervals [from, to) merged into one histogram.
func merged(hs []*hdrhistogram.PackedHistogram, from, to int) *hdrhistogram.Histogram {
	h := result.NewHistogram()
	for _, iv := range hs[from:to] {
		iv.MergeInto(h)
	}
	return h
}

// floor is the measurement floor at the p99 of intervals [from, to), whose
// latencies latency holds merged; ok is false without client delays.
func (t overTime) floor(latency *hdrhistogram.Histogram, from, to int) (f Floor, ok bool) {
	client, wake, ok := intervalDelays(t.op, t.runner, from, to)
	if !ok {
		return Floor{}, false
	}
	// Reading the result decoded every interval's histograms once: one
	// that does not decode now is read as missing (nil), as in an older
	// result.
	own, _ := t.op.LatenciesLessClientOver(from, to)
	f = sliceFloor(latency, client, wake, own, 0.99)
	f.Steal = stealOf(t.runner)
	return f, true
}

// window is one judged window: its index, p99 and measurement floor.
type window struct {
	index int
	p99   int64
	floor Floor
}

// worse is the window of the two with the higher p99; a has it when none
// was set (p99 −1).
func worse(a, b window) window {
	if b.p99 > a.p99 {
		return b
	}
	return a
}

// judgeWindows cuts the intervals into consecutive windows of the
// objective's length and judges each window's p99 that has enough samples
// to estimate it; a trailing part shorter than a window is left out. A
// window above the bar fails the objective unless its own floor excuses it
// (client-bound); the objective is client-bound when every window above
// the bar is.
func judgeWindows(r status.ObjectiveResult, o slo.Objective, t overTime, intervalNS int64) status.ObjectiveResult {
	r.ThresholdValue = float64(o.Threshold.Latency.Nanoseconds())
	bar := r.ThresholdValue
	if intervalNS <= 0 {
		return noData(r, o.Tier, "no intervals", "the result records no interval length")
	}
	intervals := t.intervals
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
	judged, sparse, failed, excused := 0, 0, 0, 0
	none := window{p99: -1}
	worst, worstFailed, worstExcused := none, none, none
	for w := range windows {
		h := merged(intervals, w*per, (w+1)*per)
		if h.TotalCount() < need {
			sparse++
			continue
		}
		judged++
		cur := window{index: w, p99: h.ValueAtQuantile(99)}
		f, hasFloor := t.floor(h, w*per, (w+1)*per)
		if hasFloor {
			cur.floor = f
			r.FloorNS = max(r.FloorNS, f.NS())
		}
		worst = worse(worst, cur)
		if float64(cur.p99) > bar {
			if hasFloor && f.excuses(bar) {
				excused++
				worstExcused = worse(worstExcused, cur)
			} else {
				failed++
				worstFailed = worse(worstFailed, cur)
			}
		}
	}
	length := time.Duration(int64(per) * intervalNS)
	span := func(w window) string {
		from := time.Duration(int64(w.index) * length.Nanoseconds())
		return slo.FormatDuration(from) + "–" + slo.FormatDuration(from+length)
	}
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
	shown := worst
	if failed > 0 {
		shown = worstFailed
	}
	r.MeasuredValue = float64(shown.p99)
	r.Measured = fmt.Sprintf("%s at %s", slo.FormatDuration(time.Duration(shown.p99)), span(shown))
	r.Margin = (r.MeasuredValue - bar) / bar
	aspirational := o.Tier == slo.TierAspirational
	switch {
	case failed > 0 && aspirational:
		r.Status = status.Missed
	case failed > 0:
		r.Status = status.Fail
	case excused > 0:
		r.Status = status.ClientBound
	case aspirational:
		r.Status = status.Met
	default:
		r.Status = status.Pass
	}
	r.Detail = fmt.Sprintf("the worst of %d judged %s windows", judged, slo.FormatDuration(length))
	if excused > 0 {
		f := worstExcused.floor
		verb := "were"
		if excused == 1 {
			verb = "was"
		}
		excuse := fmt.Sprintf("%d of %d judged windows %s above the bar only while the load generator was too late to measure the target: the worst at %s, p99 %s, with its own delay at p99 %s (client delay %s, runner wake-up delay %s), and %s",
			excused, judged, verb, span(worstExcused), dur(worstExcused.p99), dur(f.NS()), dur(f.ClientNS), dur(f.WakeupNS), targetPart(f.TargetNS, "the target's part"))
		if failed == 0 {
			r.Detail = excuse + ": " + f.Remedies()
		} else {
			notes = append(notes, excuse)
		}
	}
	r.Detail += joinNotes(notes)
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
// its first third's, with the regression tier's statistics. With client
// delays recorded, what the load generator did is taken out of the
// verdict either way: a drift the last third's floor could explain is
// client-bound rather than a fail, and so is a pass whose first third the
// generator was materially later in than in the last, when the target's own
// first-third p99 may lie low enough for the drift to be past the tolerance.
func judgeDrift(r status.ObjectiveResult, o slo.Objective, t overTime, confidence float64) status.ObjectiveResult {
	r.ThresholdValue = o.Threshold.Ratio
	intervals := t.intervals
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
	if fFirst, ok := t.floor(merged(intervals, 0, third), 0, third); ok {
		n := len(intervals)
		fLast, _ := t.floor(merged(intervals, n-third, n), n-third, n)
		r.FloorNS = max(fFirst.NS(), fLast.NS())
		driftFloor(&r, cmp, o.Threshold.Ratio, fFirst, fLast)
	}
	busyDrift(&r, t.runner)
	if o.Tier == slo.TierAspirational {
		switch r.Status {
		case status.Fail, status.Inconclusive, status.Insufficient:
			r.Status = status.Missed
		case status.ClientBound:
		default:
			r.Status = status.Met
		}
	}
	return r
}

// busyDrift makes a drift verdict on a busy runner inconclusive (runner
// noise): one whose contention (CPU pressure plus steal) was at least
// BusyContention. Drift compares two thirds of one run, and a runner's
// contention is recorded for the whole run only, so it may have fallen on
// either third: on the first it raises the p99 the last is compared with
// and hides a growth, on the last it makes one. Seen on a host whose
// hypervisor stole 34.6%: a target whose delay grew from 2 ms to 14 ms
// "passed" drift at -74.4% (p99 150 ms in the first third, 38.5 ms in the
// last). A verdict the generator's own delay decided (client-bound) says
// more and is left as it is.
func busyDrift(r *status.ObjectiveResult, runner *result.Runner) {
	switch r.Status {
	case status.Pass, status.NoChange, status.Fail:
	default:
		return
	}
	c, ok := runner.Contention(runner) // the figures it records
	if !ok || c < BusyContention {
		return
	}
	was, detail := r.Status, r.Detail
	r.Status = status.Inconclusive
	r.Detail = fmt.Sprintf(runnerNoiseDetail+": the runner was kept from a CPU, by other tasks or by its hypervisor, %s of the measured window, which may have fallen on either third and slows a target sharing it by more than tailgate's own delays show, so the %s cannot stand; run on a quieter runner",
		FormatPercent(c), was)
	if detail != "" {
		r.Detail += "; " + detail
	}
}

// driftFloor makes a drift verdict that the load generator's own delay
// could have decided client-bound, given the floors of the first and last
// thirds at their p99:
//
//   - a fail, when the last third's floor excuses its p99 against what the
//     tolerance allows over the first third's (the first third's p99, its
//     floor in it, only raises that allowance);
//   - a pass or no change, when the generator was later in the first third
//     than in the last by at least MaterialFloor of the first third's p99,
//     and the target's own first-third p99 may be low enough (its lower
//     bound) for the last third's p99 to lie past the tolerance over it. A
//     delay steady through the run raises both thirds alike and is left to
//     stand, as a whole run's latency bar leaves a precise generator's.
func driftFloor(r *status.ObjectiveResult, cmp stats.Comparison, tol float64, first, last Floor) {
	base, cand := float64(cmp.BaseEstimate), float64(cmp.CandEstimate)
	switch r.Status {
	case status.Fail:
		allowed := base * (1 + tol)
		if !last.excuses(allowed) {
			return
		}
		r.Status = status.ClientBound
		r.Detail = fmt.Sprintf("the load generator was too late to measure the target in the last third: its own delay at p99 there was %s (client delay %s, runner wake-up delay %s), %s of the %s the tolerance allows over the first third's p99, and the target's own p99 there may be within it (%s): %s",
			dur(last.NS()), dur(last.ClientNS), dur(last.WakeupNS), FormatPercent(float64(last.NS())/allowed), dur(int64(allowed)), targetPart(last.TargetNS, "it is"), last.Remedies())
	case status.Pass, status.NoChange:
		if float64(first.NS()-last.NS()) < MaterialFloor*base || cand <= (1+tol)*float64(first.TargetNS) {
			return
		}
		hidden := fmt.Sprintf("the target's own p99 there cannot be told from zero, so no drift of the last third's %s can be ruled out", dur(int64(cand)))
		if first.TargetNS > 0 {
			hidden = fmt.Sprintf("the target's own p99 there may be as low as %s, against which the last third's %s is %s, past the %s tolerance",
				dur(first.TargetNS), dur(int64(cand)), SignedPercent(cand/float64(first.TargetNS)-1), SignedPercent(tol))
		}
		r.Status = status.ClientBound
		r.Detail = fmt.Sprintf("the load generator was later in the first third than in the last (its own delay at p99 %s against %s), so the first third's p99 %s may be more its delay than the target's: %s: %s",
			dur(first.NS()), dur(last.NS()), dur(int64(base)), hidden, first.Remedies())
	}
}

// targetPart says what the least the target took, ns, is known to be:
// "<what> at least 1.2ms", or that it cannot be told from zero.
func targetPart(ns int64, what string) string {
	if ns <= 0 {
		return what + " cannot be told from zero"
	}
	return what + " at least " + dur(ns)
}

func countOf(hs []*hdrhistogram.PackedHistogram) int64 {
	var n int64
	for _, h := range hs {
		n += h.TotalCount()
	}
	return n
}
