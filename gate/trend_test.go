package gate_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/result/history"
	"github.com/tailgate-dev/tailgate/slo"
)

// trendCase builds a history whose p99s are levels[i] × (1 ± 1% noise),
// the last level being the judged result's, with commits c00, c01, ….
func trendCase(levels []float64, hash func(i int) string) (*gate.History, func() *gate.Verdict) {
	return editedTrendCase(levels, hash, nil, nil)
}

// editedTrendCase is trendCase with each history run i edited by edit,
// and the judged result by current, where they are not nil.
func editedTrendCase(levels []float64, hash func(i int) string, edit func(i int, run *history.Run), current func(*result.Result)) (*gate.History, func() *gate.Verdict) {
	rng := rand.New(rand.NewPCG(9, 9))
	res := fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 15, perSecond: 1000}.result()
	start := res.StartedAt.Add(-time.Duration(len(levels)) * time.Hour)
	h := &gate.History{Current: history.Source{Commit: fmt.Sprintf("c%02d", len(levels)-1)}}
	for i, l := range levels[:len(levels)-1] {
		run := history.FromResult(res, history.Source{Commit: fmt.Sprintf("c%02d", i)}, start)
		run.StartedAt = start.Add(time.Duration(i) * time.Hour)
		if hash != nil {
			run.Components[0].WorkloadHash = hash(i)
		}
		run.Components[0].Operations[0].LatencyNS.P99 = int64(2e6 * l * (1 + 0.01*rng.NormFloat64()))
		if edit != nil {
			edit(i, &run)
		}
		h.Runs = append(h.Runs, run)
	}
	if current != nil {
		current(res)
	}
	res.Components[0].Operations[0].LatencyNS.P99 = int64(2e6 * levels[len(levels)-1])
	return h, func() *gate.Verdict {
		v, err := gate.JudgeWithHistory(planWith("      minimum:\n        get: {p99: 1s}\n      trend:\n        get: {p99: +10%}\n"), res, nil, h)
		if err != nil {
			panic(err)
		}
		return v
	}
}

func repeat(level float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = level
	}
	return out
}

func concat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestTrendTier: the trend tier fails on a confirmed shift above its bar
// and on creep whose steps are each within it, naming the commits; passes
// a flat history; and says plainly when the history is too short, without
// making the run's verdict an error.
func TestTrendTier(t *testing.T) {
	tests := []struct {
		name    string
		levels  []float64
		hash    func(int) string
		status  status.Status
		verdict status.Verdict
		detail  string
	}{
		{"a flat history shows no change", repeat(1, 12), nil, status.NoChange, status.VerdictPass, "12 runs; no change point"},
		{"a step of +30% fails, naming the commits it happened between", concat(repeat(1, 7), repeat(1.3, 7)), nil,
			status.Fail, status.VerdictFail, "between c06 and c07"},
		{"a step of +5% is a change within the bar", concat(repeat(1, 8), repeat(1.05, 8)), nil,
			status.Pass, status.VerdictPass, "1 change point: c07..c08 +5"},
		{"creep in steps of +7%, each within the bar, fails as drift since the anchor", concat(repeat(1, 6), repeat(1.07, 6), repeat(1.145, 6), repeat(1.225, 6)), nil,
			status.Fail, status.VerdictFail, "since the anchor run c00"},
		{"five runs are too short to judge, and the verdict says so without erroring", repeat(1, 5), nil,
			status.Insufficient, status.VerdictPass, "the history is too short to judge: 5 runs"},
		{"runs of another workload are left out of the series", concat(repeat(1.5, 6), repeat(1, 8)), func(i int) string {
			if i < 6 {
				return "other"
			}
			return ""
		}, status.NoChange, status.VerdictPass, "6 runs of another workload left out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hash func(int) string
			if tt.hash != nil {
				hash = func(i int) string {
					if h := tt.hash(i); h != "" {
						return h
					}
					return fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 15, perSecond: 1000}.result().Components[0].WorkloadHash
				}
			}
			_, judge := trendCase(tt.levels, hash)
			v := judge()
			var trend *status.ObjectiveResult
			for i, o := range v.Objectives["cache"] {
				if o.Tier == string(slo.TierTrend) {
					trend = &v.Objectives["cache"][i]
				}
			}
			if trend == nil {
				t.Fatalf("no trend objective judged: %+v", v)
			}
			if trend.Status != tt.status || v.Status != tt.verdict {
				t.Errorf("trend %s, verdict %s; want %s, %s (measured %s; %s)", trend.Status, v.Status, tt.status, tt.verdict, trend.Measured, trend.Detail)
			}
			if !strings.Contains(trend.Detail, tt.detail) {
				t.Errorf("detail %q, want it to hold %q", trend.Detail, tt.detail)
			}
			if tt.status == status.Insufficient && !strings.Contains(strings.Join(v.Warnings, "\n"), "was not judged: the history is too short") {
				t.Errorf("warnings %q do not say the trend was not judged", v.Warnings)
			}
		})
	}
}

