package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/gate/capacity"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
)

// hockeyStick is a search of a target whose tail breaks past 31,200/s.
func hockeyStick() *capacity.File {
	bar := status.ObjectiveResult{Tier: "minimum", Operation: "get", Metric: "p99", Threshold: "2ms", ThresholdValue: 2e6}
	probe := func(rate, achieved float64, p50, p99, p999 int64, v capacity.ProbeVerdict) capacity.Probe {
		b := bar
		b.MeasuredValue, b.Status = float64(p99), status.Pass
		if v == capacity.ProbeFail {
			b.Status = status.Fail
		}
		return capacity.Probe{Rate: rate, AchievedRate: achieved, MeasuredNS: 1e10, WarmupNS: 2e9, Count: int64(achieved * 10), Verdict: v,
			LatencyNS: result.Percentiles{P50: p50, P99: p99, P999: p999}, Objectives: []status.ObjectiveResult{b}}
	}
	c := capacity.Component{Name: "session-cache", CapacityRate: 31200, UpperRate: 32000, Precision: 0.05, MinRate: 4000, MaxRate: 64000,
		Stop: capacity.StopPrecision, Detail: "the capacity is 31200/s, below 32000/s (within 5%)",
		Probes: []capacity.Probe{
			probe(4000, 4000, 3e5, 8e5, 1.1e6, capacity.ProbePass),
			probe(8000, 8000, 3.2e5, 8.5e5, 1.2e6, capacity.ProbePass),
			probe(16000, 15990, 3.5e5, 9.5e5, 1.5e6, capacity.ProbePass),
			probe(32000, 31800, 2.1e6, 2.4e7, 4.1e7, capacity.ProbeFail),
			probe(24000, 23990, 4e5, 1.2e6, 2.2e6, capacity.ProbePass),
			probe(28000, 27980, 4.6e5, 1.5e6, 3.1e6, capacity.ProbePass),
			probe(30000, 29970, 5.2e5, 1.7e6, 4.4e6, capacity.ProbePass),
			probe(31200, 31150, 6e5, 1.9e6, 6.2e6, capacity.ProbePass),
		},
		Objectives: []status.ObjectiveResult{{Tier: "minimum", Operation: "all", Metric: "capacity", Threshold: "30000/s", ThresholdValue: 30000, MeasuredValue: 31200,
			Measured: "31200/s (below 32000/s, +2.56%)", Status: status.Pass}},
	}
	return &capacity.File{Schema: capacity.Schema, Verdict: status.VerdictPass, Complete: true, Plan: "plan.yaml", Components: []capacity.Component{c}}
}

func TestCapacityPage(t *testing.T) {
	t.Parallel()
	var page bytes.Buffer
	if err := CapacityHTML(&page, hockeyStick()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "capacity.html.golden", page.Bytes())
	for _, want := range []string{
		`class="capacity"`, `class="bracket"`, "capacity 31200/s", "get p99 2ms", // the capacity, its bracket and the bar
		`<title>p99.9</title>`, `<title>p50</title>`, `class="probe st-fail"`, // the curves and the failing probe
		"PASS", "minimum all capacity 30000/s", "default-src &#39;none&#39;",
	} {
		if !strings.Contains(page.String(), want) && !strings.Contains(page.String(), strings.ReplaceAll(want, "&#39;", "'")) {
			t.Errorf("the capacity page lacks %s", want)
		}
	}
}
