package slo

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// updatePromote rewrites the expected plans of testdata/promote:
// go test ./slo -run TestPromoteGolden -update-promote
var updatePromote = flag.Bool("update-promote", false, "rewrite testdata/promote/*/want.yaml")

// promoteDate is the day the golden records carry.
var promoteDate = time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)

// runsFile is testdata/promote/*/runs.yaml: the measured values of each
// run, by component, operation and metric, with the operation's sample count.
type runsFile []struct {
	Name       string
	Complete   *bool
	Incomplete string
	Values     map[string]map[string]map[string]string
}

// readRuns loads a runs.yaml as evidence.
func readRuns(t *testing.T, path string) []RunEvidence {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file runsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var runs []RunEvidence
	for _, r := range file {
		run := RunEvidence{Name: r.Name, Complete: r.Complete == nil || *r.Complete, Incomplete: r.Incomplete}
		for component, ops := range r.Values {
			for op, values := range ops {
				samples, err := strconv.ParseInt(values["samples"], 10, 64)
				if err != nil {
					t.Fatalf("%s: %s %s: samples: %v", path, component, op, err)
				}
				for name, text := range values {
					if name == "samples" {
						continue
					}
					metric, err := ParseMetric(name)
					if err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					var value float64
					if metric.IsLatency() {
						d, err := ParseDuration(text)
						if err != nil {
							t.Fatalf("%s: %v", path, err)
						}
						value = float64(d)
					} else if value, err = ParsePercent(text); err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					run.Measurements = append(run.Measurements, Measurement{
						Component: component, Operation: op, Metric: metric, Value: value, Samples: samples,
					})
				}
			}
		}
		runs = append(runs, run)
	}
	return runs
}

