package workloads_test

import (
	"context"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// clientDelaySpec is a short run against target with the interval cut to
// 100 ms, so that it has several intervals.
func clientDelaySpec(target string, rate float64, mix []slo.MixEntry) *workloads.Spec {
	return &workloads.Spec{
		Component: slo.Component{Name: "cache", Target: target, Workload: slo.Workload{
			Rate: rate, Arrival: slo.ArrivalPoisson, Connections: 2, Timeout: time.Second, ValueSize: 16, MaxErrorRate: 0.5,
			Keys: slo.Keys{Count: 200, Distribution: slo.DistributionUniform, Prefix: "tailgate:ivclient:"},
			Mix:  mix,
		}},
		Duration: 600 * time.Millisecond, Warmup: 100 * time.Millisecond, Seed: 5, Interval: 100 * time.Millisecond,
	}
}

// Every interval of an open-loop run holds the client delays of its own
// successes: for each operation, "all" included, an interval's client-delay
// histogram counts the interval's successes, and the intervals' histograms
// add up, bucket for bucket, to the whole-run one; "all"'s interval is its
// operations' intervals merged. A closed-loop run has no intended start,
// so it writes none. The result reads back through result.Decode, which
// checks the counts again.
func TestEveryIntervalHoldsItsClientDelays(t *testing.T) {
	srv := testserver.Redis(t)
	target := "redis://" + srv.Addr + "/0"
	getSet := []slo.MixEntry{{Operation: "get", Weight: 3}, {Operation: "set", Weight: 1}}
	tests := []struct {
		name       string
		rate       float64
		mix        []slo.MixEntry
		pipeline   int
		stages     []slo.Stage
		withClient bool
	}{
		{name: "an open-loop run of two operations has them in every interval", rate: 300, mix: getSet, withClient: true},
		{name: "an open-loop run of one operation has them in every interval", rate: 200, mix: []slo.MixEntry{{Operation: "get", Weight: 1}}, withClient: true},
		{name: "a pipelined open-loop run has them in every interval", rate: 300, mix: getSet, pipeline: 4, withClient: true},
		{name: "an open-loop run in stages has them in every interval", mix: getSet, withClient: true,
			stages: []slo.Stage{{Rate: 150, Duration: 300 * time.Millisecond}, {Rate: 300, Duration: 300 * time.Millisecond, Ramp: slo.RampLinear}}},
		{name: "a closed-loop run has none", rate: 0, mix: getSet, withClient: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := clientDelaySpec(target, tt.rate, tt.mix)
			spec.Component.Workload.Pipeline = tt.pipeline
			if tt.stages != nil {
				spec.Component.Workload.Stages = tt.stages
				spec.Component.Workload.Rate = slo.MeanRate(tt.stages)
				spec.Duration = slo.StagesDuration(tt.stages)
			}
			if tt.rate == 0 && tt.stages == nil {
				spec.Component.Workload.Connections = 1
			}
			res, err := workloads.Run(context.Background(), []*workloads.Spec{spec}, workloads.Options{})
			require.NoError(t, err)
			res = roundTrip(t, res)
			c := res.Components[0]
			require.Len(t, c.Operations, len(tt.mix)+1, "the mix's operations and all")
			for _, op := range c.Operations {
				require.Positive(t, op.Count, "%s: measured successes", op.Name)
				require.NotEmpty(t, op.Intervals, "%s: intervals", op.Name)
				if !tt.withClient {
					for i, iv := range op.Intervals {
						assert.Empty(t, iv.ClientDelayHistogram, "%s: interval %d", op.Name, i)
					}
					assert.Empty(t, op.ClientDelayHistogram, "%s: no whole-run client delays", op.Name)
					continue
				}
				assertIntervalsAddUp(t, &op, "latencies less client delays", op.LatenciesLessClient, op.IntervalLatencyLessClient)
				require.True(t, op.HasIntervalClientDelays(), "%s: every interval has client delays", op.Name)
				assertIntervalsAddUp(t, &op, "client delays", op.ClientDelays, op.IntervalClientDelay)
				if tt.stages != nil {
					whole, err := op.ClientDelays()
					require.NoError(t, err, op.Name)
					assertStagesHoldTheirClientDelays(t, &op, whole)
				}
			}
			if tt.withClient {
				assertAllIsTheMergeOfItsOperations(t, c)
			}
		})
	}
}

