package result_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

// fakeShard is a small, hand-made shard result: one component, one
// operation, the given latencies recorded in interval 0.
func fakeShard(t *testing.T, index, count int, measuredStart time.Time, latencies ...int64) *result.Result {
	t.Helper()
	h := result.NewHistogram()
	for _, v := range latencies {
		require.NoError(t, h.RecordValue(v))
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	op := result.OperationResult{
		Name: "all", Count: h.TotalCount(), Errors: 1, ErrorKinds: map[string]int64{"timeout": 1}, AskedRate: 100,
		Histogram: string(enc), ServiceHistogram: string(enc),
		Intervals: []result.Interval{{OffsetNS: 0, Count: h.TotalCount(), Errors: 1, Histogram: string(enc)}},
	}
	return &result.Result{
		Schema: result.Schema, Verdict: status.VerdictPass, Complete: true, Seed: 1,
		Shard: &result.Shard{Index: index, Count: count}, StartedAt: measuredStart.Add(-time.Second),
		MeasuredStart: measuredStart, WarmupNS: int64(time.Second), MeasuredNS: int64(2 * time.Second),
		DurationNS: int64(2 * time.Second), IntervalNS: int64(time.Second), PlanHash: "plan-1",
		Components: []result.ComponentResult{{
			Name: "cache", Protocol: "redis", Target: "redis://127.0.0.1:6379/0", AskedRate: 100, WorkloadHash: "work-1",
			Operations: []result.OperationResult{op},
			FirstErrors: map[string]result.ErrorSample{"timeout": {Message: "timeout of shard " + string(rune('0'+index)),
				AtNS: int64(500 * time.Millisecond)}},
		}},
	}
}

func TestMergeAlignsIntervalsByWallClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := fakeShard(t, 1, 2, t0.Add(2500*time.Millisecond), 1000, 2000)
	b := fakeShard(t, 2, 2, t0, 3000)
	m, err := result.Merge([]*result.Result{a, b}, nil)
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
	m, err = result.Merge([]*result.Result{a, b}, nil)
	require.NoError(t, err)
	assert.False(t, m.Complete, "complete only if every shard is")
	assert.Equal(t, status.VerdictError, m.Verdict)
	assert.Contains(t, m.Incomplete, "shard 2 of 2: interrupted after 1.2s")
}

