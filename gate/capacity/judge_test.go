package capacity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

const judgePlan = `version: 1
components:
  - name: cache
    target: redis://127.0.0.1:6379/0
    workload: {rate: 1000}
    slo:
      minimum:
        get: {p99: 2ms}
        all: {capacity: 30000/s}
      regression:
        all: {capacity: -5%}
`

func judgedComponent(t *testing.T) *slo.Component {
	t.Helper()
	p, err := slo.Parse([]byte(judgePlan), "plan.yaml")
	require.NoError(t, err)
	return &p.Components[0]
}

// searched is a component's search with the capacity in [lo, hi).
func searched(lo, hi float64, stop Stop) *Component {
	c := &Component{Name: "cache", CapacityRate: lo, UpperRate: hi, Precision: 0.05, MinRate: 1000, MaxRate: 64000, Stop: stop, Detail: "why: " + string(stop)}
	if lo > 0 {
		c.Probes = append(c.Probes, Probe{Rate: lo, Verdict: ProbePass})
	}
	if hi > 0 {
		c.Probes = append(c.Probes, Probe{Rate: hi, Verdict: ProbeFail})
	}
	return c
}

func TestAProbeIsJudgedByTheWholeRunsMinimumObjectivesButCapacity(t *testing.T) {
	comp := &slo.Component{SLO: slo.SLO{
		Minimum: []slo.Objective{
			{Tier: slo.TierMinimum, Operation: "get", Metric: slo.MetricP99},
			{Tier: slo.TierMinimum, Operation: "all", Metric: slo.MetricCapacity},
			{Tier: slo.TierMinimum, Operation: "get", Metric: slo.MetricP99, Stage: 2},
			{Tier: slo.TierMinimum, Operation: "all", Metric: slo.MetricErrorRate},
		},
		Aspirational: []slo.Objective{{Tier: slo.TierAspirational, Operation: "get", Metric: slo.MetricP50}},
	}}
	assert.Equal(t, []slo.Objective{comp.SLO.Minimum[0], comp.SLO.Minimum[3]}, ProbeObjectives(comp))
	assert.Empty(t, ProbeObjectives(&slo.Component{}), "no minimum objective, nothing to probe by")
}

func TestTheCapacityBarIsJudgedOnTheWholeBracket(t *testing.T) {
	t.Parallel()
	comp := judgedComponent(t)
	tests := []struct {
		name string
		c    *Component
		want status.Status
	}{
		{"a capacity at the bar passes", searched(30000, 31000, StopPrecision), status.Pass},
		{"a capacity above the bar passes, whatever stopped the search", searched(32000, 0, StopClientBound), status.Pass},
		{"a probe failing at the bar fails", searched(28000, 30000, StopPrecision), status.Fail},
		{"a target below the lowest rate fails a bar above it", searched(0, 1000, StopBelowMin), status.Fail},
		{"a bar between the pass and the fail is inconclusive, never a coin toss", searched(29000, 31000, StopMaxProbes), status.Inconclusive},
		{"a search that stopped at a client-bound probe below the bar is client-bound", searched(20000, 0, StopClientBound), status.ClientBound},
		{"a highest rate below the bar cannot show it", searched(20000, 0, StopMaxRate), status.Insufficient},
		{"an interrupted search below the bar cannot show it", searched(20000, 0, StopInterrupted), status.Insufficient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, warnings := Judge(comp, tt.c, nil, "")
			require.Len(t, out, 1, "the regression is not judged without a baseline")
			assert.Equal(t, tt.want, out[0].Status, out[0].Detail)
			assert.Equal(t, "minimum", out[0].Tier)
			assert.Equal(t, 30000.0, out[0].ThresholdValue)
			assert.Len(t, warnings, 1)
			assert.Contains(t, warnings[0], "no baseline capacity file given")
		})
	}
}

