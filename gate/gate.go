// Package gate judges a run's result against a plan's objectives and, for the
// regression tier, against a baseline result. It never runs load.
//
// The statuses of one objective are package gate/status's vocabulary; gate
// alone decides which one an objective gets.
//
// The overall verdict is error when the run was incomplete, when a minimum
// or regression objective could not be judged, or when nothing was judged;
// fail when an objective failed; and pass otherwise (see Judge).
package gate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// Exit statuses of the CLI contract; ExitCode maps a verdict to one.
const (
	ExitPass  = 0
	ExitFail  = 1
	ExitUsage = 2
	ExitRun   = 3
)

// Verdict is the judgment of one result.
type Verdict struct {
	// Status is the run's verdict: pass, fail or error.
	Status status.Verdict
	// Objectives holds each component's judged objectives, by component name.
	Objectives map[string][]status.ObjectiveResult
	// Warnings are things a reader must know: estimates from few samples,
	// an incomplete run.
	Warnings []string
}

// Apply writes the verdict into the result, so the result file carries it.
func (v *Verdict) Apply(res *result.Result) {
	res.Verdict = v.Status
	for i := range res.Components {
		c := &res.Components[i]
		c.Objectives = v.Objectives[c.Name]
		if c.Objectives == nil {
			c.Objectives = []status.ObjectiveResult{}
		}
	}
	res.Warnings = appendUnique(res.Warnings, v.Warnings...)
}

