package workloads

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// FuzzDecodeResult feeds the result decoder truncated, corrupt and foreign
// files: it must answer ErrBadResult or a sound result, never panic.
func FuzzDecodeResult(f *testing.F) {
	h := NewHistogram()
	for i := int64(1); i <= 100; i++ {
		h.RecordValue(i * 1000)
	}
	good := &Result{Schema: Schema, Verdict: VerdictPass, Complete: true, StartedAt: time.Unix(0, 0).UTC(),
		MeasuredNS: 1e9, IntervalNS: 1e9, Components: []ComponentResult{{Name: "c", Operations: []OperationResult{{
			Name: slo.AllOperations, Count: 100, Histogram: encodeHist(h), ServiceHistogram: encodeHist(h),
			Intervals: []Interval{{Count: 100, Histogram: encodeHist(h)}},
		}}}}}
	data, err := jsonOf(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte(`{"schema": "tailgate.result/v1", "verdict": "pass", "components": [{"name": "x", "operations": [{"name": "all", "count": 3, "histogram": "HISTFAAAAB"}]}]}`))
	f.Add([]byte(`{"schema": "k6.summary"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeResult(data)
		if err != nil {
			if !errors.Is(err, ErrBadResult) {
				t.Fatalf("error %v is not ErrBadResult", err)
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
	r := &Result{Schema: Schema, Verdict: VerdictFail, Components: []ComponentResult{{Name: "c", Operations: []OperationResult{{Name: "all"}},
		Objectives: []ObjectiveResult{
			{Metric: "error_rate", MeasuredValue: 0.02, ThresholdValue: 0, Margin: math.Inf(1), Status: status.Fail},
			{Metric: "p99", IntervalLow: math.NaN(), PValue: math.NaN(), Margin: 0.25, Status: status.Pass},
			{Metric: "error_rate", Tier: "regression", IntervalLow: 2.5, IntervalHigh: math.Inf(1), Margin: math.Inf(1), Status: status.Fail},
		}}}}
	data, err := jsonOf(r)
	if err != nil {
		t.Fatalf("a margin above a zero bar must not stop the result being written: %v", err)
	}
	back, err := DecodeResult(data)
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
	r, err := DecodeResult(file("~"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Components[0].Objectives[0].Status; got != status.NoChange {
		t.Fatalf(`"~" decodes to %q, want %q`, got, status.NoChange)
	}
	if _, err := DecodeResult(file("okay")); !errors.Is(err, ErrBadResult) {
		t.Fatalf("unknown status: err %v, want ErrBadResult", err)
	}
}

// TestNotRunResultIsAResultFile: a run that measured nothing still leaves a
// sound, incomplete result naming every operation, with no secret in it.
func TestNotRunResultIsAResultFile(t *testing.T) {
	p, err := slo.Parse([]byte(`version: 1
components:
  - name: cache
    target: redis://:Sup3rSecretPw@127.0.0.1:1/0
    workload: {rate: 100, mix: {get: 3, set: 1}}
    slo: {minimum: {all: {error_rate: 1%}}}
`), "plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := &Spec{Component: p.Components[0], Duration: time.Second, Seed: 1, Secrets: p.Secrets}
	r := NotRunResult([]*Spec{spec}, time.Unix(0, 0), "target unreachable: redis://:Sup3rSecretPw@127.0.0.1:1/0 refused", "tailgate test")
	data, err := jsonOf(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeResult(data)
	if err != nil {
		t.Fatalf("the result does not read back: %v", err)
	}
	if back.Complete || back.Verdict != VerdictError || back.Incomplete == "" {
		t.Errorf("complete %v verdict %q reason %q", back.Complete, back.Verdict, back.Incomplete)
	}
	c := back.Components[0]
	if len(c.Operations) != 3 || c.Operation("set") == nil || c.Operation(slo.AllOperations) == nil || c.Operation("get").AskedRate != 75 {
		t.Errorf("operations %+v", c.Operations)
	}
	for _, op := range c.Operations {
		if _, err := op.WholeHistogram(); err != nil {
			t.Errorf("%s: %v", op.Name, err)
		}
	}
	if strings.Contains(string(data), "Sup3rSecretPw") {
		t.Errorf("the secret is in the result: %s", data)
	}
	if c.WorkloadHash != spec.Identity().Hash() {
		t.Error("the result carries the workload's identity, so check can judge it against its plan")
	}
}
