package status

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestObjectiveResultJSONHasOnlyFiniteNumbers: JSON has no infinities or
// NaNs, so an objective writes a margin above a bar of zero as null, an
// unbounded interval with the largest float as its upper bound, and
// statistics that could not be computed as absent; reading it back restores
// the infinities.
func TestObjectiveResultJSONHasOnlyFiniteNumbers(t *testing.T) {
	tests := []struct {
		name  string
		in    ObjectiveResult
		wrote []string // substrings of the JSON written
		check func(back ObjectiveResult) bool
	}{
		{"a margin above a bar of zero is null and reads back infinite",
			ObjectiveResult{Metric: "error_rate", MeasuredValue: 0.02, Margin: math.Inf(1), Status: Fail},
			[]string{`"margin":null`},
			func(b ObjectiveResult) bool { return math.IsInf(b.Margin, 1) }},
		{"a NaN statistic is left out",
			ObjectiveResult{Metric: "p99", IntervalLow: math.NaN(), PValue: math.NaN(), Margin: 0.25, Status: Pass},
			[]string{`"margin":0.25`},
			func(b ObjectiveResult) bool { return b.IntervalLow == 0 && b.PValue == 0 && b.Margin == 0.25 }},
		{"an interval without an upper bound is written as the largest float",
			ObjectiveResult{Tier: "regression", Metric: "error_rate", IntervalLow: 2.5, IntervalHigh: math.Inf(1), Margin: math.Inf(1), Status: Fail},
			[]string{`"interval_high":1.7976931348623157e+308`},
			func(b ObjectiveResult) bool { return math.IsInf(b.IntervalHigh, 1) && b.IntervalLow == 2.5 }},
		{"a margin of zero is written as zero, not left out",
			ObjectiveResult{Metric: "p99", MeasuredValue: 1, ThresholdValue: 1, Status: Pass},
			[]string{`"margin":0`},
			func(b ObjectiveResult) bool { return b.Margin == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			for _, w := range tt.wrote {
				if !strings.Contains(string(data), w) {
					t.Errorf("wrote %s, want it to hold %s", data, w)
				}
			}
			var back ObjectiveResult
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", data, err)
			}
			if !tt.check(back) || back.Status != tt.in.Status || back.Metric != tt.in.Metric {
				t.Errorf("read back %+v from %s", back, data)
			}
		})
	}
}

func TestOnlyTheThreeVerdictsAreValid(t *testing.T) {
	for _, v := range []Verdict{VerdictPass, VerdictFail, VerdictError} {
		if !v.Valid() {
			t.Errorf("%q is not valid", v)
		}
	}
	for _, v := range []Verdict{"", "PASS", "inconclusive", "ok"} {
		if v.Valid() {
			t.Errorf("%q is valid", v)
		}
	}
}