func appendUnique(list []string, add ...string) []string {
	for _, a := range add {
		found := false
		for _, l := range list {
			if l == a {
				found = true
				break
			}
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

// Judge judges res against plan's objectives. baseline may be nil; then
// regression objectives are not judged and a warning says so. A shard's
// result is not judged (ErrShard): see ShardVerdict.
//
// The verdict is, in order: error when the run is incomplete; fail when an
// objective failed (or is inconclusive under defaults.inconclusive: fail),
// since a failure shown stands; error when a minimum or regression objective
// is insufficient or client-bound, when an objective is inconclusive under
// defaults.inconclusive: error (the default), or when no objective at all
// was judged; otherwise pass. Nothing judged is never a pass.
func Judge(plan *slo.Plan, res *result.Result, baseline *result.Result) (*Verdict, error) {
	return JudgeWithHistory(plan, res, baseline, nil)
}

// JudgeWithHistory is Judge with the trend tier judged against hist (nil
// for none: trend objectives are then not judged, and a warning says so).
// A trend objective the history is too short for is insufficient, with a
// warning, but does not make the verdict error: a new history has to
// start somewhere.
func JudgeWithHistory(plan *slo.Plan, res *result.Result, baseline *result.Result, hist *History) (*Verdict, error) {
	if s := res.Shard; s != nil && s.Count > 1 {
		return nil, fmt.Errorf("shard %d of %d: %w", s.Index, s.Count, ErrShard)
	}
	v := &Verdict{Status: status.VerdictPass, Objectives: map[string][]status.ObjectiveResult{}}
	confidence := perObjectiveConfidence(plan)
	pair := pairingOf(baseline, res)
	policy := plan.Defaults.Inconclusive
	if policy == "" {
		policy = slo.InconclusiveError
	}
	failed, blocked, judged, inconclusive := false, false, 0, 0
	for ci := range plan.Components {
		comp := &plan.Components[ci]
		cr := res.Component(comp.Name)
		if cr == nil {
			return nil, fmt.Errorf("component %q of plan %q is not in the result: the result is of another plan", comp.Name, plan.File)
		}
		var out []status.ObjectiveResult
		for _, tier := range [][]slo.Objective{comp.SLO.Minimum, comp.SLO.Aspirational} {
			for _, o := range tier {
				if o.Metric == slo.MetricCapacity {
					v.Warnings = appendUnique(v.Warnings, capacityNotJudged)
					continue
				}
				if o.Metric.OverTime() {
					out = append(out, judgeOverTime(o, cr, res.IntervalNS, lookConfidence(confidence, cr.Looks), res.Runner))
					continue
				}
				if o.Stage > 0 {
					out = append(out, judgeStage(o, cr, res.Runner, res.IntervalNS))
					continue
				}
				out = append(out, judgeAbsolute(o, cr, res.Runner))
			}
		}
		regressions := withoutCapacity(comp.SLO.Regression)
		if len(regressions) < len(comp.SLO.Regression) {
			v.Warnings = appendUnique(v.Warnings, capacityNotJudged)
		}
		if len(regressions) > 0 {
			if baseline == nil {
				v.Warnings = appendUnique(v.Warnings, "regression objectives were not judged: no baseline given (--baseline)")
			} else {
				bc := baseline.Component(comp.Name)
				if bc == nil {
					v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("component %q: regression objectives were not judged: the baseline has no such component", comp.Name))
				}
				for _, o := range regressions {
					if bc != nil {
						out = append(out, judgeRegression(o, cr, bc, pair, lookConfidence(confidence, cr.Looks), runners{baseline.Runner, res.Runner}))
					}
				}
			}
		}
		if len(comp.SLO.Trend) > 0 {
			if hist == nil {
				v.Warnings = appendUnique(v.Warnings, "trend objectives were not judged: no history given (--history)")
			}
			for _, o := range comp.SLO.Trend {
				if hist != nil {
					out = append(out, judgeTrend(o, cr, res, hist, trendAlpha(plan)))
				}
			}
		}
		sortObjectives(out)
		for _, r := range out {
			aspirational := r.Tier == string(slo.TierAspirational)
			if r.Status.Judged() {
				judged++
			}
			switch {
			case r.Status == status.Fail:
				failed = true
			case r.Status == status.Inconclusive && !aspirational:
				v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("component %q: %s %s is inconclusive, neither passed nor failed: %s", comp.Name, r.Subject(), r.Metric, r.Detail))
				inconclusive++
			case r.Status == status.ClientBound && !aspirational:
				v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("component %q: %s %s is client-bound, neither passed nor failed: %s", comp.Name, r.Subject(), r.Metric, r.Detail))
				blocked = true
			case r.Status == status.Insufficient && r.Tier == string(slo.TierTrend):
				v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("component %q: trend %s %s was not judged: %s", comp.Name, r.Subject(), r.Metric, r.Detail))
			case r.Status == status.Insufficient && !aspirational:
				v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("component %q: %s %s could not be judged: %s", comp.Name, r.Subject(), r.Metric, r.Detail))
				blocked = true
			}
		}
		v.Objectives[comp.Name] = out
	}
	if inconclusive > 0 {
		switch policy {
		case slo.InconclusiveFail:
			failed = true
			v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("%s inconclusive: the plan fails the run for it (defaults.inconclusive: fail)", Plural(inconclusive, "objective is", "objectives are")))
		case slo.InconclusivePass:
			// The plan's explicit choice: an inconclusive objective counts
			// as judged, so a plan of regression bars alone can pass.
			judged += inconclusive
			v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("%s inconclusive and let through by the plan (defaults.inconclusive: pass): this run could not rule the regression out", Plural(inconclusive, "objective is", "objectives are")))
		default:
			blocked = true
			v.Warnings = appendUnique(v.Warnings, fmt.Sprintf("%s inconclusive: the run could neither rule the regression out nor show it; run longer (defaults.adaptive does it by itself), at a higher rate, or interleaved (--baseline-target), or set defaults.inconclusive", Plural(inconclusive, "objective is", "objectives are")))
		}
	}
	switch {
	case !res.Complete:
		v.Status = status.VerdictError
		v.Warnings = appendUnique(v.Warnings, "the run is incomplete: "+res.Incomplete)
	case failed:
		// A failure shown stands whatever else could not be judged.
		v.Status = status.VerdictFail
	case blocked:
		v.Status = status.VerdictError
	case judged == 0:
		v.Status = status.VerdictError
		v.Warnings = appendUnique(v.Warnings, "no objective was judged: a run that judged nothing is not a pass; give the plan objectives this result can be judged by")
	}
	return v, nil
}

