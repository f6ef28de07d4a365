package gate

import (
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// CompareMetrics are the rows `compare` prints for every operation.
var CompareMetrics = []slo.Metric{slo.MetricP50, slo.MetricP90, slo.MetricP99, slo.MetricP999, slo.MetricP9999, slo.MetricMax, slo.MetricErrorRate}

// Change is one metric of one operation, baseline beside candidate.
type Change struct {
	Component string
	Operation string
	Metric    slo.Metric
	// Base and Cand are in ns for latencies, fractions for error_rate.
	Base, Cand float64
	// NoBase and NoCand are true when that side measured nothing the
	// metric reads (no successful sample of a latency, no operation for
	// an error rate): its value is no measurement and prints as "-".
	NoBase, NoCand bool
	// Ratio is Cand/Base; Low and High bound it when an interval exists.
	Ratio     float64
	Low, High float64
	PValue    float64
	// Significant is true when the change is beyond noise at the
	// confidence; false prints as "~". It is only ever true when Tested.
	Significant bool
	// Tested is true when a statistical test stands behind the change. It
	// is false for a maximum (one sample) and for a percentile with too few
	// samples; such a change is a difference of two numbers, not evidence
	// that anything moved, and Note says why.
	Tested bool
	Note   string
}

// Compare lines up every operation and metric of two comparable results.
// confidence is one-sided, as in the plan (0.95 by default).
func Compare(base, cand *result.Result, confidence float64) ([]Change, error) {
	if err := Comparable(base, cand); err != nil {
		return nil, err
	}
	var out []Change
	pair := pairingOf(base, cand)
	for ci := range cand.Components {
		cc := &cand.Components[ci]
		bc := base.Component(cc.Name)
		for oi := range cc.Operations {
			cop := &cc.Operations[oi]
			bop := bc.Operation(cop.Name)
			if bop == nil {
				continue
			}
			// Histograms that do not decode refuse the comparison,
			// whatever metrics would have needed them.
			if err := pair.decodes(bop, cop); err != nil {
				return nil, err
			}
			for _, m := range CompareMetrics {
				out = append(out, compareMetric(cc.Name, m, bop, cop, pair, confidence))
			}
		}
	}
	return out, nil
}

func compareMetric(component string, m slo.Metric, bop, cop *result.OperationResult, pair *pairing, confidence float64) Change {
	ch := Change{Component: component, Operation: cop.Name, Metric: m, PValue: 1}
	ch.NoBase, ch.NoCand = bop.Count == 0, cop.Count == 0
	if m == slo.MetricErrorRate {
		ch.NoBase, ch.NoCand = bop.Count+bop.Errors == 0, cop.Count+cop.Errors == 0
	}
	switch {
	case m == slo.MetricMax:
		ch.Base, ch.Cand = float64(bop.LatencyNS.Max), float64(cop.LatencyNS.Max)
		ch.Ratio = stats.Ratio(ch.Cand, ch.Base)
		ch.Note = "a maximum is one sample: no statistics"
	case m == slo.MetricErrorRate:
		bn, cn := bop.Count+bop.Errors, cop.Count+cop.Errors
		if bn == 0 || cn == 0 {
			ch.Note = "no operations"
			return ch
		}
		ch.Base, ch.Cand = float64(bop.Errors)/float64(bn), float64(cop.Errors)/float64(cn)
		c := stats.CompareProportions(bop.Errors, bn, cop.Errors, cn, twoSided(confidence))
		ch.Ratio, ch.Low, ch.High, ch.PValue = c.Ratio, c.RatioLo, c.RatioHi, c.PValue
		// Moved when the test says so and the interval excludes no change.
		ch.Significant = c.Significant && (c.RatioLo > 1 || c.RatioHi < 1)
		ch.Tested = true
	default:
		q, _ := m.Quantile()
		need := slo.MinSamples(m)
		bv, err := bop.LatencyNS.At(m)
		if err != nil {
			ch.Note = err.Error()
			return ch
		}
		cv, _ := cop.LatencyNS.At(m) // the same metric: refused above if at all
		ch.Base, ch.Cand = float64(bv), float64(cv)
		ch.Ratio = stats.Ratio(ch.Cand, ch.Base)
		if bop.Count < need || cop.Count < need {
			ch.Note = fmt.Sprintf("needs %d samples a side (baseline %d, candidate %d)", need, bop.Count, cop.Count)
			return ch
		}
		c, _ := pair.compare(bop, cop, q, twoSided(confidence)) // Compare checked that they decode
		if !c.HasInterval() {
			ch.Note = "too few samples for an interval"
			return ch
		}
		ch.Base, ch.Cand, ch.Ratio = float64(c.BaseEstimate), float64(c.CandEstimate), c.Ratio
		ch.Low, ch.High, ch.PValue = c.RatioLo, c.RatioHi, c.PValue
		// Moved when the test says so and the interval excludes no change.
		ch.Significant = c.Significant && (c.RatioLo > 1 || c.RatioHi < 1)
		ch.Tested = true
	}
	return ch
}

// CompareWarnings says what a reader of the comparison of base and cand
// must know first: a side whose run was cut short (an unreachable target,
// too many errors, an interrupt) holds only what it measured before it
// stopped.
func CompareWarnings(base, cand *result.Result) []string {
	var out []string
	for _, side := range []struct {
		name string
		res  *result.Result
	}{{"baseline", base}, {"candidate", cand}} {
		if side.res.Complete {
			continue
		}
		why := side.res.Incomplete
		if why == "" {
			why = "no reason recorded"
		}
		out = append(out, fmt.Sprintf("the %s run is incomplete (%s): its figures are only what it measured before it stopped", side.name, why))
	}
	return out
}

// Values prints a Change's baseline and candidate values in the metric's
// unit, "-" for a side that measured nothing.
func (c Change) Values() (base, cand string) {
	base, cand = "-", "-"
	if !c.NoBase {
		base = FormatValue(c.Metric, c.Base)
	}
	if !c.NoCand {
		cand = FormatValue(c.Metric, c.Cand)
	}
	return base, cand
}

// FormatValue prints a Change's value in its metric's unit.
func FormatValue(m slo.Metric, v float64) string {
	if m == slo.MetricErrorRate {
		return FormatPercent(v)
	}
	return slo.FormatDuration(time.Duration(v))
}
