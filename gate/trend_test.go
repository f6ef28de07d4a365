package gate_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result/history"
	"github.com/tailgate-dev/tailgate/slo"
)

// trendCase builds a history whose p99s are levels[i] × (1 ± 1% noise),
// the last level being the judged result's, with commits c00, c01, ….
func trendCase(levels []float64, hash func(i int) string) (*gate.History, func() *gate.Verdict) {
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
		h.Runs = append(h.Runs, run)
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