// capacityNotJudged is the warning of a run or check whose plan sets
// capacity objectives: a run measures one rate, so it cannot say how much
// load the component carries. The objectives are left out of its verdict,
// neither passed nor failed; tailgate capacity judges them.
const capacityNotJudged = "capacity objectives are not judged by a run at one rate: tailgate capacity judges them"

// withoutCapacity is objectives less the capacity ones.
func withoutCapacity(objectives []slo.Objective) []slo.Objective {
	var out []slo.Objective
	for _, o := range objectives {
		if o.Metric != slo.MetricCapacity {
			out = append(out, o)
		}
	}
	return out
}

// ShardVerdict is the verdict of a shard's result, which is not judged: a
// shard sends a share of the load, so the plan's bars are for the merged
// result. It has no objectives and says so; its status is error when the
// shard did not complete, and pass otherwise, which the result file's
// contract requires and which reports never show as a pass (they say the
// shard is judged after merge).
func ShardVerdict(res *result.Result) *Verdict {
	v := &Verdict{Status: status.VerdictPass, Objectives: map[string][]status.ObjectiveResult{}}
	if s := res.Shard; s != nil {
		v.Warnings = []string{fmt.Sprintf("shard %d of %d is not judged on its own: the plan's bars are for the whole load; merge the shards (tailgate merge) and check the merged result", s.Index, s.Count)}
	}
	if !res.Complete {
		v.Status = status.VerdictError
	}
	return v
}

// Plural writes a count with its noun: "1 objective", "2 objectives".
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// perObjectiveConfidence spreads the plan's confidence over all of its
// regression objectives (Bonferroni): with k of them each is judged at
// 1 − (1 − confidence)/k, so the chance that noise fails any one of them in
// a run with no regression stays within 1 − confidence, however many bars
// a plan sets.
func perObjectiveConfidence(plan *slo.Plan) float64 {
	confidence := plan.Defaults.Confidence
	if confidence <= 0 {
		confidence = 0.95
	}
	k := 0
	for _, c := range plan.Components {
		k += len(withoutCapacity(c.SLO.Regression))
		for _, tier := range [][]slo.Objective{c.SLO.Minimum, c.SLO.Aspirational} {
			for _, o := range tier {
				if o.Metric == slo.MetricDrift {
					k++
				}
			}
		}
	}
	if k > 1 {
		confidence = 1 - (1-confidence)/float64(k)
	}
	return confidence
}

// trendAlpha is the significance a change point of the trend tier must
// reach: one less the plan's confidence (5% by default).
func trendAlpha(plan *slo.Plan) float64 {
	if c := plan.Defaults.Confidence; c > 0 {
		return 1 - c
	}
	return 0.05
}

func tierRank(t string) int {
	switch slo.Tier(t) {
	case slo.TierMinimum:
		return 0
	case slo.TierRegression:
		return 1
	case slo.TierTrend:
		return 2
	}
	return 3
}

// sortObjectives puts failures first, keeping plan order otherwise.
func sortObjectives(out []status.ObjectiveResult) {
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].Status.Rank(), out[j].Status.Rank(); a != b {
			return a < b
		}
		return tierRank(out[i].Tier) < tierRank(out[j].Tier)
	})
}

// ObjectiveOf is o's result before it is judged: what the objective is
// and where the plan sets it. Every judge of an objective, here and in
// gate/capacity, starts from it.
func ObjectiveOf(o slo.Objective) status.ObjectiveResult {
	return status.ObjectiveResult{
		Tier: string(o.Tier), Operation: o.Operation, Metric: string(o.Metric), Threshold: o.Raw,
		Line: o.Pos.Line, Column: o.Pos.Column,
	}
}

