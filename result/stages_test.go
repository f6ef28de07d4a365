package result_test

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// stage is a stage record of the given bounds (in seconds) and latencies.
func stage(t *testing.T, index int, from, to float64, errors int64, latencies ...int64) result.StageResult {
	t.Helper()
	h := result.NewHistogram()
	for _, v := range latencies {
		require.NoError(t, h.RecordValue(v))
	}
	return result.StageResult{Index: index, Rate: 100, StartRate: 100, AskedRate: 50,
		StartNS: int64(from * 1e9), EndNS: int64(to * 1e9), Count: h.TotalCount(), Errors: errors,
		AchievedRate: float64(h.TotalCount()) / (to - from), LatencyNS: result.PercentilesOf(h), Histogram: result.EncodeHistogram(h)}
}

// staged is decodable's result with its operation cut into two stages.
func staged(t *testing.T) *result.Result {
	r := decodable(t, 1000, 2000, 3000)
	r.Components[0].Operations[0].Stages = []result.StageResult{
		stage(t, 1, 0, 1, 1, 1000, 2000), stage(t, 2, 1, 2, 0, 3000),
	}
	return r
}

func TestStagesSurviveTheResultFileAndMerge(t *testing.T) {
	t.Parallel()
	r := staged(t)
	data, err := r.Encode()
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err)
	assert.Equal(t, r.Components[0].Operations[0].Stages, back.Components[0].Operations[0].Stages)
	view := back.Components[0].OfStage(1)
	require.Len(t, view.Operations, 1)
	assert.EqualValues(t, 2, view.Operations[0].Count, "stage 1 alone")
	assert.InDelta(t, 2000, view.Operations[0].LatencyNS.Max, 5)

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := fakeShard(t, 1, 2, t0, 1000, 2000), fakeShard(t, 2, 2, t0, 3000)
	a.Components[0].Operations[0].Stages = []result.StageResult{stage(t, 1, 0, 1, 1, 1000), stage(t, 2, 1, 2, 0, 2000)}
	b.Components[0].Operations[0].Stages = []result.StageResult{stage(t, 1, 0, 1, 1, 3000), stage(t, 2, 1, 2, 0)}
	m, err := result.Merge([]*result.Result{a, b}, []string{"a", "b"})
	require.NoError(t, err)
	st := m.Components[0].Operations[0].Stages
	require.Len(t, st, 2)
	assert.EqualValues(t, 2, st[0].Count, "stage 1 of both shards")
	assert.EqualValues(t, 2, st[0].Errors)
	assert.InDelta(t, 3000, st[0].LatencyNS.Max, 5, "the slower shard's max")
	assert.EqualValues(t, 100, st[0].AskedRate, "the shards' asked rates add up")
	assert.EqualValues(t, 1, st[1].Count)

	assert.Empty(t, st[0].ClientDelayHistogram, "shards without client delays merge to none")

	withClient := func(s result.StageResult, delays ...int64) result.StageResult {
		h := result.NewHistogram()
		for _, v := range delays {
			require.NoError(t, h.RecordValue(v))
		}
		s.ClientDelayHistogram = result.EncodeHistogram(h)
		return s
	}
	a.Components[0].Operations[0].Stages = []result.StageResult{withClient(stage(t, 1, 0, 1, 1, 1000), 10), withClient(stage(t, 2, 1, 2, 0, 2000), 20)}
	b.Components[0].Operations[0].Stages = []result.StageResult{withClient(stage(t, 1, 0, 1, 1, 3000), 30), withClient(stage(t, 2, 1, 2, 0))}
	m, err = result.Merge([]*result.Result{a, b}, []string{"a", "b"})
	require.NoError(t, err)
	st = m.Components[0].Operations[0].Stages
	assertStageCounts(t, st, "client delays", (*result.StageResult).ClientDelays, 2, 1)
	assert.Empty(t, st[0].LatencyLessClientHistogram, "shards without latencies less client delays merge to none")
	for _, shard := range []*result.Result{a, b} {
		for i := range shard.Components[0].Operations[0].Stages {
			s := &shard.Components[0].Operations[0].Stages[i]
			s.LatencyLessClientHistogram = s.Histogram
		}
	}
	m, err = result.Merge([]*result.Result{a, b}, []string{"a", "b"})
	require.NoError(t, err)
	st = m.Components[0].Operations[0].Stages
	assertStageCounts(t, st, "latencies less client delays", (*result.StageResult).LatenciesLessClient, 2, 1)
	view = m.Components[0].OfStage(1)
	assert.Equal(t, st[0].LatencyLessClientHistogram, view.Operations[0].LatencyLessClientHistogram, "a stage's view carries them")
	b.Components[0].Operations[0].Stages[0].LatencyLessClientHistogram = ""
	m, err = result.Merge([]*result.Result{a, b}, []string{"a", "b"})
	require.NoError(t, err)
	assert.Empty(t, m.Components[0].Operations[0].Stages[0].LatencyLessClientHistogram, "a shard without them leaves the merged stage none")

	b.Components[0].Operations[0].Stages[0].ClientDelayHistogram = ""
	m, err = result.Merge([]*result.Result{a, b}, []string{"a", "b"})
	require.NoError(t, err)
	assert.Empty(t, m.Components[0].Operations[0].Stages[0].ClientDelayHistogram, "a shard without them leaves the merged stage none")
	assert.NotEmpty(t, m.Components[0].Operations[0].Stages[1].ClientDelayHistogram)

	b.Components[0].Operations[0].Stages = nil
	_, err = result.Merge([]*result.Result{a, b}, []string{"a", "b"})
	assert.ErrorContains(t, err, "running in stages", "a shard without the stages is refused")
}