// trendOf is the trend objective v judged for the component.
func trendOf(t *testing.T, v *gate.Verdict) status.ObjectiveResult {
	t.Helper()
	for _, o := range v.Objectives["cache"] {
		if o.Tier == string(slo.TierTrend) {
			return o
		}
	}
	t.Fatalf("no trend objective judged: %+v", v)
	return status.ObjectiveResult{}
}

// TestTheTrendComparesLikeRunnersAndMeasuredRuns: a fleet moved to other
// machines, or runs the load generator could not measure, are not the
// target's trend. The runs of another kind of runner than the judged
// result's (another CPU count, a CPU probe median beyond
// TrendRunnerSpread), and those whose own objective of the metric was
// client-bound, are left out of the series; a rise the judged run's own
// floor could have made is client-bound, not the target's fail.
func TestTheTrendComparesLikeRunnersAndMeasuredRuns(t *testing.T) {
	runnerOf := func(cpus int, probeNS int64) *history.Runner {
		return &history.Runner{CPUs: cpus, CPUProbeNS: result.Percentiles{P50: probeNS}}
	}
	onRunner := func(r *history.Runner) func(*result.Result) {
		return func(res *result.Result) {
			res.Runner = &result.Runner{CPUs: r.CPUs, CPUProbeNS: r.CPUProbeNS, CPUPressure: r.CPUPressure, CPUSteal: r.CPUSteal}
		}
	}
	// contended is a runner like eight whose tasks were kept from a CPU:
	// pressure and steal, shares of the window.
	contended := func(pressure, steal float64) *history.Runner {
		r := runnerOf(2, 8_000)
		r.CPUPressure, r.CPUSteal = &pressure, &steal
		return r
	}
	// pressured and stolen are runners like eight that record only their
	// CPU pressure, or only their steal.
	pressured := func(pressure float64) *history.Runner {
		r := runnerOf(2, 8_000)
		r.CPUPressure = &pressure
		return r
	}
	stolen := func(steal float64) *history.Runner {
		r := runnerOf(2, 8_000)
		r.CPUSteal = &steal
		return r
	}
	// Seven runs at one level on the old fleet, seven 30% higher on the
	// new: a shift the trend fails on when it compares them.
	step := concat(repeat(1, 7), repeat(1.3, 7))
	fleet := func(old, cur *history.Runner) func(int, *history.Run) {
		return func(i int, run *history.Run) {
			run.Runner = cur
			if i < 7 {
				run.Runner = old
			}
		}
	}
	eight := runnerOf(2, 8_000)
	fast, precise := func(v int64) int64 { return v / 20 }, func(int64) int64 { return 1_000 }
	mostly := func(v int64) int64 { return v * 9 / 10 }
	tests := []struct {
		name    string
		edit    func(int, *history.Run)
		current func(*result.Result)
		status  status.Status
		detail  string
	}{
		{"runs of one kind of runner throughout are compared", fleet(eight, eight), onRunner(eight), status.Fail, "between c06 and c07"},
		{"a CPU probe median 1.25 times apart is the same kind of runner", fleet(runnerOf(2, 10_000), eight), onRunner(eight), status.Fail, "between c06 and c07"},
		{"runs on CPUs twice as fast are left out", fleet(runnerOf(2, 4_000), eight), onRunner(eight), status.NoChange,
			"7 runs on another kind of runner left out (another CPU count, or a CPU probe median more than 1.5 times this run's, or less than 1/1.5)"},
		{"runs with twice the CPUs are left out", fleet(runnerOf(4, 8_000), eight), onRunner(eight), status.NoChange, "7 runs on another kind of runner left out"},
		{"runs without a runner record are compared", nil, onRunner(eight), status.Fail, "between c06 and c07"},
		{"a rise with busier runners is inconclusive", fleet(contended(0.05, 0.01), contended(0.2, 0.1)), onRunner(contended(0.2, 0.1)), status.Inconclusive,
			"inconclusive (runner noise): the runs after the rise ran on busier runners than those before it (kept from a CPU by other tasks or by their hypervisors: runs c07..c13 a median 30% of the measured window, against 6% before)"},
		{"a rise with runners busier by less than MaterialContention fails", fleet(contended(0.05, 0.01), contended(0.12, 0.01)), onRunner(contended(0.12, 0.01)), status.Fail, "between c06 and c07"},
		{"a rise with calmer runners fails", fleet(contended(0.3, 0), contended(0.05, 0)), onRunner(contended(0.05, 0)), status.Fail, "between c06 and c07"},
		{"a rise after runs that record no contention fails", fleet(eight, contended(0.3, 0)), onRunner(contended(0.3, 0)), status.Fail, "between c06 and c07"},
		{"a steal only the later runs record is not compared", fleet(pressured(0.05), contended(0.06, 0.3)), onRunner(contended(0.06, 0.3)), status.Fail, "between c06 and c07"},
		{"runs that all record only their steal are compared on it", fleet(stolen(0.01), stolen(0.3)), onRunner(stolen(0.3)), status.Inconclusive,
			"runs c07..c13 a median 30% of the measured window, against 1% before"},
		{"runs whose p99 was client-bound are left out", func(i int, run *history.Run) {
			if i >= 7 {
				run.Components[0].Objectives = []status.ObjectiveResult{{Tier: string(slo.TierMinimum), Operation: "get", Metric: "p99", Status: status.ClientBound}}
			}
		}, nil, status.NoChange, "6 runs whose get p99 was client-bound left out"},
		{"a rise this run's own floor could have made is client-bound", nil, func(res *result.Result) {
			withGenerator(res, fast, mostly, noisyRunner)
		}, status.ClientBound, "the load generator was too late in this run to tell the rise from its own delay"},
		{"the same rise measured by a precise generator fails", nil, func(res *result.Result) {
			withGenerator(res, fast, precise, quietRunner)
		}, status.Fail, "between c06 and c07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, judge := editedTrendCase(step, nil, tt.edit, tt.current)
			o := trendOf(t, judge())
			if o.Status != tt.status || !strings.Contains(o.Detail, tt.detail) {
				t.Errorf("trend %s (%s); want %s holding %q", o.Status, o.Detail, tt.status, tt.detail)
			}
		})
	}
}