func TestTheCapacityRegressionTakesBothBracketsIntoAccount(t *testing.T) {
	t.Parallel()
	comp := judgedComponent(t)
	tests := []struct {
		name      string
		candidate *Component
		baseline  *Component
		want      status.Status
	}{
		{"the same capacity passes", searched(30000, 31000, StopPrecision), searched(30000, 31000, StopPrecision), status.Pass},
		{"4% less, brackets clear of the bar, passes", searched(29800, 29900, StopPrecision), searched(31000, 31050, StopPrecision), status.Pass},
		{"10% less fails", searched(27000, 28000, StopPrecision), searched(31000, 32000, StopPrecision), status.Fail},
		{"brackets that straddle the bar are inconclusive", searched(28500, 29800, StopPrecision), searched(30000, 31500, StopPrecision), status.Inconclusive},
		{"a baseline only known to be at least its highest rate cannot pass a candidate", searched(64000, 0, StopMaxRate), searched(64000, 0, StopMaxRate), status.Inconclusive},
		{"a candidate below the lowest rate fails a baseline above it", searched(0, 1000, StopBelowMin), searched(30000, 31000, StopPrecision), status.Fail},
		{"a search that found nothing is insufficient", searched(0, 0, StopInterrupted), searched(30000, 31000, StopPrecision), status.Insufficient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, warnings := Judge(comp, tt.candidate, tt.baseline, "base.json")
			assert.Empty(t, warnings)
			require.Len(t, out, 2)
			r := out[1]
			assert.Equal(t, "regression", r.Tier)
			assert.Equal(t, tt.want, r.Status, "%s: %s", r.Measured, r.Detail)
		})
	}
}

func TestTheFilesVerdict(t *testing.T) {
	t.Parallel()
	pass := status.ObjectiveResult{Status: status.Pass}
	tests := []struct {
		name     string
		complete bool
		c        Component
		want     status.Verdict
	}{
		{"a search found within its precision passes", true, *searched(1000, 1050, StopPrecision), status.VerdictPass},
		{"a search bounded by an error-rate breach passes: the target's limit is shown", true, *searched(1000, 2000, StopErrorRate), status.VerdictPass},
		{"a client-bound search without objectives could not measure", true, *searched(1000, 0, StopClientBound), status.VerdictError},
		{"a search that found no passing rate could not measure", true, *searched(0, 500, StopBelowMin), status.VerdictError},
		{"an interrupted search is an error", false, *searched(1000, 1050, StopPrecision), status.VerdictError},
		{"a failed objective fails", true, Component{Stop: StopPrecision, CapacityRate: 1, Objectives: []status.ObjectiveResult{pass, {Status: status.Fail}}}, status.VerdictFail},
		{"an inconclusive objective is an error", true, Component{Stop: StopPrecision, CapacityRate: 1, Objectives: []status.ObjectiveResult{pass, {Status: status.Inconclusive}}}, status.VerdictError},
		{"passed objectives pass whatever stopped the search", true, Component{Stop: StopMaxProbes, CapacityRate: 1, Objectives: []status.ObjectiveResult{pass}}, status.VerdictPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &File{Complete: tt.complete, Components: []Component{tt.c}}
			assert.Equal(t, tt.want, Verdict(f))
		})
	}
}

func TestBracket(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "31200/s (below 32000/s, +2.56%)", Bracket(searched(31200, 32000, StopPrecision)))
	assert.Equal(t, "at least 64000/s", Bracket(searched(64000, 0, StopMaxRate)))
	assert.Equal(t, "below 1000/s", Bracket(searched(0, 1000, StopBelowMin)))
	assert.Equal(t, "none found", Bracket(searched(0, 0, StopInterrupted)))
}

