package workloads_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	_ "github.com/tailgate-dev/tailgate/workloads/redis"
)

func shardSpec(target string, shard workloads.Shard) *workloads.Spec {
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
func roundTrip(t *testing.T, r *workloads.Result) *workloads.Result {
	t.Helper()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	back, err := workloads.DecodeResult(data)
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
	shards := make([]*workloads.Result, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(delays[i])
			spec := shardSpec(target, workloads.Shard{Index: i + 1, Count: 3})
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
		assert.Equal(t, workloads.Shard{Index: i + 1, Count: 3}, *r.Shard)
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

	merged, err := workloads.Merge([]*workloads.Result{shards[2], shards[0], shards[1]}, nil)
	require.NoError(t, err)
	merged = roundTrip(t, merged)
	assert.Nil(t, merged.Shard, "the merged result is the whole")
	assert.True(t, merged.Complete)
	assert.Equal(t, workloads.VerdictPass, merged.Verdict)
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
		oracle := workloads.NewHistogram()
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

// fakeShard is a small, hand-made shard result: one component, one
// operation, the given latencies recorded in interval 0.
func fakeShard(t *testing.T, index, count int, measuredStart time.Time, latencies ...int64) *workloads.Result {
	t.Helper()
	h := workloads.NewHistogram()
	for _, v := range latencies {
		require.NoError(t, h.RecordValue(v))
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	op := workloads.OperationResult{
		Name: "all", Count: h.TotalCount(), Errors: 1, ErrorKinds: map[string]int64{"timeout": 1}, AskedRate: 100,
		Histogram: string(enc), ServiceHistogram: string(enc),
		Intervals: []workloads.Interval{{OffsetNS: 0, Count: h.TotalCount(), Errors: 1, Histogram: string(enc)}},
	}
	return &workloads.Result{
		Schema: workloads.Schema, Verdict: workloads.VerdictPass, Complete: true, Seed: 1,
		Shard: &workloads.Shard{Index: index, Count: count}, StartedAt: measuredStart.Add(-time.Second),
		MeasuredStart: measuredStart, WarmupNS: int64(time.Second), MeasuredNS: int64(2 * time.Second),
		DurationNS: int64(2 * time.Second), IntervalNS: int64(time.Second), PlanHash: "plan-1",
		Components: []workloads.ComponentResult{{
			Name: "cache", Protocol: "redis", Target: "redis://127.0.0.1:6379/0", AskedRate: 100, WorkloadHash: "work-1",
			Operations: []workloads.OperationResult{op},
			FirstErrors: map[string]workloads.ErrorSample{"timeout": {Message: "timeout of shard " + string(rune('0'+index)),
				AtNS: int64(500 * time.Millisecond)}},
		}},
	}
}

func TestMergeAlignsIntervalsByWallClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := fakeShard(t, 1, 2, t0.Add(2500*time.Millisecond), 1000, 2000)
	b := fakeShard(t, 2, 2, t0, 3000)
	m, err := workloads.Merge([]*workloads.Result{a, b}, nil)
	require.NoError(t, err)
	assert.Equal(t, t0, m.MeasuredStart)
	assert.Equal(t, int64(4500*time.Millisecond), m.MeasuredNS, "the union of the windows")
	op := m.Components[0].Operations[0]
	require.Len(t, op.Intervals, 3, "shard 1 started 2.5 intervals later: its interval 0 is interval 2")
	assert.EqualValues(t, 1, op.Intervals[0].Count)
	assert.EqualValues(t, 0, op.Intervals[1].Count)
	assert.EqualValues(t, 2, op.Intervals[2].Count)
	assert.EqualValues(t, 2, op.ErrorKinds["timeout"])
	assert.InDelta(t, 200, op.AskedRate, 1e-9)
	assert.InDelta(t, 3/4.5, op.AchievedRate, 1e-9, "3 successes (the 2 timeouts achieved nothing) over the union of the windows")
	first := m.Components[0].FirstErrors["timeout"]
	assert.Equal(t, "timeout of shard 2", first.Message, "the earliest first error wins")
	assert.Equal(t, int64(500*time.Millisecond), first.AtNS)

	b.Complete, b.Incomplete = false, "interrupted after 1.2s"
	m, err = workloads.Merge([]*workloads.Result{a, b}, nil)
	require.NoError(t, err)
	assert.False(t, m.Complete, "complete only if every shard is")
	assert.Equal(t, workloads.VerdictError, m.Verdict)
	assert.Contains(t, m.Incomplete, "shard 2 of 2: interrupted after 1.2s")
}

func TestMergeRefuses(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	three := func() []*workloads.Result {
		return []*workloads.Result{fakeShard(t, 1, 3, t0, 10), fakeShard(t, 2, 3, t0, 20), fakeShard(t, 3, 3, t0, 30)}
	}
	tests := []struct {
		name   string
		shards func() []*workloads.Result
		want   string
	}{
		{"nothing to merge", func() []*workloads.Result { return nil }, "no shard results given"},
		{"a result run without --shard", func() []*workloads.Result {
			s := three()
			s[1].Shard = nil
			return s
		}, `"s2.json" (a result without a shard) is not a shard result`},
		{"a shard without measured_start", func() []*workloads.Result {
			s := three()
			s[2].MeasuredStart = time.Time{}
			return s
		}, "has no measured_start"},
		{"shards of different shard counts", func() []*workloads.Result {
			s := three()
			s[2].Shard.Count = 4
			return s
		}, "shards of different shard counts"},
		{"shards of different seeds", func() []*workloads.Result {
			s := three()
			s[1].Seed = 2
			return s
		}, `shards of different seeds: "s1.json" (shard 1 of 3) has seed 1, "s2.json" (shard 2 of 3) seed 2`},
		{"shards of different plans (components)", func() []*workloads.Result {
			s := three()
			s[1].Components[0].Name = "sessions"
			return s
		}, "shards of different plans: \"s1.json\" (shard 1 of 3) has components [cache]"},
		{"shards of different plans (duration)", func() []*workloads.Result {
			s := three()
			s[2].DurationNS = int64(time.Minute)
			return s
		}, "shards of different plans: \"s1.json\" (shard 1 of 3) has planned duration 2s"},
		{"shards of different plans (plan hash)", func() []*workloads.Result {
			s := three()
			s[2].PlanHash = "plan-2"
			return s
		}, "shards of different plans"},
		{"shards of different workloads", func() []*workloads.Result {
			s := three()
			s[1].Components[0].WorkloadHash = "work-2"
			return s
		}, `shards of different workloads: component "cache" has workload work-1`},
		{"a missing shard", func() []*workloads.Result {
			s := three()
			return []*workloads.Result{s[0], s[2]}
		}, "shard 2 of 3 is missing"},
		{"two missing shards", func() []*workloads.Result {
			return three()[:1]
		}, "shards 2 and 3 of 3 are missing"},
		{"a duplicate shard", func() []*workloads.Result {
			s := three()
			return []*workloads.Result{s[0], s[1], s[2], fakeShard(t, 2, 3, t0, 40)}
		}, `shard 2 of 3 is given twice: "s2.json" (shard 2 of 3) and "s4.json" (shard 2 of 3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			shards := tt.shards()
			names := make([]string, len(shards))
			for i := range names {
				names[i] = "s" + string(rune('1'+i)) + ".json"
			}
			m, err := workloads.Merge(shards, names)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.True(t, errors.Is(err, workloads.ErrUnmergeable), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