// TestTrendWithoutHistoryWarns: a plan with a trend tier judged without
// --history says the tier was not judged.
func TestTrendWithoutHistoryWarns(t *testing.T) {
	res := fixture{seed: 1, medianNS: 1e6, sigma: 0.3, intervals: 15, perSecond: 1000}.result()
	v, err := gate.Judge(planWith("      minimum:\n        get: {p99: 1s}\n      trend:\n        get: {p99: +10%}\n"), res, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != status.VerdictPass || !strings.Contains(strings.Join(v.Warnings, "\n"), "no history given (--history)") {
		t.Errorf("verdict %s, warnings %q", v.Status, v.Warnings)
	}
}

// TestADriftOnBusierRunnersIsInconclusive: a drift since the anchor whose
// latest runs ran on runners busier than the anchor's by at least
// MaterialContention cannot be told from the runners'; the same drift on
// like runners fails.
func TestADriftOnBusierRunnersIsInconclusive(t *testing.T) {
	creep := concat(repeat(1, 6), repeat(1.07, 6), repeat(1.145, 6), repeat(1.225, 6))
	runner := func(pressure float64) *history.Runner {
		return &history.Runner{CPUs: 2, CPUProbeNS: result.Percentiles{P50: 8_000}, CPUPressure: &pressure}
	}
	for _, tt := range []struct {
		name         string
		latest, want float64
		status       status.Status
		detail       string
	}{
		{"busier latest runs", 0.3, 0.3, status.Inconclusive, "runs c18..c23 a median 30% of the measured window, against 5% before"},
		{"like runners", 0.05, 0.05, status.Fail, "since the anchor run c00, in steps each within +10%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, judge := editedTrendCase(creep, nil, func(i int, run *history.Run) {
				run.Runner = runner(0.05)
				if i >= 18 {
					run.Runner = runner(tt.latest)
				}
			}, func(res *result.Result) {
				res.Runner = &result.Runner{CPUs: 2, CPUProbeNS: result.Percentiles{P50: 8_000}, CPUPressure: &tt.want}
			})
			o := trendOf(t, judge())
			if o.Status != tt.status || !strings.Contains(o.Detail, tt.detail) {
				t.Errorf("trend %s (%s); want %s holding %q", o.Status, o.Detail, tt.status, tt.detail)
			}
		})
	}
}
