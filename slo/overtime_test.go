package slo

import (
	"testing"
	"time"
)

// TestOverTimeAndTrendObjectivesDecode: p99_window takes a window and a
// bar, drift and the trend tier a relative change, each in file order.
func TestOverTimeAndTrendObjectivesDecode(t *testing.T) {
	p, err := Load("testdata/over-time.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Components[0].SLO
	want := []Objective{
		{Tier: TierMinimum, Operation: "get", Metric: MetricP99, Threshold: Threshold{Latency: 5 * time.Millisecond}},
		{Tier: TierMinimum, Operation: "get", Metric: MetricP99Window, Threshold: Threshold{Latency: 5 * time.Millisecond, Window: 10 * time.Second}},
		{Tier: TierMinimum, Operation: "get", Metric: MetricDrift, Threshold: Threshold{Ratio: 0.20}},
		{Tier: TierAspirational, Operation: "all", Metric: MetricDrift, Threshold: Threshold{Ratio: 0.10}},
		{Tier: TierTrend, Operation: "get", Metric: MetricP99, Threshold: Threshold{Ratio: 0.10}},
		{Tier: TierTrend, Operation: "get", Metric: MetricP999, Threshold: Threshold{Ratio: 0.15}},
	}
	var got []Objective
	for _, tier := range [][]Objective{s.Minimum, s.Aspirational, s.Trend} {
		got = append(got, tier...)
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d objectives, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Tier != w.Tier || g.Operation != w.Operation || g.Metric != w.Metric || g.Threshold != w.Threshold {
			t.Errorf("objective %d = %s %s %s %+v, want %s %s %s %+v", i, g.Tier, g.Operation, g.Metric, g.Threshold, w.Tier, w.Operation, w.Metric, w.Threshold)
		}
	}
	if raw := got[1].Raw; raw != "5ms per 10s" {
		t.Errorf("p99_window's threshold reads %q in reports, want %q", raw, "5ms per 10s")
	}
	if c := p.Candidates(nil); len(c) != 1 || c[0].Outcome != OutcomeNotMet {
		t.Errorf("a drift milestone must not be promoted, got %+v", c)
	}
}