// noData is r when the run measured nothing the objective could be judged
// on: a minimum bar is insufficient, an aspirational milestone missed.
func noData(r status.ObjectiveResult, tier slo.Tier, measured, detail string) status.ObjectiveResult {
	r.Status, r.Measured, r.Detail = status.Insufficient, measured, detail
	if tier == slo.TierAspirational {
		r.Status = status.Missed
	}
	return r
}

// judgeStage judges a minimum or aspirational objective of one stage as a
// whole run's is, on the stage's own figures: a stage is a run of its own
// length, with the same sample rules, and its floor reads the runner's
// wake-ups of the stage's intervals where the result has them
// (result.Runner.Over).
func judgeStage(o slo.Objective, cr *result.ComponentResult, runner *result.Runner, intervalNS int64) status.ObjectiveResult {
	var r status.ObjectiveResult
	if all := cr.Operation(slo.AllOperations); all == nil || all.Stage(o.Stage) == nil {
		r = noData(ObjectiveOf(o), o.Tier, "no data", fmt.Sprintf("the result has no stage %d: it is of a run without that stage", o.Stage))
	} else {
		st := all.Stage(o.Stage)
		r = judgeAbsolute(o, cr.OfStage(o.Stage), runner.Over(st.StartNS, st.EndNS, intervalNS))
	}
	r.Stage = o.Stage
	return r
}

