// Package status is the one vocabulary of the gate's outcomes: the statuses
// package gate gives an objective, the verdict it gives a run, and the record
// of one judged objective (ObjectiveResult), as the result file carries them;
// the order every report lists statuses in and the words reports print.
//
// It is a leaf package, part of gate, so that the result file's schema
// (package result) and the statistics (package gate/stats) can name a status,
// a verdict or an objective's outcome without importing gate; only gate
// decides which status an objective gets and which verdict a run gets.
//
// A run's verdict is pass, fail or error (see Verdict).
//
// The statuses, as the result file writes them:
//
//	pass          the bar is met: the value is within the bar (minimum), or
//	              the change from the baseline is shown to be within the
//	              tolerance (regression)
//	fail          the bar is missed: a minimum bar, or a regression beyond the
//	              tolerance shown at the plan's confidence
//	met           an aspirational milestone is reached
//	missed        an aspirational milestone is not reached; never fails a run
//	no-change     a regression objective whose change is within the noise and
//	              within the tolerance: no change to speak of
//	inconclusive  a regression objective whose interval reaches past the
//	              tolerance without lying wholly beyond it: the run could
//	              neither rule the regression in nor out
//	insufficient  too few samples (or no data) to judge the metric
//	client-bound  the load generator itself was too late to send on time for
//	              the measured percentile to say anything about the target
//
// Result files written before the status had a name for no change carry "~"
// for it; decoding reads "~" as no-change, and encoding writes "no-change".
package status

import (
	"fmt"
	"strings"
)

// Status is the outcome of one objective.
type Status string

// The statuses of one objective. See the package documentation for what each
// one means.
const (
	Pass         Status = "pass"
	Fail         Status = "fail"
	Met          Status = "met"
	Missed       Status = "missed"
	NoChange     Status = "no-change"
	Inconclusive Status = "inconclusive"
	Insufficient Status = "insufficient"
	// ClientBound: the generator's own delay in sending was large enough to
	// move the judged percentile, so the measurement is of the generator,
	// not of the target. Neither a pass nor a fail.
	ClientBound Status = "client-bound"
)

// legacyNoChange is how result files written before NoChange had a name
// carry it.
const legacyNoChange = "~"

// All lists every status, in Rank order.
var All = []Status{Fail, Inconclusive, ClientBound, Insufficient, Missed, Pass, Met, NoChange}

// Parse reads a status as a result file carries it, including the legacy
// "~" for no change.
func Parse(s string) (Status, error) {
	if s == legacyNoChange {
		return NoChange, nil
	}
	for _, st := range All {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown objective status %q (want one of %s)", s, list())
}

func list() string {
	names := make([]string, len(All))
	for i, s := range All {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// UnmarshalText decodes a status with Parse, so a result file with a status
// tailgate does not know is refused rather than read as a pass.
func (s *Status) UnmarshalText(b []byte) error {
	st, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// Rank orders statuses by what needs a reader's action first: fail,
// inconclusive, client-bound, insufficient, missed, then pass and met alike,
// and last no-change. Every report lists objectives in this order. A status
// tailgate does not know ranks first, so it is seen.
func (s Status) Rank() int {
	switch s {
	case Fail:
		return 1
	case Inconclusive:
		return 2
	case ClientBound:
		return 3
	case Insufficient:
		return 4
	case Missed:
		return 5
	case Pass, Met:
		return 6
	case NoChange:
		return 7
	}
	return 0
}

// Judged reports whether the objective was judged: a verdict on the target
// was given (pass, fail, met, missed, no-change). Inconclusive, insufficient
// and client-bound objectives were not judged.
func (s Status) Judged() bool {
	switch s {
	case Pass, Fail, Met, Missed, NoChange:
		return true
	}
	return false
}

// Text is the status as reports print it: upper case, and "~ (no change
// beyond noise)" for no change.
func (s Status) Text() string {
	if s == NoChange {
		return "~ (no change beyond noise)"
	}
	return strings.ToUpper(string(s))
}
