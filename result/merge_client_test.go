package result_test

import (
	"encoding/json"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

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
	hs, err := op.IntervalClientDelays()
	require.NoError(t, err)
	if hs == nil {
		return nil
	}
	out := make([]int64, len(hs))
	for i, h := range hs {
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
