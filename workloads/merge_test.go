package workloads_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	_ "github.com/tailgate-dev/tailgate/workloads/redis"
)

func shardSpec(target string, shard result.Shard) *workloads.Spec {
	return &workloads.Spec{
		Component: slo.Component{Name: "cache", Target: target, Workload: slo.Workload{
			Rate: 900, Arrival: slo.ArrivalUniform, Connections: 4, Timeout: time.Second, ValueSize: 32, MaxErrorRate: 0.5,
			Keys: slo.Keys{Count: 500, Distribution: slo.DistributionZipf, ZipfS: 1.1, Prefix: "tailgate:merge:"},
			Mix:  []slo.MixEntry{{Operation: "get", Weight: 80}, {Operation: "set", Weight: 20}},
		}},
		Duration: 2 * time.Second, Warmup: 500 * time.Millisecond, Seed: 3, Shard: shard,
	}
}

// roundTrip writes a result as its file would hold it and reads it back.
func roundTrip(t *testing.T, r *result.Result) *result.Result {
	t.Helper()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err)
	return back
}

// Three shards against one real redis-server, the third started more than an
// interval after the first, merge into exactly the single-runner workload:
// counts add up to the whole seeded sequence, percentiles are those of one
// histogram fed every sample, and the intervals line up by wall clock.
func TestThreeShardsAgainstOneRedisMergeIntoTheWhole(t *testing.T) {
	srv := testserver.Redis(t)
	target := "redis://" + srv.Addr + "/0"
	delays := []time.Duration{0, 150 * time.Millisecond, 1300 * time.Millisecond}
	shards := make([]*result.Result, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(delays[i])
			spec := shardSpec(target, result.Shard{Index: i + 1, Count: 3})
			shards[i], errs[i] = workloads.Run(context.Background(), []*workloads.Spec{spec}, workloads.Options{})
		}()
	}
	wg.Wait()
	for i := range shards {
		require.NoError(t, errs[i], "shard %d", i+1)
		shards[i] = roundTrip(t, shards[i])
	}

	// Uniform arrivals at 900/s: operation i is due at i/900 s, so the
	// measured window [0.5 s, 2.5 s) holds operations 450..2249, and shard
	// k sends those with i mod 3 = k-1: exactly 600 each.
	for i, r := range shards {
		require.NotNil(t, r.Shard, "shard %d is marked", i+1)
		assert.Equal(t, result.Shard{Index: i + 1, Count: 3}, *r.Shard)
		c := r.Components[0]
		assert.InDelta(t, 300, c.AskedRate, 1e-9, "shard %d asks a third of the rate", i+1)
		all := c.Operation("all")
		assert.EqualValues(t, 600, all.Count+all.Errors, "shard %d sends its share of the sequence", i+1)
		assert.False(t, r.MeasuredStart.IsZero())
		assert.Equal(t, r.StartedAt.Add(500*time.Millisecond), r.MeasuredStart)
		assert.Equal(t, (2 * time.Second).Nanoseconds(), r.DurationNS)
		assert.Equal(t, shards[0].PlanHash, r.PlanHash)
		assert.NotEmpty(t, r.PlanHash)
	}

	merged, err := result.Merge([]*result.Result{shards[2], shards[0], shards[1]}, nil)
	require.NoError(t, err)
	merged = roundTrip(t, merged)
	assert.Nil(t, merged.Shard, "the merged result is the whole")
	assert.True(t, merged.Complete)
	assert.Equal(t, status.VerdictPass, merged.Verdict)
	require.Len(t, merged.MergedFrom, 3)
	c := merged.Components[0]
	assert.InDelta(t, 900, c.AskedRate, 1e-9)
	assert.Equal(t, shards[0].Components[0].WorkloadHash, c.WorkloadHash)

	earliest := shards[0].MeasuredStart
	for _, r := range shards {
		if r.MeasuredStart.Before(earliest) {
			earliest = r.MeasuredStart
		}
	}
	assert.Equal(t, earliest, merged.MeasuredStart)
	assert.Positive(t, merged.MergedFrom[2].OffsetIntervals, "the late shard's intervals are shifted")

	var opsSum int64
	for _, name := range []string{"get", "set", "all"} {
		op := c.Operation(name)
		require.NotNil(t, op, name)
		var count, errors, late int64
		oracle := result.NewHistogram()
		for _, r := range shards {
			so := r.Components[0].Operation(name)
			count += so.Count
			errors += so.Errors
			late += so.Late
			h, err := so.WholeHistogram()
			require.NoError(t, err)
			assert.Zero(t, oracle.Merge(h))
		}
		assert.Equal(t, count, op.Count, name)
		assert.Equal(t, errors, op.Errors, name)
		assert.Equal(t, late, op.Late, name)
		assert.Equal(t, oracle.ValueAtQuantile(99), op.LatencyNS.P99, "%s: p99 of the merged histogram, exactly", name)
		assert.Equal(t, oracle.ValueAtQuantile(99.9), op.LatencyNS.P999, name)
		assert.Equal(t, oracle.Max(), op.LatencyNS.Max, name)
		h, err := op.WholeHistogram()
		require.NoError(t, err)
		assert.True(t, oracle.Equals(h), "%s: the merged histogram is the histogram of every sample", name)
		assert.InDelta(t, float64(op.Count)/time.Duration(merged.MeasuredNS).Seconds(), op.AchievedRate, 1e-9, name)

		// The union of intervals adds up, interval by interval.
		want := map[int]int64{}
		for _, r := range shards {
			shift := int(r.MeasuredStart.Sub(earliest) / time.Duration(r.IntervalNS))
			for _, iv := range r.Components[0].Operation(name).Intervals {
				want[shift+int(iv.OffsetNS/r.IntervalNS)] += iv.Count
			}
		}
		var sum int64
		for i, iv := range op.Intervals {
			assert.Equal(t, int64(i)*merged.IntervalNS, iv.OffsetNS)
			assert.Equal(t, want[i], iv.Count, "%s: merged interval %d", name, i)
			sum += iv.Count
		}
		assert.Equal(t, op.Count, sum, "%s: the intervals hold every sample", name)
		// And so do their client delays, the merged slots' as the shards'.
		require.True(t, op.HasIntervalClientDelays(), "%s: every merged interval has client delays", name)
		for i := range op.Intervals {
			h, err := op.IntervalClientDelay(i)
			require.NoError(t, err)
			assert.Equal(t, op.Intervals[i].Count, h.TotalCount(), "%s: merged interval %d's client delays", name, i)
		}
		if name != "all" {
			opsSum += op.Count + op.Errors
		}
	}
	all := c.Operation("all")
	assert.EqualValues(t, 1800, all.Count+all.Errors, "the shards together sent the single-runner sequence")
	var warm int64
	for _, r := range shards {
		warm += r.Components[0].WarmupOperations
	}
	assert.Equal(t, warm, c.WarmupOperations)
	assert.Equal(t, all.Count+all.Errors, opsSum)
	assert.Contains(t, strings.Join(merged.Warnings, "\n"), "apart", "a skew of more than an interval is reported")
}