func TestMergeRefuses(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	three := func() []*result.Result {
		return []*result.Result{fakeShard(t, 1, 3, t0, 10), fakeShard(t, 2, 3, t0, 20), fakeShard(t, 3, 3, t0, 30)}
	}
	tests := []struct {
		name   string
		shards func() []*result.Result
		want   string
	}{
		{"nothing to merge", func() []*result.Result { return nil }, "no shard results given"},
		{"a result run without --shard", func() []*result.Result {
			s := three()
			s[1].Shard = nil
			return s
		}, `"s2.json" (a result without a shard) is not a shard result`},
		{"a shard without measured_start", func() []*result.Result {
			s := three()
			s[2].MeasuredStart = time.Time{}
			return s
		}, "has no measured_start"},
		{"shards of different shard counts", func() []*result.Result {
			s := three()
			s[2].Shard.Count = 4
			return s
		}, "shards of different shard counts"},
		{"shards of different seeds", func() []*result.Result {
			s := three()
			s[1].Seed = 2
			return s
		}, `shards of different seeds: "s1.json" (shard 1 of 3) has seed 1, "s2.json" (shard 2 of 3) seed 2`},
		{"shards of different plans (components)", func() []*result.Result {
			s := three()
			s[1].Components[0].Name = "sessions"
			return s
		}, "shards of different plans: \"s1.json\" (shard 1 of 3) has components [cache]"},
		{"shards of different plans (duration)", func() []*result.Result {
			s := three()
			s[2].DurationNS = int64(time.Minute)
			return s
		}, "shards of different plans: \"s1.json\" (shard 1 of 3) has planned duration 2s"},
		{"shards of different plans (plan hash)", func() []*result.Result {
			s := three()
			s[2].PlanHash = "plan-2"
			return s
		}, "shards of different plans"},
		{"shards of different workloads", func() []*result.Result {
			s := three()
			s[1].Components[0].WorkloadHash = "work-2"
			return s
		}, `shards of different workloads: component "cache" has workload work-1`},
		{"a missing shard", func() []*result.Result {
			s := three()
			return []*result.Result{s[0], s[2]}
		}, "shard 2 of 3 is missing"},
		{"two missing shards", func() []*result.Result {
			return three()[:1]
		}, "shards 2 and 3 of 3 are missing"},
		{"a duplicate shard", func() []*result.Result {
			s := three()
			return []*result.Result{s[0], s[1], s[2], fakeShard(t, 2, 3, t0, 40)}
		}, `shard 2 of 3 is given twice: "s2.json" (shard 2 of 3) and "s4.json" (shard 2 of 3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			shards := tt.shards()
			names := make([]string, len(shards))
			for i := range names {
				names[i] = "s" + string(rune('1'+i)) + ".json"
			}
			m, err := result.Merge(shards, names)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.True(t, errors.Is(err, result.ErrUnmergeable), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Segments end to end (Concat) each fill intervals of their own, which
// keep the segment's histogram as it was; shards side by side (Merge)
// share each interval, whose histograms are merged.
func TestIntervalsOfSegmentsAreKeptAndOfShardsMerged(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := fakeShard(t, 1, 2, t0, 1000, 2000)
	b := fakeShard(t, 2, 2, t0, 3000)
	c, err := result.Concat([]*result.Result{a, b})
	require.NoError(t, err)
	ivs := c.Components[0].Operations[0].Intervals
	require.Len(t, ivs, 3, "b's window starts 2 intervals after a's")
	for i, want := range []result.Interval{a.Components[0].Operations[0].Intervals[0], {}, b.Components[0].Operations[0].Intervals[0]} {
		assert.Equal(t, want.Count, ivs[i].Count, "interval %d", i)
		assert.Equal(t, want.Errors, ivs[i].Errors, "interval %d", i)
		if want.Histogram != "" {
			assert.Equal(t, want.Histogram, ivs[i].Histogram, "interval %d is its segment's", i)
		}
	}
	hs, err := c.Components[0].Operations[0].IntervalHistograms()
	require.NoError(t, err)
	assert.Zero(t, hs[1].TotalCount(), "no segment measured interval 1")

	m, err := result.Merge([]*result.Result{a, b}, nil)
	require.NoError(t, err)
	op := m.Components[0].Operations[0]
	require.Len(t, op.Intervals, 1)
	assert.EqualValues(t, 3, op.Intervals[0].Count, "both shards' interval 0")
	assert.EqualValues(t, 2, op.Intervals[0].Errors)
	hs, err = op.IntervalHistograms()
	require.NoError(t, err)
	assert.EqualValues(t, 3, hs[0].TotalCount())
	assert.InDelta(t, 1000, hs[0].Min(), 1)
	assert.InDelta(t, 3000, hs[0].Max(), 3)
}

func TestConcatRefuses(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		second func(r *result.Result)
		want   string
	}{
		{"a segment of another interval", func(r *result.Result) { r.IntervalNS *= 2 },
			"segment 2 has another shape than the first"},
		{"a segment without the component", func(r *result.Result) { r.Components[0].Name = "sessions" },
			`segment 2 lacks component "cache"`},
		{"a segment run in stages", func(r *result.Result) {
			r.Components[0].Operations[0].Stages = []result.StageResult{stage(t, 1, 0, 2, 1, 3000)}
		}, `segment 2: component "cache" ran in stages, which are one schedule and not joined end to end`},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			a, b := fakeShard(t, 1, 2, t0, 1000), fakeShard(t, 2, 2, t0, 3000)
			tt.second(b)
			c, err := result.Concat([]*result.Result{a, b})
			assert.Nil(t, c)
			assert.ErrorIs(t, err, result.ErrInvalid)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// clientDelayOf is the client delay the shards of these tests give a
// success of latency v.
func clientDelayOf(v int64) int64 { return v/100 + 1 }

// clientShard is fakeShard with one interval a list of latencies, and
// with every success's client delay (clientDelayOf) in its interval's and
// the whole run's client-delay histograms, as the engine writes them, unless
// withClient is false (a result written before intervals had them, which
// has the whole-run ones alone).
func clientShard(t *testing.T, index, count int, measuredStart time.Time, withClient bool, intervals ...[]int64) *result.Result {
	t.Helper()
	r := fakeShard(t, index, count, measuredStart)
	op := &r.Components[0].Operations[0]
	whole, client, lessClient := result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
	op.Intervals = nil
	for i, latencies := range intervals {
		h, c := result.NewHistogram(), result.NewHistogram()
		for _, v := range latencies {
			require.NoError(t, h.RecordValue(v))
			require.NoError(t, c.RecordValue(clientDelayOf(v)))
			require.NoError(t, lessClient.RecordValue(v-clientDelayOf(v)))
		}
		whole.Merge(h)
		client.Merge(c)
		iv := result.Interval{OffsetNS: int64(i) * r.IntervalNS, Count: h.TotalCount(), Histogram: result.EncodeHistogram(h)}
		if withClient {
			iv.ClientDelayHistogram = result.EncodeHistogram(c)
		}
		op.Intervals = append(op.Intervals, iv)
	}
	op.Count, op.Errors, op.ErrorKinds = whole.TotalCount(), 0, nil
	op.Histogram, op.ServiceHistogram = result.EncodeHistogram(whole), result.EncodeHistogram(whole)
	op.SetClientDelay(client, lessClient)
	r.Components[0].FirstErrors = nil
	r.MeasuredNS = int64(len(intervals)) * r.IntervalNS
	return r
}

// intervalClientCounts is the number of client delays in each interval of
// the result's operation, after the result went through its file: nil when
// its intervals have none.
func intervalClientCounts(t *testing.T, r *result.Result) []int64 {
	t.Helper()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err, "the joined result reads back")
	op := back.Components[0].Operations[0]
	if !op.HasIntervalClientDelays() {
		return nil
	}
	out := make([]int64, len(op.Intervals))
	for i := range op.Intervals {
		h, err := op.IntervalClientDelay(i)
		require.NoError(t, err)
		out[i] = h.TotalCount()
		assert.Equal(t, op.Intervals[i].Count, out[i], "interval %d: its client delays count its successes", i)
	}
	return out
}

// Shards side by side share each interval, whose client delays are
// merged; segments end to end (Concat) each fill intervals of their own,
// which keep the segment's client delays as it encoded them. A part whose
// successes lack them leaves the joined intervals none, as a result
// written before intervals had them reads; an interval without successes
// needs none.
func TestIntervalClientDelaysSurviveMergesAndJoins(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type part struct {
		withClient bool
		intervals  [][]int64
	}
	tests := []struct {
		name        string
		a, b        part
		merged      []int64 // client delays per interval of Merge; nil: none
		concatenate []int64 // of Concat
	}{
		{
			name:        "two parts with them add up interval by interval",
			a:           part{true, [][]int64{{1000, 2000}, {3000}}},
			b:           part{true, [][]int64{{4000}, {5000, 6000, 7000}}},
			merged:      []int64{3, 4},
			concatenate: []int64{2, 1, 1, 3},
		},
		{
			name:        "an interval without successes needs none",
			a:           part{true, [][]int64{{1000, 2000}, {}}},
			b:           part{true, [][]int64{{}, {5000}}},
			merged:      []int64{2, 1},
			concatenate: []int64{2, 0, 0, 1},
		},
		{
			name: "a part without them leaves the joined intervals none",
			a:    part{true, [][]int64{{1000, 2000}, {3000}}},
			b:    part{false, [][]int64{{4000}, {5000}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clientShard(t, 1, 2, t0, tt.a.withClient, tt.a.intervals...)
			b := clientShard(t, 2, 2, t0, tt.b.withClient, tt.b.intervals...)
			m, err := result.Merge([]*result.Result{a, b}, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.merged, intervalClientCounts(t, m), "merged shards")
			c, err := result.Concat([]*result.Result{a, b})
			require.NoError(t, err)
			c.Pairing.ID = "pair-1" // as RunInterleaved names both sides
			assert.Equal(t, tt.concatenate, intervalClientCounts(t, c), "joined segments")
			if tt.merged == nil {
				return
			}
			mergedOp, cOp := m.Components[0].Operations[0], c.Components[0].Operations[0]
			for i := range mergedOp.Intervals {
				want := result.NewHistogram()
				for _, p := range []part{tt.a, tt.b} {
					for _, v := range p.intervals[i] {
						require.NoError(t, want.RecordValue(clientDelayOf(v)))
					}
				}
				got, err := hdrhistogram.Decode([]byte(mergedOp.Intervals[i].ClientDelayHistogram))
				require.NoError(t, err)
				assert.Equal(t, result.EncodeHistogram(want), result.EncodeHistogram(got), "merged interval %d, bucket for bucket", i)
			}
			parts := append(a.Components[0].Operations[0].Intervals, b.Components[0].Operations[0].Intervals...)
			for i, iv := range cOp.Intervals {
				if parts[i].Count > 0 {
					assert.Equal(t, parts[i].ClientDelayHistogram, iv.ClientDelayHistogram, "joined interval %d is its segment's, as encoded", i)
				}
			}
		})
	}
}

// Merged shards hold their intervals' latencies less client delays merged,
// or none when a shard lacks them (written before they were recorded): a
// merged histogram short of the interval's count would read as fewer
// operations than ran.
func TestIntervalLatenciesLessClientAreMergedOnlyWhenEveryShardHasThem(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// withLess gives each interval of the shard's operation latencies less
	// client delays equal to its latencies.
	withLess := func(r *result.Result) *result.Result {
		op := &r.Components[0].Operations[0]
		for i := range op.Intervals {
			op.Intervals[i].LatencyLessClientHistogram = op.Intervals[i].Histogram
		}
		return r
	}
	a := withLess(clientShard(t, 1, 2, t0, true, []int64{1000, 2000}, []int64{4000}))
	b := withLess(clientShard(t, 2, 2, t0, true, []int64{3000}, []int64{}))
	m, err := result.Merge([]*result.Result{a, b}, nil)
	require.NoError(t, err)
	op := m.Components[0].Operations[0]
	require.True(t, op.HasIntervalLatenciesLessClient())
	for i, want := range []int64{3, 1} {
		h, err := op.IntervalLatencyLessClient(i)
		require.NoError(t, err)
		require.NotNil(t, h, "interval %d", i)
		assert.Equal(t, want, h.TotalCount(), "interval %d: the shards' merged", i)
	}
	over, err := op.LatenciesLessClientOver(0, 2)
	require.NoError(t, err)
	assert.EqualValues(t, 4, over.TotalCount())

	older := clientShard(t, 2, 2, t0, true, []int64{3000}, []int64{})
	m, err = result.Merge([]*result.Result{a, older}, nil)
	require.NoError(t, err)
	op = m.Components[0].Operations[0]
	assert.False(t, op.HasIntervalLatenciesLessClient())
	for i, iv := range op.Intervals {
		assert.Empty(t, iv.LatencyLessClientHistogram, "interval %d", i)
		assert.NotEmpty(t, iv.ClientDelayHistogram, "interval %d: the client delays are whole", i)
	}
	over, err = op.LatenciesLessClientOver(0, 2)
	require.NoError(t, err)
	assert.Nil(t, over, "none to read")
}

// A part's interval client delays that do not decode make the merge fail,
// naming the operation and the interval.
func TestMergeRefusesIntervalClientDelaysThatDoNotDecode(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := clientShard(t, 1, 2, t0, true, []int64{1000}, []int64{2000})
	b := clientShard(t, 2, 2, t0, true, []int64{3000}, []int64{4000})
	b.Components[0].Operations[0].Intervals[1].ClientDelayHistogram = "not a histogram"
	m, err := result.Merge([]*result.Result{a, b}, nil)
	assert.Nil(t, m)
	assert.ErrorIs(t, err, result.ErrInvalid)
	assert.ErrorContains(t, err, `operation "all": interval 1: client delay histogram`)
}
