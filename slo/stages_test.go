package slo

import (
	"reflect"
	"testing"
	"time"
)

func TestStagesDecodeWithTheirRampsAndStageObjectives(t *testing.T) {
	t.Parallel()
	p, _, err := parseTestdata(t, "testdata/stages.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := p.Components[0].Workload
	want := []Stage{
		{Rate: 1000, Duration: 30 * time.Second, Pos: Position{11, 11}},
		{Rate: 4000, Duration: time.Minute, Ramp: RampLinear, Pos: Position{12, 11}},
		{Rate: 4000, Duration: 30 * time.Second, Pos: Position{13, 11}},
	}
	if !reflect.DeepEqual(w.Stages, want) {
		t.Fatalf("stages:\n got %+v\nwant %+v", w.Stages, want)
	}
	// 1000/s × 30s + (1000+4000)/2 × 60s + 4000/s × 30s over 120s.
	if w.Rate != 2500 {
		t.Errorf("rate is %v, want the stages' mean 2500", w.Rate)
	}
	if got := StagesDuration(w.Stages); got != 2*time.Minute {
		t.Errorf("StagesDuration = %v, want 2m", got)
	}
	if got := StartRate(w.Stages, 1); got != 1000 {
		t.Errorf("the ramp starts at %v, want the previous stage's 1000", got)
	}
	type bar struct {
		op     string
		metric Metric
		stage  int
	}
	var got []bar
	for _, o := range p.Components[0].SLO.Minimum {
		got = append(got, bar{o.Operation, o.Metric, o.Stage})
	}
	wantBars := []bar{
		{"get", MetricP99, 0}, {"get", MetricP99, 3},
		{"all", MetricErrorRate, 1}, {"all", MetricP99, 1},
		{"all", MetricErrorRate, 2}, {"all", MetricP99, 2},
		{"all", MetricErrorRate, 3}, {"all", MetricP99, 3},
	}
	if !reflect.DeepEqual(got, wantBars) {
		t.Errorf("objectives:\n got %v\nwant %v", got, wantBars)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("the decoded plan does not validate again: %v", err)
	}
}

func TestStartRateOfAFirstRampIsZero(t *testing.T) {
	t.Parallel()
	st := []Stage{{Rate: 500, Duration: time.Second, Ramp: RampLinear}, {Rate: 200, Duration: time.Second}}
	if r := StartRate(st, 0); r != 0 {
		t.Errorf("a first ramp starts at %v, want 0", r)
	}
	if r := StartRate(st, 1); r != 200 {
		t.Errorf("a held stage starts at %v, want its own 200", r)
	}
	if n := StagesOperations(st); n != 450 {
		t.Errorf("StagesOperations = %v, want 250 + 200", n)
	}
}
