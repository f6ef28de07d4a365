package slo

import (
	"reflect"
	"strings"
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

func TestTheSampleRuleCountsTheRunsLength(t *testing.T) {
	t.Parallel()
	short := []Stage{{Rate: 50, Duration: 10 * time.Second}}
	long := []Stage{{Rate: 50, Duration: 10 * time.Second}, {Rate: 50, Duration: 20 * time.Second}}
	tests := []struct {
		name     string
		stages   []Stage
		duration time.Duration
		length   time.Duration
	}{
		{"a steady run measures the duration", nil, time.Minute, time.Minute},
		{"a short steady run measures the duration", nil, 10 * time.Second, 10 * time.Second},
		{"a run in stages measures its stages, not a longer duration", short, time.Minute, 10 * time.Second},
		{"a run in stages measures its stages, not a shorter duration", long, 10 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Component{Name: "cache", Workload: Workload{Rate: 50, Stages: tt.stages},
				SLO: SLO{Minimum: []Objective{{Tier: TierMinimum, Operation: AllOperations, Metric: MetricP99}}}}
			if got := c.RunLength(tt.duration); got != tt.length {
				t.Fatalf("RunLength(%v) = %v, want %v", tt.duration, got, tt.length)
			}
			// p99 needs 1135 samples expected: 50/s gives them in 22.7s.
			p := &Plan{File: "plan.yaml", Components: []Component{c}}
			errs := p.SampleErrors(tt.duration)
			if short := tt.length < 23*time.Second; short != (len(errs) == 1) {
				t.Fatalf("%v measured at 50/s: want an error %v, got %v", tt.length, short, errs)
			}
			if len(errs) == 1 && !strings.Contains(errs[0].Error(), "× "+formatNumber(tt.length.Seconds())+"s gives") {
				t.Errorf("the error does not count %v: %v", tt.length, errs[0])
			}
		})
	}
}

func TestTheSampleRuleWritesAnOperationsShareOutNeverAsAnExponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mix  []MixEntry
		want string
	}{
		{"a tenth", []MixEntry{{"get", 1}, {"set", 9}}, "× 10%"},
		{"a third, in three digits", []MixEntry{{"get", 1}, {"set", 2}}, "× 33.3%"},
		{"one in two million", []MixEntry{{"get", 1}, {"set", 1_000_000}, {"delete", 999_999}}, "× 0.00005%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Component{Name: "cache", Workload: Workload{Rate: 10, Mix: tt.mix},
				SLO: SLO{Minimum: []Objective{{Tier: TierMinimum, Operation: "get", Metric: MetricP99}}}}
			errs := (&Plan{File: "plan.yaml", Components: []Component{c}}).SampleErrors(time.Minute)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want+" gives") {
				t.Fatalf("got %v, want one error counting %q", errs, tt.want)
			}
		})
	}
}
