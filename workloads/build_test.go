package workloads

import (
	"context"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

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
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := result.Decode(data)
	if err != nil {
		t.Fatalf("the result does not read back: %v", err)
	}
	if back.Complete || back.Verdict != status.VerdictError || back.Incomplete == "" {
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

// TestNotRunResultRedactsEveryFormOfTheTargetsSecret: the reason a run did
// not start may quote the target as written, percent-encoding included; a
// token given as the user alone is a secret in that form too, even when the
// spec lists no secrets of its own.
func TestNotRunResultRedactsEveryFormOfTheTargetsSecret(t *testing.T) {
	for _, target := range []string{
		"redis://T%40KEN@127.0.0.1:1/0",
		"redis://:p%40ss%2Fw0rd@127.0.0.1:1/0",
		"redis://user:p%40ss@127.0.0.1:1/0",
	} {
		t.Run(target, func(t *testing.T) {
			spec := &Spec{Component: slo.Component{Name: "cache", Target: target,
				Workload: slo.Workload{Rate: 10, Mix: []slo.MixEntry{{Operation: "get", Weight: 1}}}}, Duration: time.Second}
			r := NotRunResult([]*Spec{spec}, time.Unix(0, 0), "dialing "+target+" (as given: "+strings.TrimPrefix(target, "redis://")+"): refused", "tailgate test")
			data, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range slo.TargetSecrets(target) {
				if strings.Contains(string(data), secret) {
					t.Errorf("the secret %q is in the result: %s", secret, r.Incomplete)
				}
			}
		})
	}
}

// With one kind of operation, "all" is that operation: every whole-run
// histogram and its percentiles are the ones merging the operation's into
// empty histograms gives (what "all" of several operations is), so a
// result of one operation reads the same whichever way it was built.
func TestAllOfOneOperationIsThatOperation(t *testing.T) {
	t.Parallel()
	clock := newSimClock(t)
	spec := fakeSpec(simTarget(t, clock, 3*time.Millisecond, nil), 200, time.Second)
	spec.Component.Workload.Mix = []slo.MixEntry{{Operation: "get", Weight: 1}}
	res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
	require.NoError(t, err)
	c := res.Components[0]
	get, all := c.Operation("get"), c.Operation("all")
	require.NotNil(t, get)
	require.NotNil(t, all)
	require.Positive(t, get.Count)
	merged := func(encoded string) *hdrhistogram.Histogram {
		h := result.NewHistogram()
		if encoded != "" {
			h.Merge(decodeAll(t, encoded))
		}
		return h
	}
	for _, f := range []struct {
		what    string
		got, of string
		gotP    *result.Percentiles
	}{
		{"latency", all.Histogram, get.Histogram, &all.LatencyNS},
		{"service time", all.ServiceHistogram, get.ServiceHistogram, &all.ServiceNS},
		{"client delay", all.ClientDelayHistogram, get.ClientDelayHistogram, all.ClientDelayNS},
		{"latency less client delay", all.LatencyLessClientHistogram, get.LatencyLessClientHistogram, all.LatencyLessClientNS},
	} {
		want := merged(f.of)
		assert.Equal(t, result.EncodeHistogram(want), f.got, "%s histogram", f.what)
		require.NotNil(t, f.gotP, "%s percentiles", f.what)
		assert.Equal(t, result.PercentilesOf(want), *f.gotP, "%s percentiles", f.what)
	}
	assert.NotSame(t, get.ClientDelayNS, all.ClientDelayNS, "all has its own percentiles")
	assert.Nil(t, all.FirstMessageNS, "nothing streamed")
	assert.Equal(t, get.Count, all.Count)
}

// BenchmarkASegmentOfOneOperation runs, in simulated time, what one segment
// of an interleaved run of one operation is (250 ms at 400/s after a
// 100 ms warmup) and builds its result.
func BenchmarkASegmentOfOneOperation(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		clock := newSimClock(b)
		spec := fakeSpec(simTarget(b, clock, 3*time.Millisecond, nil), 400, 250*time.Millisecond)
		spec.Warmup = 100 * time.Millisecond
		spec.Component.Workload.Mix = []slo.MixEntry{{Operation: "get", Weight: 1}}
		b.StartTimer()
		if _, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoiningSixteenSegments joins sixteen such segments into one
// result, as an interleaved run of 2 s joins each side's.
func BenchmarkJoiningSixteenSegments(b *testing.B) {
	parts := make([]*result.Result, 16)
	for i := range parts {
		clock := newSimClock(b)
		spec := fakeSpec(simTarget(b, clock, 3*time.Millisecond, nil), 400, 250*time.Millisecond)
		spec.Warmup = 100 * time.Millisecond
		spec.Component.Workload.Mix = []slo.MixEntry{{Operation: "get", Weight: 1}}
		res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
		if err != nil {
			b.Fatal(err)
		}
		parts[i] = res
	}
	for b.Loop() {
		if _, err := result.Concat(parts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEveryRecordOfARunAsksAnOperationWhatItIsSent holds the run's result,
// its stages and the result of a run that never started to one share per
// operation: the part of the asked rate the engine draws for it. A mix whose
// weights add up to 0 (a spec built in code; a plan refuses it) sends every
// operation as its first.
func TestEveryRecordOfARunAsksAnOperationWhatItIsSent(t *testing.T) {
	t.Parallel()
	stages := []slo.Stage{{Rate: 400, Duration: 250 * time.Millisecond}, {Rate: 800, Duration: 250 * time.Millisecond}}
	tests := []struct {
		name  string
		mix   []slo.MixEntry
		share map[string]float64
	}{
		{"a weighted mix asks each operation its weight's part", []slo.MixEntry{{Operation: "get", Weight: 3}, {Operation: "set", Weight: 1}}, map[string]float64{"get": 0.75, "set": 0.25}},
		{"an operation of weight 0 is asked nothing", []slo.MixEntry{{Operation: "get", Weight: 1}, {Operation: "set", Weight: 0}}, map[string]float64{"get": 1, "set": 0}},
		{"a mix with no weight asks its first operation the whole rate", []slo.MixEntry{{Operation: "get"}, {Operation: "set"}}, map[string]float64{"get": 1, "set": 0}},
		{"one operation with no weight is asked the whole rate", []slo.MixEntry{{Operation: "get"}}, map[string]float64{"get": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newSimClock(t)
			spec := fakeSpec(simTarget(t, clock, time.Millisecond, nil), slo.MeanRate(stages), slo.StagesDuration(stages))
			spec.Component.Workload.Mix = tt.mix
			spec.Component.Workload.Stages = stages
			res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
			require.NoError(t, err)
			ran := res.Components[0]
			notRun := NotRunResult([]*Spec{spec}, time.Unix(0, 0), "refused", "tailgate test").Components[0]
			for name, share := range tt.share {
				op, never := ran.Operation(name), notRun.Operation(name)
				require.NotNil(t, op, name)
				require.NotNil(t, never, name)
				assert.InDelta(t, share*ran.AskedRate, op.AskedRate, 1e-9, "%s: the run's asked rate", name)
				assert.InDelta(t, share*notRun.AskedRate, never.AskedRate, 1e-9, "%s: the asked rate of a run that never started", name)
				require.Len(t, op.Stages, len(stages), name)
				for i, s := range op.Stages {
					assert.InDelta(t, share*slo.MeanRate(stages[i:i+1]), s.AskedRate, 1e-9, "%s: stage %d's asked rate", name, i+1)
				}
				if share == 0 {
					assert.Zero(t, op.Count+op.Errors, "%s is asked nothing and sent nothing", name)
				} else {
					assert.Positive(t, op.Count, "%s is asked a rate and sent operations", name)
				}
			}
		})
	}
}