func TestAProbesVerdictIsItsWorstObjective(t *testing.T) {
	pass := status.ObjectiveResult{Operation: "get", Metric: "p99", Status: status.Pass, Measured: "1ms", Threshold: "2ms"}
	fail := status.ObjectiveResult{Operation: "get", Metric: "p99", Status: status.Fail, Measured: "3ms", Threshold: "2ms"}
	errorRate := status.ObjectiveResult{Operation: "all", Metric: "error_rate", Status: status.Fail, Measured: "5%", Threshold: "0.1%"}
	clientBound := status.ObjectiveResult{Operation: "get", Metric: "p99", Status: status.ClientBound, Measured: "3ms", Threshold: "2ms", Detail: "the generator sent late"}
	insufficient := status.ObjectiveResult{Operation: "get", Metric: "p99.9", Status: status.Insufficient, Measured: "-", Threshold: "4ms"}
	tests := []struct {
		name       string
		objectives []status.ObjectiveResult
		verdict    ProbeVerdict
		detail     string
	}{
		{"none", nil, ProbePass, ""},
		{"all held", []status.ObjectiveResult{pass, pass}, ProbePass, ""},
		{"too few samples", []status.ObjectiveResult{pass, insufficient}, ProbeInsufficient, "get p99.9: - against 4ms"},
		{"client-bound before too few samples", []status.ObjectiveResult{insufficient, clientBound}, ProbeClientBound, "get p99: 3ms against 2ms: the generator sent late"},
		{"a failure shown stands over client-bound", []status.ObjectiveResult{clientBound, fail}, ProbeFail, "get p99: 3ms against 2ms"},
		{"an error-rate breach first", []status.ObjectiveResult{fail, errorRate, insufficient}, ProbeErrorRate, "all error_rate: 5% against 0.1%"},
		{"the first of equals names it", []status.ObjectiveResult{fail, {Operation: "set", Metric: "p99", Status: status.Fail, Measured: "9ms", Threshold: "2ms"}}, ProbeFail, "get p99: 3ms against 2ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdict, detail := ProbeVerdictOf(tt.objectives)
			assert.Equal(t, tt.verdict, verdict)
			assert.Equal(t, tt.detail, detail)
		})
	}
}

// judgedAgainst is a component with one capacity regression objective of
// the given threshold, judged on candidate against baseline.
func judgedAgainst(t *testing.T, threshold string, candidate, baseline *Component) status.ObjectiveResult {
	t.Helper()
	p, err := slo.Parse([]byte(`version: 1
components:
  - name: cache
    target: redis://127.0.0.1:6379/0
    workload: {rate: 1000}
    slo:
      regression:
        all: {capacity: `+threshold+`}
`), "plan.yaml")
	require.NoError(t, err)
	out, warnings := Judge(&p.Components[0], candidate, baseline, "base.json")
	require.Empty(t, warnings)
	require.Len(t, out, 1)
	return out[0]
}

func TestCapacityFiguresPrintPercentsAsEveryReportDoesNeverAnExponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		threshold string
		candidate *Component
		baseline  *Component
		measured  string
		detail    string
	}{
		{
			name:      "a candidate carrying eleven times the baseline's load is +1000%",
			threshold: "-5%",
			candidate: searched(33000, 34000, StopPrecision),
			baseline:  searched(3000, 3100, StopPrecision),
			measured:  "+1000% (33000/s (below 34000/s, +3.03%) against the baseline's 3000/s (below 3100/s, +3.33%))",
		},
		{
			name:      "a bracket ten times as wide as its capacity is +1000%",
			threshold: "-5%",
			candidate: searched(1000, 11000, StopMaxProbes),
			baseline:  searched(1000, 1050, StopPrecision),
			measured:  "+0% (1000/s (below 11000/s, +1000%) against the baseline's 1000/s (below 1050/s, +5%))",
		},
		{
			name:      "a bar of eleven times the baseline is 1100% of it",
			threshold: "+1000%",
			candidate: searched(1000, 2000, StopPrecision),
			baseline:  searched(1000, 1050, StopPrecision),
			measured:  "+0% (1000/s (below 2000/s, +100%) against the baseline's 1000/s (below 1050/s, +5%))",
			detail:    "the candidate failed at 2000/s, at or below 1100% of the least the baseline carried (1000/s)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := judgedAgainst(t, tt.threshold, tt.candidate, tt.baseline)
			assert.Equal(t, tt.measured, r.Measured)
			if tt.detail != "" {
				assert.Equal(t, tt.detail, r.Detail)
			}
			for _, s := range []string{r.Measured, r.Baseline, r.Detail} {
				assert.NotContains(t, s, "e+", "a percent printed as an exponent")
			}
		})
	}
}