// TestPromoteGolden promotes each testdata/promote/<case>/plan.yaml with
// the evidence of its runs.yaml and compares the edited plan with
// want.yaml (or the refusal with want.err). Every edited plan must parse,
// differ from the input only in the promoted minimums, and stay the same
// when promoted again.
func TestPromoteGolden(t *testing.T) {
	eachFile(t, "testdata/promote/*", func(t *testing.T, dir string) {
		input, err := os.ReadFile(filepath.Join(dir, "plan.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := ParseWithEnv(input, "plan.yaml", nil)
		if err != nil {
			t.Fatalf("the input plan is invalid:\n%v", err)
		}
		runs := readRuns(t, filepath.Join(dir, "runs.yaml"))
		candidates := plan.Candidates(runs)
		got, err := Promote(input, "plan.yaml", candidates, promoteDate)

		if wantErr, readErr := os.ReadFile(filepath.Join(dir, "want.err")); readErr == nil {
			if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(string(wantErr))) {
				t.Fatalf("want an error containing %q, got %v", strings.TrimSpace(string(wantErr)), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("promote: %v", err)
		}
		wantFile := filepath.Join(dir, "want.yaml")
		if *updatePromote {
			if err := os.WriteFile(wantFile, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(wantFile)
		if err != nil {
			t.Fatalf("%v (run with -update-promote to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("promoted plan differs from %s:\n--- got\n%s\n--- want\n%s", wantFile, got, want)
		}

		edited, err := ParseWithEnv(got, "plan.yaml", nil)
		if err != nil {
			t.Fatalf("the promoted plan is invalid:\n%v", err)
		}
		checkOnlyMinimumsChanged(t, plan, edited, candidates)

		again := edited.Candidates(runs)
		for _, c := range again {
			if c.Outcome == OutcomePromote {
				t.Errorf("a second promote would still change %s %s", c.Component, c.Change())
			}
		}
		second, err := Promote(got, "plan.yaml", again, promoteDate.AddDate(0, 0, 1))
		if err != nil || !bytes.Equal(second, got) {
			t.Errorf("promoting twice changed the plan again (err %v):\n%s", err, second)
		}
	})
}

// checkOnlyMinimumsChanged compares two plans objective by objective: the
// minimums promoted now hold their milestones' bars, and nothing else moved.
func checkOnlyMinimumsChanged(t *testing.T, before, after *Plan, candidates []Candidate) {
	t.Helper()
	type slot struct {
		component string
		tier      Tier
		op        string
		metric    Metric
	}
	bars := func(p *Plan) map[slot]Threshold {
		out := map[slot]Threshold{}
		for _, c := range p.Components {
			for _, tier := range [][]Objective{c.SLO.Minimum, c.SLO.Aspirational, c.SLO.Regression} {
				for _, o := range tier {
					out[slot{c.Name, o.Tier, o.Operation, o.Metric}] = o.Threshold
				}
			}
		}
		return out
	}
	want := bars(before)
	for _, c := range candidates {
		if c.Outcome == OutcomePromote {
			want[slot{c.Component, TierMinimum, c.Milestone.Operation, c.Milestone.Metric}] = c.Milestone.Threshold
		}
	}
	if got := bars(after); !reflect.DeepEqual(got, want) {
		t.Errorf("objectives after promote:\n%v\nwant:\n%v", got, want)
	}
	for i := range before.Components {
		b, a := before.Components[i], after.Components[i]
		b.SLO, a.SLO = SLO{}, SLO{}
		b.Pos, a.Pos, b.TargetPos, a.TargetPos = Position{}, Position{}, Position{}, Position{}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("component %q changed beyond its objectives:\n%+v\nwant:\n%+v", b.Name, a, b)
		}
	}
}

func TestCandidatesSayWhyAMilestoneStays(t *testing.T) {
	plan, err := ParseWithEnv([]byte(`version: 1
components:
  - name: cache
    target: redis://127.0.0.1:6379/0
    workload: {rate: 5000}
    slo:
      minimum:
        get: {p99: 2ms, p99.9: 4ms}
      aspirational:
        get: {p99: 1ms, p99.9: 4ms, max: 10ms}
        all: {error_rate: 0.1%}
`), "plan.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	measured := func(name string, p99 float64, samples int64) RunEvidence {
		return RunEvidence{Name: name, Complete: true, Measurements: []Measurement{
			{Component: "cache", Operation: "get", Metric: MetricP99, Value: p99, Samples: samples},
			{Component: "cache", Operation: "get", Metric: MetricMax, Value: math.NaN(), Samples: samples},
		}}
	}
	tests := []struct {
		name    string
		runs    []RunEvidence
		outcome Outcome
		reason  string
	}{
		{name: "every run within the bar earns the promotion",
			runs: []RunEvidence{measured("a.json", 900e3, 5000), measured("b.json", 1e6, 5000)}, outcome: OutcomePromote},
		{name: "a run over the bar keeps it, and the message names the run",
			runs: []RunEvidence{measured("a.json", 900e3, 5000), measured("b.json", 1.2e6, 5000)}, outcome: OutcomeNotMet,
			reason: "b.json measured 1.2ms, bar 1ms"},
		{name: "a run with too few samples cannot vouch for a percentile",
			runs: []RunEvidence{measured("a.json", 900e3, 999)}, outcome: OutcomeNotMet,
			reason: "a.json has 999 samples of get; p99 needs 1000"},
		{name: "an incomplete run earns nothing",
			runs:    []RunEvidence{{Name: "a.json", Incomplete: "interrupted", Measurements: measured("", 1, 5000).Measurements}},
			outcome: OutcomeNotMet, reason: "a.json is incomplete (interrupted)"},
		{name: "no runs, no promotion", outcome: OutcomeNotMet, reason: "no runs given"},
		{name: "a run the gate could not judge says why",
			runs: []RunEvidence{measured("a.json", 900e3, 5000), {Name: "b.json", Complete: true, Measurements: []Measurement{
				{Component: "cache", Operation: "get", Metric: MetricP99, Value: math.NaN(), Samples: 5000, Unjudged: "client-bound"},
			}}}, outcome: OutcomeNotMet, reason: "b.json has no value of get p99 (client-bound)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plan.Candidates(tt.runs)
			if len(got) != 4 {
				t.Fatalf("want 4 candidates, got %d", len(got))
			}
			p99 := got[0]
			if p99.Outcome != tt.outcome || !strings.Contains(p99.Reason, tt.reason) {
				t.Errorf("get p99: %v %q; want %v %q", p99.Outcome, p99.Reason, tt.outcome, tt.reason)
			}
			if p999 := got[1]; p999.Outcome != OutcomeNotTighter || !strings.Contains(p999.Reason, "minimum 4ms (line 8)") {
				t.Errorf("get p99.9 equal to its minimum: %v %q; want no change", p999.Outcome, p999.Reason)
			}
			if max := got[2]; max.Outcome == OutcomePromote || max.Minimum != nil {
				t.Errorf("get max with no value: %v", max.Outcome)
			}
			if all := got[3]; all.Outcome == OutcomePromote || (len(tt.runs) > 0 && tt.runs[0].Complete && !strings.Contains(all.Reason, "has no all error_rate")) {
				t.Errorf("all error_rate, never measured: %v %q", all.Outcome, all.Reason)
			}
		})
	}
}

func TestMetBy(t *testing.T) {
	latency := Objective{Tier: TierAspirational, Metric: MetricP99, Threshold: Threshold{Latency: time.Millisecond}}
	maxLatency := Objective{Tier: TierAspirational, Metric: MetricMax, Threshold: Threshold{Latency: time.Millisecond}}
	errorRate := Objective{Tier: TierAspirational, Metric: MetricErrorRate, Threshold: Threshold{Ratio: 0.001}}
	throughput := Objective{Tier: TierAspirational, Metric: MetricThroughput, Threshold: Threshold{Ratio: 0.99}}
	tests := []struct {
		name    string
		o       Objective
		value   float64
		samples int64
		want    bool
	}{
		{"a latency at the bar meets it", latency, 1e6, 1000, true},
		{"a latency a nanosecond over misses", latency, 1e6 + 1, 1000, false},
		{"p99 from 999 samples is not judged", latency, 1, 999, false},
		{"max needs one sample", maxLatency, 1, 1, true},
		{"no samples is never a pass", maxLatency, 0, 0, false},
		{"NaN is never a pass", latency, math.NaN(), 5000, false},
		{"an error rate at the bar meets it", errorRate, 0.001, 100, true},
		{"an error rate above misses", errorRate, 0.0011, 100, false},
		{"throughput above the bar meets it", throughput, 0.995, 100, true},
		{"throughput below misses", throughput, 0.98, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.MetBy(tt.value, tt.samples); got != tt.want {
				t.Errorf("MetBy(%v, %d) = %v, want %v", tt.value, tt.samples, got, tt.want)
			}
		})
	}
}

func TestPromoteWithNothingToPromoteReturnsTheInput(t *testing.T) {
	input := []byte("not: [even, parsed\n")
	got, err := Promote(input, "plan.yaml", []Candidate{{Outcome: OutcomeNotMet}}, promoteDate)
	if err != nil || !bytes.Equal(got, input) {
		t.Fatalf("Promote = %q, %v; want the input unchanged", got, err)
	}
}

func TestFlowEndSkipsQuotesAndComments(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{`{a: 1}`, 6},
		{`{a: "}", b: '}'} tail`, 16},
		{`{a: it's, b: [1, 2]}`, 20},
		{"{a: 1, # } no\n b: 2}", 20},
		{`{a: "say \"}\""}`, 16},
		{`{a: 'it''s }'}`, 14},
	}
	for _, tt := range tests {
		got, ok := flowEnd([]byte(tt.text), 0)
		if !ok || got != tt.want {
			t.Errorf("flowEnd(%q) = %d, %v; want %d", tt.text, got, ok, tt.want)
		}
	}
	if _, ok := flowEnd([]byte(`{a: [1, 2}`), 0); ok {
		t.Error("an unclosed collection has an end")
	}
}

// FuzzPromote promotes every milestone of arbitrary valid plans with
// evidence that meets them all: Promote may refuse, but what it returns must
// parse, and promoting it again must change nothing.
func FuzzPromote(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/promote/*/plan.yaml")
	more, _ := filepath.Glob("testdata/*.good.yaml")
	addSeedFiles(f, append(seeds, more...))
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := ParseWithEnv(data, "plan.yaml", lookupTestEnv)
		if err != nil {
			return
		}
		run := RunEvidence{Name: "perfect.json", Complete: true}
		for _, c := range plan.Components {
			for _, o := range c.SLO.Aspirational {
				value := 0.0
				if o.Metric == MetricThroughput {
					value = 1
				}
				run.Measurements = append(run.Measurements, Measurement{
					Component: c.Name, Operation: o.Operation, Metric: o.Metric, Value: value, Samples: 1 << 40,
				})
			}
		}
		runs := []RunEvidence{run}
		got, err := Promote(data, "plan.yaml", plan.Candidates(runs), promoteDate)
		if err != nil {
			return
		}
		edited, err := ParseWithEnv(got, "plan.yaml", lookupTestEnv)
		if err != nil {
			t.Fatalf("the promoted plan is invalid:\n%v\n--- input\n%s\n--- promoted\n%s", err, data, got)
		}
		for _, c := range edited.Candidates(runs) {
			if c.Outcome == OutcomePromote {
				t.Fatalf("promoting again would change %s %s:\n%s", c.Component, c.Change(), got)
			}
		}
	})
}
