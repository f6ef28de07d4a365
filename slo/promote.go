package slo

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The ratchet: an aspirational milestone that every run given met becomes
// the component's new minimum, so bars only tighten and one lucky run cannot
// move them. Weighing the milestones is here; editing the plan file so that
// it keeps its comments and style is in promote_edit.go.

// Measurement is one value a run measured, the evidence a milestone is
// weighed on.
type Measurement struct {
	Component string
	Operation string
	Metric    Metric
	// Value is in nanoseconds for a latency metric, and a fraction for
	// error_rate (failed share) and throughput (sent share of the asked
	// operations). NaN means the run has no value to show.
	Value float64
	// Samples counts the operations behind Value: the successful ones for a
	// latency, all of them for error_rate and throughput.
	Samples int64
	// Unjudged is, when Value is NaN, the status the gate gave in place of
	// a measurement ("client-bound", "inconclusive", "insufficient"), so
	// promote can say why the run earns nothing; "" when there is none.
	Unjudged string
}

// RunEvidence is what one run measured, as promote weighs it.
type RunEvidence struct {
	// Name identifies the run in messages and in the record a promotion
	// leaves in the plan, such as the result file's base name.
	Name string
	// Complete is false for a run cut short; such a run earns nothing.
	Complete bool
	// Incomplete says why the run was cut short.
	Incomplete   string
	Measurements []Measurement
}

// measurement returns the run's value of one metric of one operation.
func (r *RunEvidence) measurement(component, operation string, metric Metric) (Measurement, bool) {
	for _, m := range r.Measurements {
		if m.Component == component && m.Operation == operation && m.Metric == metric {
			return m, true
		}
	}
	return Measurement{}, false
}

// Outcome is what promote does with one milestone.
type Outcome int

// The outcomes of weighing a milestone.
const (
	// OutcomePromote: every run met the milestone and it is tighter than the
	// minimum, which it replaces (or becomes, when there is none).
	OutcomePromote Outcome = iota
	// OutcomeNotMet: at least one run did not meet the milestone.
	OutcomeNotMet
	// OutcomeNotTighter: the minimum is already at least as tight; promoting
	// would loosen it or change nothing.
	OutcomeNotTighter
)