// judgeAbsolute judges a minimum or aspirational objective; runner is the
// result's runner record (nil in older results).
func judgeAbsolute(o slo.Objective, cr *result.ComponentResult, runner *result.Runner) status.ObjectiveResult {
	r := ObjectiveOf(o)
	pass, fail := status.Pass, status.Fail
	if o.Tier == slo.TierAspirational {
		pass, fail = status.Met, status.Missed
	}
	op := cr.Operation(o.Operation)
	if op == nil || op.Count+op.Errors == 0 {
		return noData(r, o.Tier, "no data", fmt.Sprintf("operation %q recorded no operations", o.Operation))
	}
	switch {
	case o.Metric.IsLatency():
		r.ThresholdValue = float64(o.Threshold.Latency.Nanoseconds())
		// A streaming call's first_message metrics read its first-message
		// record; every other latency metric (complete.p99 is p99) the
		// latency to the end of the operation.
		latency, plain := o.Metric.Latency()
		stored, samples, whole := op.LatencyNS, op.Count, op.WholeHistogram
		if latency == slo.LatencyFirstMessage {
			first, err := op.FirstMessages()
			if op.FirstMessageNS == nil || err != nil {
				return noData(r, o.Tier, "no first messages", fmt.Sprintf("operation %q recorded no first message: it is not a gRPC streaming call, or none of its calls received a message", o.Operation))
			}
			stored, samples, whole = *op.FirstMessageNS, first.TotalCount(), op.FirstMessages
		}
		need := slo.MinSamples(o.Metric)
		if samples < need {
			r.Status = status.Insufficient
			r.Measured = fmt.Sprintf("%d samples", samples)
			r.Detail = fmt.Sprintf("%s needs at least %d successful samples, the run has %d", o.Metric, need, samples)
			if op.Errors > 0 {
				r.Detail += fmt.Sprintf(" (%d operations failed)", op.Errors)
			}
			return r
		}
		ns, err := stored.At(plain)
		if err != nil {
			r.Status = status.Insufficient
			r.Measured = "no data"
			r.Detail = err.Error()
			return r
		}
		r.MeasuredValue = float64(ns)
		r.Measured = slo.FormatDuration(time.Duration(ns))
		r.Margin = (r.MeasuredValue - r.ThresholdValue) / r.ThresholdValue
		r.Status = pass
		if r.MeasuredValue > r.ThresholdValue {
			r.Status = fail
		}
		if latency != slo.LatencyFirstMessage {
			// The floor's service time is the whole call's: it says
			// nothing of when the first message came.
			clientBound(&r, o.Metric, op, runner)
		}
		if h, err := whole(); err == nil {
			if q, ok := o.Metric.Quantile(); ok {
				if lo, hi, ok := quantileInterval(h, q); ok {
					r.IntervalLow, r.IntervalHigh = float64(lo), float64(hi)
				}
			}
		}
	case o.Metric == slo.MetricErrorRate:
		r.ThresholdValue = o.Threshold.Ratio
		r.MeasuredValue = float64(op.Errors) / float64(op.Count+op.Errors)
		r.Measured = FormatPercent(r.MeasuredValue)
		r.Margin = marginAbove(r.MeasuredValue, r.ThresholdValue)
		r.Status = pass
		if r.MeasuredValue > r.ThresholdValue {
			r.Status = fail
			unsentBound(&r, op, func(count, errors int64) bool {
				return float64(errors)/float64(count+errors) <= r.ThresholdValue
			})
		}
	case o.Metric == slo.MetricHitRate:
		r.ThresholdValue = o.Threshold.Ratio
		rate, ok := op.HitRate()
		if !ok {
			return noData(r, o.Tier, "no reads", fmt.Sprintf("operation %q counted no hits or misses: nothing it answered read a key", o.Operation))
		}
		r.MeasuredValue = rate
		r.Measured = fmt.Sprintf("%s (%d hits, %d misses)", FormatPercent(rate), op.Hits, op.Misses)
		r.Margin = (r.ThresholdValue - r.MeasuredValue) / r.ThresholdValue
		if r.ThresholdValue == 0 {
			r.Margin = 0
		}
		r.Status = pass
		if r.MeasuredValue < r.ThresholdValue {
			r.Status = fail
		}
	case o.Metric == slo.MetricThroughput:
		r.ThresholdValue = o.Threshold.Ratio
		if op.AskedRate <= 0 {
			r.Status = status.Insufficient
			r.Measured = "closed loop"
			r.Detail = "throughput is judged against an asked rate; this run had none"
			return r
		}
		// Every operation intended in the window ends as a success, an
		// error or unsent; the share that succeeded is judged, against the
		// operations intended rather than rate × window, so the randomness
		// of Poisson arrivals does not count against the target. A failed
		// operation (an OOM reply, a timeout) is no throughput.
		intended := op.Count + op.Errors
		r.MeasuredValue = float64(op.Count) / float64(intended)
		r.Measured = fmt.Sprintf("%s (%.0f/s)", FormatPercent(r.MeasuredValue), op.AchievedRate)
		r.Margin = (r.ThresholdValue - r.MeasuredValue) / r.ThresholdValue
		r.Status = pass
		if r.MeasuredValue < r.ThresholdValue {
			r.Status = fail
			unsentBound(&r, op, func(count, errors int64) bool {
				return float64(count)/float64(count+errors) >= r.ThresholdValue
			})
		}
	}
	return r
}

// marginAbove is the relative distance above a bar; a zero bar makes any
// excess infinite, which reports print as such.
func marginAbove(measured, bar float64) float64 {
	if bar == 0 {
		if measured == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return (measured - bar) / bar
}

// FormatPercent prints a fraction as a compact percentage: 0.1%, 99.5%,
// 0.0012%, 1000%; never as an exponent, however small or large.
func FormatPercent(f float64) string {
	switch p := f * 100; {
	case p == 0:
		return "0%"
	case math.Abs(p) < 0.01:
		// Two significant digits, written out: 0.00001%, not 1e-05%.
		decimals := 1 - int(math.Floor(math.Log10(math.Abs(p))))
		return trimZeros(strconv.FormatFloat(p, 'f', decimals, 64)) + "%"
	case math.Abs(p) < 10:
		return trimZeros(fmt.Sprintf("%.2f", p)) + "%"
	default:
		return trimZeros(fmt.Sprintf("%.1f", p)) + "%"
	}
}

func trimZeros(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
