package gate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// runners are the runner records of a baseline and a candidate result.
type runners struct{ base, cand *result.Runner }

// judgeRegression judges one regression objective: the candidate's metric
// may be at most the tolerance worse than the baseline's, with the plan's
// confidence. pair is the results' pairing, which reads their histograms.
func judgeRegression(o slo.Objective, cand, base *result.ComponentResult, pair *pairing, confidence float64, run runners) status.ObjectiveResult {
	r := ObjectiveOf(o)
	r.ThresholdValue = o.Threshold.Ratio
	cop, bop := cand.Operation(o.Operation), base.Operation(o.Operation)
	if cop == nil || bop == nil || cop.Count == 0 || bop.Count == 0 {
		r.Status = status.Insufficient
		r.Measured = "no data"
		r.Detail = fmt.Sprintf("operation %q has no samples in the candidate or the baseline", o.Operation)
		return r
	}
	tol := o.Threshold.Ratio
	// complete.p99 is p99: a streaming call's latency to its end. (A
	// first_message objective is refused in this tier by the plan.)
	_, metric := o.Metric.Latency()
	switch {
	case metric.IsLatency() && metric != slo.MetricMax:
		q, _ := o.Metric.Quantile()
		need := slo.MinSamples(o.Metric)
		if cop.Count < need || bop.Count < need {
			r.Status = status.Insufficient
			r.Measured = fmt.Sprintf("%d samples", cop.Count)
			r.Detail = fmt.Sprintf("%s needs at least %d samples on both sides (candidate %d, baseline %d)", o.Metric, need, cop.Count, bop.Count)
			return r
		}
		cmp, err := pair.compare(bop, cop, q, twoSided(confidence))
		if err != nil {
			r.Status = status.Insufficient
			r.Detail = err.Error()
			return r
		}
		r.MeasuredValue = float64(cmp.CandEstimate)
		r.BaselineValue = float64(cmp.BaseEstimate)
		r.Measured = slo.FormatDuration(time.Duration(cmp.CandEstimate))
		r.Baseline = slo.FormatDuration(time.Duration(cmp.BaseEstimate))
		applyComparison(&r, cmp, tol)
		if !pair.paired() {
			// Interleaved sides shared the runner: only runs apart can
			// differ by it.
			runnerNoise(&r, o.Metric, tol, cmp, run.base, run.cand, bop, cop)
		}
	case metric == slo.MetricMax:
		// A maximum is one sample: no interval exists, so it is compared as is.
		r.MeasuredValue, r.BaselineValue = float64(cop.LatencyNS.Max), float64(bop.LatencyNS.Max)
		r.Measured = slo.FormatDuration(time.Duration(cop.LatencyNS.Max))
		r.Baseline = slo.FormatDuration(time.Duration(bop.LatencyNS.Max))
		r.Margin = r.MeasuredValue/r.BaselineValue - 1
		r.Status = status.Pass
		if r.Margin > tol {
			r.Status = status.Fail
		}
		r.Detail = "a maximum is a single sample: compared without statistics"
	case o.Metric == slo.MetricErrorRate:
		cn, bn := cop.Count+cop.Errors, bop.Count+bop.Errors
		cr, br := float64(cop.Errors)/float64(cn), float64(bop.Errors)/float64(bn)
		r.MeasuredValue, r.BaselineValue = cr, br
		r.Measured, r.Baseline = FormatPercent(cr), FormatPercent(br)
		applyComparison(&r, stats.CompareProportions(bop.Errors, bn, cop.Errors, cn, twoSided(confidence)), tol)
	case o.Metric == slo.MetricThroughput:
		r.MeasuredValue, r.BaselineValue = cop.AchievedRate, bop.AchievedRate
		r.Measured = fmt.Sprintf("%.0f/s", cop.AchievedRate)
		r.Baseline = fmt.Sprintf("%.0f/s", bop.AchievedRate)
		// Lower is worse for throughput: the tolerance allows a drop.
		r.Margin = 1 - cop.AchievedRate/bop.AchievedRate
		r.Status = status.Pass
		if r.Margin > math.Abs(tol) {
			r.Status = status.Fail
		}
	}
	return r
}

// twoSided turns the plan's confidence, a one-sided level ("fail only when
// the regression is established at 95%"), into the two-sided level of the
// comparison's interval, whose lower bound is then that one-sided bound.
func twoSided(confidence float64) float64 { return 2*confidence - 1 }

