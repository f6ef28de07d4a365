package result

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// FuzzDecode feeds the result decoder truncated, corrupt and foreign
// files: it must answer ErrInvalid or a sound result, never panic.
func FuzzDecode(f *testing.F) {
	h := NewHistogram()
	for i := int64(1); i <= 100; i++ {
		h.RecordValue(i * 1000)
	}
	good := &Result{Schema: Schema, Verdict: status.VerdictPass, Complete: true, StartedAt: time.Unix(0, 0).UTC(),
		MeasuredNS: 1e9, IntervalNS: 1e9, Components: []ComponentResult{{Name: "c", Operations: []OperationResult{{
			Name: slo.AllOperations, Count: 100, Histogram: EncodeHistogram(h), ServiceHistogram: EncodeHistogram(h),
			Intervals: []Interval{{Count: 100, Histogram: EncodeHistogram(h)}},
		}}}}}
	data, err := good.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte(`{"schema": "tailgate.result/v1", "verdict": "pass", "components": [{"name": "x", "operations": [{"name": "all", "count": 3, "histogram": "HISTFAAAAB"}]}]}`))
	f.Add([]byte(`{"schema": "k6.summary"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		for _, c := range r.Components {
			for _, o := range c.Operations {
				if _, err := o.WholeHistogram(); err != nil {
					t.Fatalf("accepted result has a bad histogram: %v", err)
				}
			}
		}
	})
}

func TestObjectivesWithoutFiniteNumbersStillWrite(t *testing.T) {
	r := &Result{Schema: Schema, Verdict: status.VerdictFail, Components: []ComponentResult{{Name: "c", Operations: []OperationResult{{Name: "all"}},
		Objectives: []status.ObjectiveResult{
			{Metric: "error_rate", MeasuredValue: 0.02, ThresholdValue: 0, Margin: math.Inf(1), Status: status.Fail},
			{Metric: "p99", IntervalLow: math.NaN(), PValue: math.NaN(), Margin: 0.25, Status: status.Pass},
			{Metric: "error_rate", Tier: "regression", IntervalLow: 2.5, IntervalHigh: math.Inf(1), Margin: math.Inf(1), Status: status.Fail},
		}}}}
	data, err := r.Encode()
	if err != nil {
		t.Fatalf("a margin above a zero bar must not stop the result being written: %v", err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Components[0].Objectives
	if !math.IsInf(got[0].Margin, 1) || got[1].Margin != 0.25 || got[1].IntervalLow != 0 || !math.IsInf(got[2].IntervalHigh, 1) || got[2].IntervalLow != 2.5 {
		t.Fatalf("round trip: %+v", got)
	}
}

// TestObjectiveStatusesDecodeStrictly reads a result file written before
// no-change had a name ("~"), and refuses a status tailgate does not know
// rather than reading it as a pass.
func TestObjectiveStatusesDecodeStrictly(t *testing.T) {
	file := func(st string) []byte {
		return []byte(`{"schema": "tailgate.result/v1", "verdict": "pass", "complete": true, "components": [{"name": "c",
			"operations": [{"name": "all"}], "objectives": [{"tier": "regression", "operation": "get", "metric": "p99", "status": "` + st + `"}]}]}`)
	}
	r, err := Decode(file("~"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Components[0].Objectives[0].Status; got != status.NoChange {
		t.Fatalf(`"~" decodes to %q, want %q`, got, status.NoChange)
	}
	if _, err := Decode(file("okay")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown status: err %v, want ErrInvalid", err)
	}
}
