package workloads

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// undecidedFor is an Undecided that finds the verdict inconclusive at the
// first looks looks, recording the measured length each look saw.
func undecidedFor(looks int, seen *[]time.Duration) func(cand, base *result.Result) string {
	return func(cand, _ *result.Result) string {
		*seen = append(*seen, time.Duration(cand.MeasuredNS))
		if len(*seen) <= looks {
			return "c get p99 +4% [-3%, +14%] against +10%"
		}
		return ""
	}
}

// countAll is the number of operations an operation list of a result holds.
func countAll(t *testing.T, r *result.Result) int64 {
	t.Helper()
	op := r.Components[0].Operation("all")
	require.NotNil(t, op)
	return op.Count
}

func TestAPlainRunExtendsItselfWhileUndecided(t *testing.T) {
	clock := newSimClock(t)
	do := func(ctx context.Context, _ *Op) error { clock.sleep(ctx, 50*time.Microsecond); return nil }
	spec := fakeSpec(fakeTarget(t, do), 400, time.Second)
	tests := []struct {
		name      string
		undecided int
		max       time.Duration
		wantLooks []time.Duration
		wantNote  string
	}{
		{"a conclusive first look ends the run", 0, 2 * time.Second, []time.Duration{time.Second}, ""},
		{"an inconclusive look adds half the duration", 1, 2 * time.Second, []time.Duration{time.Second, 1500 * time.Millisecond}, "inconclusive after 1s"},
		{"a last step takes up what is left, and an undecided end says so", 5, 2300 * time.Millisecond,
			[]time.Duration{time.Second, 1500 * time.Millisecond, 2300 * time.Millisecond}, "still inconclusive after 2.3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []time.Duration
			res, base, err := RunAdaptive(context.Background(), []*Spec{spec}, nil, Options{Clock: clock}, Adaptive{Max: tt.max, Undecided: undecidedFor(tt.undecided, &seen)})
			require.NoError(t, err)
			assert.Nil(t, base)
			assert.Equal(t, tt.wantLooks, seen, "the looks judged these measured lengths")
			assert.Equal(t, int64(tt.wantLooks[len(tt.wantLooks)-1]), res.MeasuredNS)
			assert.Nil(t, res.Pairing, "a plain run's parts are not segment pairs")
			looks := res.Components[0].Looks
			require.NotNil(t, looks)
			assert.Equal(t, int64(tt.max), looks.MaxNS)
			require.Len(t, looks.MeasuredNS, len(tt.wantLooks))
			assert.Len(t, looks.Reasons, len(tt.wantLooks)-1)
			assert.Equal(t, len(tt.wantLooks) > 1, looks.Extended())
			// Open loop at 400/s: the whole measured window is there.
			assert.InDelta(t, 400*time.Duration(res.MeasuredNS).Seconds(), countAll(t, res), 20)
			if tt.wantNote != "" {
				assert.Contains(t, strings.Join(res.Warnings, "\n"), tt.wantNote)
			}
		})
	}
}

func TestAnInterleavedRunExtendsByWholeSegmentPairs(t *testing.T) {
	clock := newSimClock(t)
	do := func(ctx context.Context, _ *Op) error { clock.sleep(ctx, 50*time.Microsecond); return nil }
	cand := fakeSpec(fakeTarget(t, do), 400, time.Second)
	base := fakeSpec(fakeTarget(t, do), 400, time.Second)
	var seen []time.Duration
	var told []string
	candRes, baseRes, err := RunAdaptive(context.Background(), []*Spec{cand}, []*Spec{base}, Options{Clock: clock}, Adaptive{
		Max: 2 * time.Second, Undecided: undecidedFor(1, &seen),
		Extending: func(measured, step time.Duration, reason string) {
			told = append(told, measured.String()+" +"+step.String())
		},
	})
	require.NoError(t, err)
	// 1 s in 8 segments of 125 ms; one step is half of them, an ABBA block
	// of 4.
	assert.Equal(t, []time.Duration{time.Second, 1500 * time.Millisecond}, seen)
	assert.Equal(t, []string{"1s +500ms"}, told)
	for _, r := range []*result.Result{candRes, baseRes} {
		require.NotNil(t, r.Pairing)
		assert.Len(t, r.Pairing.Segments, 12, "the extension's segments are pairs too")
		assert.Equal(t, int64(1500*time.Millisecond), r.MeasuredNS)
		looks := r.Components[0].Looks
		require.NotNil(t, looks)
		assert.Equal(t, []int64{int64(time.Second), int64(1500 * time.Millisecond)}, looks.MeasuredNS)
		assert.Equal(t, int64(2*time.Second), looks.MaxNS)
		assert.Equal(t, []float64{0.5, 0.75}, looks.Fractions())
		assert.Contains(t, strings.Join(r.Warnings, "\n"), "inconclusive after 1s (c get p99")
	}
	assert.True(t, candRes.PairedWith(baseRes), "both sides of the extended run are still one pairing")

	// The looks survive the result file; looks that do not grow are refused.
	data, err := candRes.Encode()
	require.NoError(t, err)
	back, err := result.Decode(data)
	require.NoError(t, err)
	assert.Equal(t, candRes.Components[0].Looks, back.Components[0].Looks)
	for _, bad := range []result.Looks{
		{MaxNS: 0, MeasuredNS: []int64{1}},
		{MaxNS: 10, MeasuredNS: nil},
		{MaxNS: 10, MeasuredNS: []int64{5, 5}},
		{MaxNS: 10, MeasuredNS: []int64{5, 12}},
	} {
		var raw map[string]any
		require.NoError(t, json.Unmarshal(data, &raw))
		raw["components"].([]any)[0].(map[string]any)["looks"] = bad
		corrupt, err := json.Marshal(raw)
		require.NoError(t, err)
		_, err = result.Decode(corrupt)
		assert.True(t, errors.Is(err, result.ErrInvalid), "looks %+v: got %v", bad, err)
	}
}