// assertIntervalsAddUp checks that each interval of op holds one of what
// (its client delays, say) a success of the interval, and that the
// intervals' add up, bucket for bucket, to the whole run's.
func assertIntervalsAddUp(t *testing.T, op *result.OperationResult, what string, whole func() (*hdrhistogram.Histogram, error), interval func(i int) (*hdrhistogram.PackedHistogram, error)) {
	t.Helper()
	w, err := whole()
	require.NoError(t, err, op.Name)
	assert.Equal(t, op.Count, w.TotalCount(), "%s: the whole run's %s count the successes", op.Name, what)
	sum := result.NewHistogram()
	for i := range op.Intervals {
		h, err := interval(i)
		require.NoError(t, err)
		require.NotNil(t, h, "%s: interval %d has %s", op.Name, i, what)
		assert.Equal(t, op.Intervals[i].Count, h.TotalCount(), "%s: interval %d's %s count its successes", op.Name, i, what)
		require.Zero(t, h.MergeInto(sum))
	}
	assert.Equal(t, result.EncodeHistogram(w), result.EncodeHistogram(sum),
		"%s: the intervals' %s add up to the whole run's, bucket for bucket", op.Name, what)
}

// assertStagesHoldTheirClientDelays checks that each stage of op holds the
// client delays and latencies less them of its own successes, and that the
// client delays add up, bucket for bucket, to the whole run's.
func assertStagesHoldTheirClientDelays(t *testing.T, op *result.OperationResult, whole *hdrhistogram.Histogram) {
	t.Helper()
	require.NotEmpty(t, op.Stages, "%s: stages", op.Name)
	sum := result.NewHistogram()
	for _, s := range op.Stages {
		h, err := s.ClientDelays()
		require.NoError(t, err)
		require.NotEmpty(t, s.ClientDelayHistogram, "%s: stage %d has client delays", op.Name, s.Index)
		assert.Equal(t, s.Count, h.TotalCount(), "%s: stage %d's client delays count its successes", op.Name, s.Index)
		require.Zero(t, sum.Merge(h))
		less, err := s.LatenciesLessClient()
		require.NoError(t, err)
		assert.Equal(t, s.Count, less.TotalCount(), "%s: stage %d's latencies less client delays count its successes", op.Name, s.Index)
	}
	assert.Equal(t, result.EncodeHistogram(whole), result.EncodeHistogram(sum),
		"%s: the stages' client delays add up to the whole run's, bucket for bucket", op.Name)
}

// assertAllIsTheMergeOfItsOperations checks that each interval's client
// delays of "all" are those of the component's operations in that interval
// merged.
func assertAllIsTheMergeOfItsOperations(t *testing.T, c result.ComponentResult) {
	t.Helper()
	all := c.Operation(slo.AllOperations)
	merged := make([]*hdrhistogram.Histogram, len(all.Intervals))
	for i := range merged {
		merged[i] = result.NewHistogram()
	}
	for _, op := range c.Operations {
		if op.Name == slo.AllOperations {
			continue
		}
		require.LessOrEqual(t, len(op.Intervals), len(merged), "%s has no more intervals than all", op.Name)
		for i := range op.Intervals {
			h, err := op.IntervalClientDelay(i)
			require.NoError(t, err)
			require.Zero(t, h.MergeInto(merged[i]))
		}
	}
	for i := range all.Intervals {
		h, err := all.IntervalClientDelay(i)
		require.NoError(t, err)
		assert.Equal(t, result.EncodeHistogram(merged[i]), result.EncodePacked(h), "all's interval %d is its operations' merged", i)
	}
}