// String names the outcome as the promote command prints it.
func (o Outcome) String() string {
	switch o {
	case OutcomePromote:
		return "promote"
	case OutcomeNotMet:
		return "not met"
	case OutcomeNotTighter:
		return "no change"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Candidate is one aspirational milestone, weighed for promotion.
type Candidate struct {
	Component string
	Milestone Objective
	// Minimum is the minimum objective on the same operation and metric, or
	// nil when the minimum tier has none; promoting then adds one.
	Minimum *Objective
	Outcome Outcome
	// Reason explains an outcome other than OutcomePromote: which run missed
	// the milestone and by what, or which minimum is already as tight.
	Reason string
	// Runs names the runs that met the milestone, in the order given.
	Runs []string
}

// Change describes the promotion as its record in the plan says it:
// "get p99 2ms -> 1ms", or "get p99.9 (none) -> 1ms" when it adds a minimum.
func (c *Candidate) Change() string {
	from := "(none)"
	if c.Minimum != nil {
		from = c.Minimum.shown()
	}
	return fmt.Sprintf("%s %s %s -> %s", c.Milestone.Operation, c.Milestone.Metric, from, c.Milestone.shown())
}

// Candidates weighs every aspirational milestone of the plan, in file order,
// against the runs. A milestone is promoted only when it is tighter than the
// minimum on its operation and metric (a ratchet never loosens) and every
// run is complete and met it: its measured value is within the milestone
// with enough samples to estimate the metric (see MinSamples). With no runs,
// nothing is met.
func (p *Plan) Candidates(runs []RunEvidence) []Candidate {
	var out []Candidate
	for ci := range p.Components {
		c := &p.Components[ci]
		for _, milestone := range c.SLO.Aspirational {
			cand := Candidate{Component: c.Name, Milestone: milestone}
			for i := range c.SLO.Minimum {
				if m := &c.SLO.Minimum[i]; m.Operation == milestone.Operation && m.Metric == milestone.Metric && m.Stage == milestone.Stage {
					cand.Minimum = m
				}
			}
			switch {
			case milestone.Stage != 0:
				cand.Outcome = OutcomeNotMet
				cand.Reason = fmt.Sprintf("it is stage %d's, and promote weighs whole runs only: move it to the minimum by hand", milestone.Stage)
			case milestone.Metric.OverTime():
				cand.Outcome = OutcomeNotMet
				cand.Reason = fmt.Sprintf("%s is judged over the course of a run, which promote does not weigh: move it to the minimum by hand", milestone.Metric)
			case cand.Minimum != nil && !tighter(milestone, *cand.Minimum):
				cand.Outcome = OutcomeNotTighter
				cand.Reason = fmt.Sprintf("the minimum %s (line %d) is already at least as tight", cand.Minimum.shown(), cand.Minimum.Pos.Line)
			default:
				var misses []string
				if len(runs) == 0 {
					misses = append(misses, "no runs given")
				}
				for i := range runs {
					if why := missedBy(&runs[i], c.Name, milestone); why != "" {
						misses = append(misses, why)
						continue
					}
					cand.Runs = append(cand.Runs, runs[i].Name)
				}
				cand.Outcome = OutcomePromote
				if len(misses) > 0 {
					cand.Outcome, cand.Reason = OutcomeNotMet, strings.Join(misses, "; ")
				}
			}
			out = append(out, cand)
		}
	}
	return out
}

// missedBy says why a run does not meet a milestone, or "" when it does.
func missedBy(run *RunEvidence, component string, milestone Objective) string {
	if !run.Complete {
		why := run.Name + " is incomplete"
		if run.Incomplete != "" {
			why += " (" + run.Incomplete + ")"
		}
		return why
	}
	m, ok := run.measurement(component, milestone.Operation, milestone.Metric)
	if !ok {
		return fmt.Sprintf("%s has no %s %s", run.Name, milestone.Operation, milestone.Metric)
	}
	if need := MinSamples(milestone.Metric); m.Samples < need {
		return fmt.Sprintf("%s has %d samples of %s; %s needs %d", run.Name, m.Samples, milestone.Operation, milestone.Metric, need)
	}
	if math.IsNaN(m.Value) {
		if m.Unjudged != "" {
			return fmt.Sprintf("%s has no value of %s %s (%s)", run.Name, milestone.Operation, milestone.Metric, m.Unjudged)
		}
		return fmt.Sprintf("%s has no value of %s %s", run.Name, milestone.Operation, milestone.Metric)
	}
	if !milestone.MetBy(m.Value, m.Samples) {
		return fmt.Sprintf("%s measured %s, bar %s", run.Name, milestone.formatValue(m.Value), milestone.shown())
	}
	return ""
}

// MetBy reports whether a measured value reaches the objective's bar, as
// the gate judges a minimum or aspirational objective: value is in
// nanoseconds for latencies and a fraction for error_rate and throughput,
// and samples counts the operations behind it. Too few samples to estimate
// the metric is never a pass.
func (o *Objective) MetBy(value float64, samples int64) bool {
	if samples < MinSamples(o.Metric) || samples <= 0 || math.IsNaN(value) {
		return false
	}
	switch {
	case o.Metric.IsLatency():
		return value <= float64(o.Threshold.Latency.Nanoseconds())
	case o.Metric.HigherIsBetter():
		return value >= o.Threshold.Ratio
	}
	return value <= o.Threshold.Ratio
}

// formatValue prints a measured value in the objective's unit.
func (o *Objective) formatValue(v float64) string {
	if o.Metric.IsLatency() {
		return FormatDuration(time.Duration(v))
	}
	return FormatPercent(v)
}
