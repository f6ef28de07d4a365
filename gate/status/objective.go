package status

import (
	"encoding/json"
	"fmt"
	"math"
)

// ObjectiveResult is one objective's verdict, as the gate judged it.
type ObjectiveResult struct {
	Tier      string `json:"tier"`
	Operation string `json:"operation"`
	// Stage is the stage of a workload in stages the objective judges
	// (1-based), left out for an objective of the whole run.
	Stage  int    `json:"stage,omitempty"`
	Metric string `json:"metric"`
	// Threshold is the bar as written; ThresholdValue in ns, or a fraction.
	Threshold      string  `json:"threshold"`
	ThresholdValue float64 `json:"threshold_value"`
	// Measured is the value as displayed; MeasuredValue in ns, or a fraction.
	Measured      string  `json:"measured"`
	MeasuredValue float64 `json:"measured_value"`
	// Margin is how far the measured value is from the bar, relative to it:
	// positive is worse than the bar.
	Margin float64 `json:"margin"`
	// Status is the outcome gate gave the objective (see the package
	// documentation for the vocabulary).
	Status Status `json:"status"`
	// Baseline fields are set for regression objectives.
	Baseline      string  `json:"baseline,omitempty"`
	BaselineValue float64 `json:"baseline_value,omitempty"`
	// Interval is the confidence interval of the measured value (or of the
	// ratio, for regressions) when statistics were computed.
	IntervalLow  float64 `json:"interval_low,omitempty"`
	IntervalHigh float64 `json:"interval_high,omitempty"`
	PValue       float64 `json:"p_value,omitempty"`
	// FloorNS is the measurement floor of a latency objective, in ns: the
	// operation's client delay plus the runner's wake-up delay, both at the
	// objective's quantile; under it the run cannot see the target's
	// latency. Zero when the result records no client delay.
	FloorNS int64 `json:"floor_ns,omitempty"`
	// Detectable is, for an inconclusive regression objective, the smallest
	// regression (0.25 for +25%) the run could have shown beyond the
	// tolerance.
	Detectable float64 `json:"detectable,omitempty"`
	Detail     string  `json:"detail,omitempty"`
	Line       int     `json:"line,omitempty"`
	Column     int     `json:"column,omitempty"`
}

// objectiveJSON is ObjectiveResult as written: JSON has no infinities or
// NaNs, so a margin above a bar of zero is written as null, an interval
// without an upper bound (errors only in the candidate) has the largest
// float as its upper bound, and statistics that could not be computed are
// left out.
type objectiveJSON struct {
	objectiveFields
	Margin *float64 `json:"margin"`
}

// objectiveFields has ObjectiveResult's fields and none of its methods.
type objectiveFields ObjectiveResult

// MarshalJSON writes the objective with only finite numbers.
func (o ObjectiveResult) MarshalJSON() ([]byte, error) {
	out := objectiveJSON{objectiveFields: objectiveFields(o)}
	if !math.IsInf(o.Margin, 0) && !math.IsNaN(o.Margin) {
		m := o.Margin
		out.Margin = &m
	}
	if math.IsInf(out.IntervalHigh, 1) {
		out.IntervalHigh = math.MaxFloat64
	}
	for _, f := range []*float64{&out.MeasuredValue, &out.ThresholdValue, &out.BaselineValue, &out.IntervalLow, &out.IntervalHigh, &out.PValue, &out.Detectable} {
		if math.IsInf(*f, 0) || math.IsNaN(*f) {
			*f = 0
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads an objective; a null margin is infinitely above a bar
// of zero.
func (o *ObjectiveResult) UnmarshalJSON(data []byte) error {
	var in objectiveJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*o = ObjectiveResult(in.objectiveFields)
	o.Margin = 0
	if in.Margin != nil {
		o.Margin = *in.Margin
	} else if o.MeasuredValue > o.ThresholdValue {
		o.Margin = math.Inf(1)
	}
	if o.IntervalHigh == math.MaxFloat64 {
		o.IntervalHigh = math.Inf(1)
	}
	return nil
}

// Subject names what the objective judges, as reports write it: the
// operation, and its stage for an objective of one stage ("get (stage 2)").
func (o ObjectiveResult) Subject() string {
	if o.Stage > 0 {
		return fmt.Sprintf("%s (stage %d)", o.Operation, o.Stage)
	}
	return o.Operation
}
