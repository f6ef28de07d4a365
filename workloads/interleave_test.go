package workloads

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// Both sides of an interleaved run carry one pairing: the same ID, and the
// first interval of each of their segments, so the gate can line segment k
// of one up with segment k of the other.
func TestInterleavedSidesArePaired(t *testing.T) {
	clock := newSimClock(t)
	do := func(ctx context.Context, _ *Op) error { clock.sleep(ctx, 100*time.Microsecond); return nil }
	cand := fakeSpec(fakeTarget(t, do), 400, 1600*time.Millisecond)
	base := fakeSpec(fakeTarget(t, do), 400, 1600*time.Millisecond)
	candRes, baseRes, err := RunInterleaved(context.Background(), []*Spec{cand}, []*Spec{base}, Options{Clock: clock})
	require.NoError(t, err)
	assert.Equal(t, MinSegments, Segments(1600*time.Millisecond), "a short run is cut into MinSegments segments")
	for _, r := range []*result.Result{candRes, baseRes} {
		require.NotNil(t, r.Pairing)
		require.Len(t, r.Pairing.Segments, MinSegments)
		assert.Equal(t, 0, r.Pairing.Segments[0])
		for _, op := range r.Components[0].Operations {
			intervals, err := op.IntervalHistograms()
			require.NoError(t, err)
			var total int64
			for k, seg := range r.Pairing.SegmentsOf(intervals) {
				var n int64
				for _, h := range seg {
					if h != nil {
						n += h.TotalCount()
					}
				}
				assert.Positive(t, n, "operation %q segment %d is empty", op.Name, k)
				total += n
			}
			assert.Equal(t, op.Count, total, "operation %q: the segments hold every sample once", op.Name)
		}
	}
	assert.NotEmpty(t, candRes.Pairing.ID)
	assert.True(t, candRes.PairedWith(baseRes))

	// The pairing survives the result file, and a corrupt one is refused.
	data, err := candRes.Encode()
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err)
	assert.True(t, back.PairedWith(baseRes))
	for _, tc := range []struct {
		name    string
		pairing result.Pairing
	}{
		{"no id", result.Pairing{Segments: []int{0, 2}}},
		{"not from interval 0", result.Pairing{ID: "x", Segments: []int{1, 2}}},
		{"going back", result.Pairing{ID: "x", Segments: []int{0, 3, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]any
			require.NoError(t, json.Unmarshal(data, &raw))
			raw["pairing"] = tc.pairing
			bad, err := json.Marshal(raw)
			require.NoError(t, err)
			_, err = result.Decode(bad)
			assert.True(t, errors.Is(err, result.ErrInvalid), "got %v", err)
		})
	}

	// A result paired with another run is not this run's other side.
	other := *baseRes
	other.Pairing = &result.Pairing{ID: "another run", Segments: baseRes.Pairing.Segments}
	assert.False(t, candRes.PairedWith(&other))
}
