package slo

import (
	"math"
	"strings"
	"testing"
	"time"
)

// poissonBelow is P(X < k) for X Poisson with mean lambda, summed exactly.
func poissonBelow(k int64, lambda float64) float64 {
	var p float64
	logTerm := -lambda // log P(X = 0)
	for i := int64(0); i < k; i++ {
		p += math.Exp(logTerm)
		logTerm += math.Log(lambda) - math.Log(float64(i+1))
	}
	return p
}

// TestSampleSufficiencyLeavesHeadroom holds validate and run to one rule: a
// plan that validates has, at run time, the samples it needs unless errors
// cut them, however the Poisson arrivals and the mix fall.
func TestSampleSufficiencyLeavesHeadroom(t *testing.T) {
	want := map[Metric]float64{MetricP50: 48, MetricP90: 149, MetricP99: 1135, MetricP999: 10409, MetricP9999: 101273}
	for m, w := range want {
		got := MinExpectedSamples(m)
		if got != w {
			t.Errorf("MinExpectedSamples(%s) = %v, want %v", m, got, w)
		}
		need := MinSamples(m)
		if p := poissonBelow(need, got); p > 1e-4 {
			t.Errorf("%s: a plan expecting %v samples falls short of %d with probability %.2g", m, got, need, p)
		}
		// The rule before: expecting exactly the minimum fell short about
		// half the time.
		if p := poissonBelow(need, float64(need)); p < 0.4 {
			t.Errorf("%s: expecting exactly %d samples falls short with probability %.2g, want about 0.5", m, need, p)
		}
	}
	if MinExpectedSamples(MetricMax) != 1 || MinExpectedSamples(MetricErrorRate) != 1 {
		t.Error("max and rates need one sample")
	}

	plan := func(duration string) *Plan {
		p, err := Parse([]byte(`version: 1
defaults: {duration: `+duration+`}
components:
  - name: cache
    target: redis://127.0.0.1:6379
    workload: {rate: 1000, mix: {get: 50, set: 50}}
    slo: {minimum: {get: {p99: 10ms}, all: {error_rate: 1%}}}
`), "samples.yaml")
		if err != nil {
			if !strings.Contains(err.Error(), "get p99 needs at least 1000 samples, so a plan must expect 1135") {
				t.Fatalf("unexpected error: %v", err)
			}
			return nil
		}
		return p
	}
	if plan("2s") != nil {
		t.Error("1000/s × 2s × 50% get expects exactly 1000 samples of get: that plan must not validate")
	}
	p := plan("2300ms")
	if p == nil {
		t.Fatal("1000/s × 2.3s × 50% expects 1150 samples of get, above 1135: the plan validates")
	}
	if errs := p.SampleErrors(2 * time.Second); len(errs) != 1 {
		t.Errorf("--duration 2s must be refused as the plan would be: %v", errs)
	}
}
