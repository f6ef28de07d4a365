package slo

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// MinSamples is how many samples a metric needs before it can be judged:
// ceil(10 / (1 − q)) for a percentile q, so that about ten samples lie
// beyond it (20 for p50, 1000 for p99, 100000 for p99.99), and 1 for max,
// error_rate and throughput.
//
// p99_window and drift need p99's count in each part they judge: in a
// window, and in each third of the run.
func MinSamples(m Metric) int64 {
	if m.OverTime() {
		m = MetricP99
	}
	q, ok := m.Quantile()
	if !ok {
		return 1
	}
	// The epsilon absorbs binary noise: 1 − 0.99 is not exactly 0.01.
	return int64(math.Ceil(10/(1-q) - 1e-6))
}

// sampleHeadroom is how many standard deviations of Poisson noise the plan's
// expected sample count keeps above MinSamples.
const sampleHeadroom = 4

// MinExpectedSamples is how many samples a plan must expect of a metric for
// a run to have MinSamples of them from randomness alone: the count of an
// operation in the measured window is Poisson (arrivals, and the mix drawn
// per operation; uniform arrivals make it binomial, with less variance), so
// the expectation must clear MinSamples by four standard deviations: λ −
// 4√λ ≥ need, or λ ≥ (2 + √(need + 4))². That is 1,135 for p99, 10,409 for
// p99.9 and 101,273 for p99.99; a plan at the bound falls short by chance
// less than once in 10,000 runs. Errors still cut samples at run time.
func MinExpectedSamples(m Metric) float64 {
	need := MinSamples(m)
	if need <= 1 {
		return 1
	}
	h := sampleHeadroom / 2.0
	return math.Ceil(math.Pow(h+math.Sqrt(float64(need)+h*h), 2))
}

// SampleErrors returns an error for each latency objective that a run of
// the given duration cannot judge: its expected sample count (rate ×
// duration × the operation's share of the mix; the whole rate for "all") is
// below MinExpectedSamples. Closed-loop components (rate 0) ask no rate, and
// operations of weight 0 are never issued (an error: validate): both are skipped. Parse applies it with Defaults.Duration; callers that change the
// duration (--duration) apply it again.
func (p *Plan) SampleErrors(duration time.Duration) Errors {
	return p.sampleErrors(duration, func(*Component) bool { return false })
}

// sampleErrors is SampleErrors without the components skip selects.
func (p *Plan) sampleErrors(duration time.Duration, skip func(*Component) bool) Errors {
	var errs Errors
	for i := range p.Components {
		c := &p.Components[i]
		rate := c.Workload.Rate
		if skip(c) || !(rate > 0) || math.IsInf(rate, 0) {
			continue
		}
		stages, length := c.Workload.Stages, c.RunLength(duration)
		for _, tier := range [][]Objective{c.SLO.Minimum, c.SLO.Aspirational, c.SLO.Regression, c.SLO.Trend} {
			for _, o := range tier {
				need := MinSamples(o.Metric)
				if need <= 1 {
					continue
				}
				plan := MinExpectedSamples(o.Metric)
				share := c.Share(o.Operation)
				if share == 0 {
					// Never issued: an error of its own (validate); no duration would help.
					continue
				}
				var expected float64
				var part, how string
				if o.Stage > 0 && o.Stage <= len(stages) {
					stageRate, span := stageMeanRate(stages, o.Stage-1), stages[o.Stage-1].Duration
					expected = stageRate * span.Seconds() * share
					part = fmt.Sprintf(" in stage %d", o.Stage)
					how = fmt.Sprintf("stage %d's mean rate %s/s × %ss", o.Stage, formatNumber(stageRate), formatNumber(span.Seconds()))
				} else {
					span := length
					switch o.Metric {
					case MetricP99Window:
						span, part = min(o.Threshold.Window, length), " in each window"
					case MetricDrift:
						span, part = length/3, " in each third of the run"
					}
					expected = rate * span.Seconds() * share
					how = fmt.Sprintf("rate %s/s × %ss", formatNumber(rate), formatNumber(span.Seconds()))
				}
				if expected >= plan {
					continue
				}
				lengthen := "duration"
				if o.Stage > 0 {
					lengthen = "stage"
				}
				if o.Operation != AllOperations {
					how += " × " + FormatPercent(significant(share, 3))
				}
				errs = append(errs, &Error{
					File: p.File, Line: o.Pos.Line, Column: o.Pos.Column, Component: c.Name,
					Msg: fmt.Sprintf("%s %s needs at least %d samples%s, so a plan must expect %s (headroom for random arrivals); %s gives %s: lengthen the %s or drop the objective",
						clip(o.Operation), o.Metric, need, part, strconv.FormatFloat(plan, 'f', -1, 64), how, strconv.FormatFloat(math.Floor(expected), 'f', -1, 64), lengthen),
				})
			}
		}
	}
	return errs
}