// applyComparison judges a regression objective by its comparison: the
// status, the change and its interval, the p-value, and for an inconclusive
// objective the smallest regression the run could have shown.
func applyComparison(r *status.ObjectiveResult, cmp stats.Comparison, tol float64) {
	r.Margin = cmp.Ratio - 1
	if cmp.HasInterval() {
		r.IntervalLow, r.IntervalHigh = cmp.RatioLo-1, cmp.RatioHi-1
	}
	r.PValue = cmp.PValue
	r.Status = stats.RegressionVerdict(cmp, tol)
	var details []string
	if r.Status == status.Inconclusive {
		r.Detectable = stats.DetectableRegression(cmp, tol)
		details = append(details, inconclusiveDetail(r, tol))
	}
	for _, w := range cmp.Warnings {
		details = append(details, w.Error())
	}
	r.Detail = strings.Join(details, "; ")
}

// inconclusiveDetail says why an objective is inconclusive and what the run
// could have detected.
func inconclusiveDetail(r *status.ObjectiveResult, tol float64) string {
	return fmt.Sprintf("the interval [%s, %s] reaches past the %s tolerance without lying beyond it: "+
		"this run could only have shown a regression of %s or more; a longer run, a higher rate or an interleaved A/B (--baseline-target) narrows it",
		SignedPercent(r.IntervalLow), SignedPercent(r.IntervalHigh), SignedPercent(tol), SignedPercent(r.Detectable))
}

// SignedPercent prints a relative change, the one way every report and
// message writes it: +15.5%, -3%, +294%, +194870%, +inf. Below 100% it keeps
// one decimal (dropped when zero); from 100% on, whole percents, so a value
// far past its bar never turns into an exponent or a factor.
func SignedPercent(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "?"
	}
	p := f * 100
	if math.Abs(p) >= 99.95 {
		return fmt.Sprintf("%+.0f%%", p)
	}
	s := strings.TrimSuffix(fmt.Sprintf("%+.1f", p), ".0")
	if s == "-0" {
		s = "+0"
	}
	return s + "%"
}

// quantileInterval is the 95% order-statistic interval of a quantile.
func quantileInterval(h *hdrhistogram.Histogram, q float64) (lo, hi int64, ok bool) {
	lo, _, hi, ok = stats.QuantileCI(h, q, 0.95)
	return lo, hi, ok
}

// pairing compares the quantiles of a baseline's and a candidate's
// operations: pair by pair when the results are the two sides of one
// interleaved run (base and cand set), each side's intervals on their own
// otherwise. It decodes and reads each operation's interval histograms
// once, however many of its quantiles are compared: decoding and reading
// a histogram walks all its counts, which costs more than a comparison.
type pairing struct {
	base, cand *result.Pairing
	read       map[*result.OperationResult]*readOperation
}

// readOperation is an operation's interval histograms, read: all of them,
// and by the segments of its side's pairing when paired.
type readOperation struct {
	intervals stats.Intervals
	segments  []stats.Intervals
	err       error
}

// pairingOf is the pairing of a baseline (nil for none) and a candidate
// result.
func pairingOf(base, cand *result.Result) *pairing {
	p := &pairing{read: map[*result.OperationResult]*readOperation{}}
	if base != nil && cand.PairedWith(base) {
		p.base, p.cand = base.Pairing, cand.Pairing
	}
	return p
}

// paired is whether the sides ran interleaved, as one run.
func (p *pairing) paired() bool { return p.base != nil }

// intervals reads op's interval histograms once; side is its result's
// pairing when paired.
func (p *pairing) intervals(op *result.OperationResult, side *result.Pairing) *readOperation {
	if r, ok := p.read[op]; ok {
		return r
	}
	r := &readOperation{}
	p.read[op] = r
	hs, err := op.IntervalHistograms()
	if err != nil {
		r.err = err
		return r
	}
	r.intervals = stats.ReadIntervals(hs)
	if side != nil {
		for _, seg := range side.SegmentsOf(hs) {
			r.segments = append(r.segments, stats.ReadIntervals(seg))
		}
	}
	return r
}

// decodes reads both operations' histograms and returns why they do not
// decode, if they do not.
func (p *pairing) decodes(bop, cop *result.OperationResult) error {
	return errors.Join(p.intervals(bop, p.base).err, p.intervals(cop, p.cand).err)
}

// compare compares the q-quantile of the candidate's operation cop with the
// baseline's bop, at the given two-sided confidence; the error is a
// histogram that does not decode.
func (p *pairing) compare(bop, cop *result.OperationResult, q, confidence float64) (stats.Comparison, error) {
	if err := p.decodes(bop, cop); err != nil {
		return stats.Comparison{}, err
	}
	b, c := p.intervals(bop, p.base), p.intervals(cop, p.cand)
	if !p.paired() {
		return b.intervals.Compare(c.intervals, q, confidence), nil
	}
	return stats.ComparePaired(b.segments, c.segments, q, confidence), nil
}