// assertStageCounts checks that stage i of st holds want[i] of what read
// decodes (its client delays, say): both shards'.
func assertStageCounts(t *testing.T, st []result.StageResult, what string, read func(*result.StageResult) (*hdrhistogram.Histogram, error), want ...int64) {
	t.Helper()
	for i, n := range want {
		h, err := read(&st[i])
		require.NoError(t, err)
		assert.Equal(t, n, h.TotalCount(), "stage %d: both shards' %s", i+1, what)
	}
}

func TestBadStagesAreRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		spoil func(s []result.StageResult)
		want  string
	}{
		{"stages that do not add up to the operation", func(s []result.StageResult) { s[1].Errors = 4 }, "stages count 3 operations and 5 errors, the operation 3 and 1"},
		{"a count its histogram does not hold", func(s []result.StageResult) { s[0].Count = 5 }, "stage 1: histogram holds 2 samples, count says 5"},
		{"a stored p99 its histogram does not have", func(s []result.StageResult) { s[0].LatencyNS.P99 = 9e6 }, "stage 1 latency p99"},
		{"stages out of order", func(s []result.StageResult) { s[0].Index, s[1].Index = 2, 1 }, "stage 1 is numbered 2"},
		{"a gap between stages", func(s []result.StageResult) { s[1].StartNS += 1e6 }, "stage 2 starts at 1001000000 ns, not where stage 1 ends"},
		{"a stage that ends before it starts", func(s []result.StageResult) { s[0].EndNS = 0 }, "stage 1 runs from 0 ns to 0 ns"},
		{"client delays that do not count the stage's successes", func(s []result.StageResult) {
			h := result.NewHistogram()
			_ = h.RecordValue(10)
			s[0].ClientDelayHistogram = result.EncodeHistogram(h)
		}, "stage 1: client delay histogram holds 1 samples, count says 2"},
		{"latencies less client delays that do not count the stage's successes", func(s []result.StageResult) {
			s[0].ClientDelayHistogram = s[0].Histogram
			s[0].LatencyLessClientHistogram = s[1].Histogram
		}, "stage 1: latency less client histogram holds 1 samples, count says 2"},
		{"latencies less client delays without client delays", func(s []result.StageResult) { s[0].LatencyLessClientHistogram = s[0].Histogram },
			"stage 1: latency less client histogram without client delays"},
	} {
		t.Run(tt.name+" are refused", func(t *testing.T) {
			r := staged(t)
			tt.spoil(r.Components[0].Operations[0].Stages)
			data, err := r.Encode()
			require.NoError(t, err)
			_, err = result.Decode(data)
			require.ErrorIs(t, err, result.ErrInvalid)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
