package workloads

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// testStages is a step, a linear ramp from its rate to three times it, and
// a hold: 500, 1000 and 750 operations, after a warmup of 200.
var testStages = []slo.Stage{
	{Rate: 1000, Duration: 500 * time.Millisecond},
	{Rate: 3000, Duration: 500 * time.Millisecond, Ramp: slo.RampLinear},
	{Rate: 3000, Duration: 250 * time.Millisecond},
}

func stagedSpec(arrival slo.Arrival) *Spec {
	spec := testSpec(arrival, slo.MeanRate(testStages))
	spec.Component.Workload.Stages = testStages
	spec.Warmup = 200 * time.Millisecond
	spec.Duration = slo.StagesDuration(testStages)
	return spec
}

// intended is N(t) of testStages after a warmup of w seconds, written out
// from the stages' definition: the operations intended by t seconds.
func intended(t, w float64) float64 {
	switch {
	case t < w:
		return 1000 * t
	case t < w+0.5:
		return 1000*w + 1000*(t-w)
	case t < w+1:
		tau := t - w - 0.5
		return 1000*w + 500 + 1000*tau + (3000-1000)*tau*tau/(2*0.5)
	}
	return 1000*w + 1500 + 3000*(t-w-1)
}

// stageCounts counts a schedule's operations intended in the warmup and in
// each stage, until the window closes.
func stageCounts(t *testing.T, s *schedule, check func(index uint64, at float64)) [4]int {
	t.Helper()
	var n [4]int
	bounds := []time.Duration{200 * time.Millisecond, 700 * time.Millisecond, 1200 * time.Millisecond, 1450 * time.Millisecond}
	for {
		index, due := s.next()
		if due >= bounds[3] {
			return n
		}
		if check != nil {
			check(index, due.Seconds())
		}
		i := 0
		for due >= bounds[i] {
			i++
		}
		n[i]++
	}
}

func TestStagedScheduleFollowsTheStagesExactly(t *testing.T) {
	t.Parallel()
	t.Run("uniform arrivals put operation k at N⁻¹(k), rate × duration in each stage", func(t *testing.T) {
		t.Parallel()
		n := stageCounts(t, newSchedule(stagedSpec(slo.ArrivalUniform)), func(index uint64, at float64) {
			// Intended starts are whole nanoseconds: N at one is k to
			// within the rate times half a nanosecond.
			require.InDelta(t, float64(index), intended(at, 0.2), 3000*0.5e-9+1e-9, "operation %d at %.9fs", index, at)
		})
		assert.Equal(t, [4]int{200, 500, 1000, 750}, n, "warmup at the first stage's rate, then rate × duration per stage (the ramp's mean rate)")
	})
	t.Run("poisson arrivals are the unit-rate process through N⁻¹, within Poisson bounds per stage", func(t *testing.T) {
		t.Parallel()
		var prev, gaps, sq float64
		k := 0
		n := stageCounts(t, newSchedule(stagedSpec(slo.ArrivalPoisson)), func(_ uint64, at float64) {
			u := intended(at, 0.2)
			gap := u - prev
			require.Positive(t, gap, "arrival %d is not after the one before", k)
			prev, gaps, sq, k = u, gaps+gap, sq+gap*gap, k+1
		})
		for i, want := range []float64{200, 500, 1000, 750} {
			assert.InDelta(t, want, n[i], 4*math.Sqrt(want), "part %d (0 is warmup) holds a Poisson count about its mean", i)
		}
		// The gaps of a unit-rate process are Exp(1): mean 1, variance 1.
		mean := gaps / float64(k)
		assert.InDelta(t, 1, mean, 4/math.Sqrt(float64(k)), "mean gap in N")
		assert.InDelta(t, 1, sq/float64(k)-mean*mean, 8/math.Sqrt(float64(k)), "variance of the gaps in N")
	})
	t.Run("the same seed gives the same staged arrivals", func(t *testing.T) {
		t.Parallel()
		requireSameArrivals(t, newSchedule(stagedSpec(slo.ArrivalPoisson)), newSchedule(stagedSpec(slo.ArrivalPoisson)), 2000)
	})
	t.Run("shards together send the single runner's staged sequence", func(t *testing.T) {
		t.Parallel()
		single := newSchedule(stagedSpec(slo.ArrivalPoisson))
		want := map[uint64]time.Duration{}
		for range 2000 {
			i, d := single.next()
			want[i] = d
		}
		for shard := 1; shard <= 2; shard++ {
			spec := stagedSpec(slo.ArrivalPoisson)
			spec.Shard = result.Shard{Index: shard, Count: 2}
			s := newSchedule(spec)
			for range 1000 {
				i, d := s.next()
				require.Equal(t, uint64(shard-1), i%2)
				require.Equal(t, want[i], d, "operation %d", i)
			}
		}
	})
	t.Run("a first stage ramps from 0 when there is no warmup", func(t *testing.T) {
		t.Parallel()
		c := newCurve([]slo.Stage{{Rate: 2000, Duration: time.Second, Ramp: slo.RampLinear}}, 0)
		// N(t) = 1000 t²: operation k at √(k/1000).
		for _, k := range []float64{0, 1, 10, 250, 999} {
			assert.InDelta(t, math.Sqrt(k/1000), c.at(k), 1e-12, "operation %v", k)
		}
		assert.GreaterOrEqual(t, c.at(1000), 1.0, "the stage intends 1000 operations")
	})
}

// runStages is a short run of three stages of 150 ms (1000/s, a ramp to
// 2000/s, 2000/s: 150, 225 and 300 operations) after 50 ms of warmup.
func runStages(t *testing.T, target string, pipeline int) *result.Result {
	t.Helper()
	stages := []slo.Stage{
		{Rate: 1000, Duration: 150 * time.Millisecond},
		{Rate: 2000, Duration: 150 * time.Millisecond, Ramp: slo.RampLinear},
		{Rate: 2000, Duration: 150 * time.Millisecond},
	}
	spec := fakeSpec(target, slo.MeanRate(stages), slo.StagesDuration(stages))
	spec.Component.Workload.Stages = stages
	spec.Component.Workload.Pipeline = pipeline
	spec.Warmup = 50 * time.Millisecond
	res, err := Run(context.Background(), []*Spec{spec}, Options{})
	require.NoError(t, err)
	data, err := res.Encode()
	require.NoError(t, err)
	_, err = result.Decode(data)
	require.NoError(t, err, "the result's stages are sound: they add up to their operations")
	return res
}

func TestARunInStagesRecordsEachStage(t *testing.T) {
	t.Parallel()
	t.Run("one operation at a time, with the errors of the stage they were intended in", func(t *testing.T) {
		t.Parallel()
		// Warmup holds operations 0 to 49, stage 1 50 to 199, stage 2 200
		// to 424: every tenth of stage 2 fails.
		target := fakeTarget(t, func(_ context.Context, op *Op) error {
			if 200 <= op.Index && op.Index < 425 && op.Index%10 == 0 {
				return errors.New("refused")
			}
			return nil
		})
		res := runStages(t, target, 1)
		all := res.Components[0].Operation("all")
		require.Len(t, all.Stages, 3)
		for i, want := range []int64{150, 225, 300} {
			s := all.Stages[i]
			assert.Equal(t, want, s.Count+s.Errors, "stage %d: rate × duration", i+1)
			assert.Equal(t, int64(i)*int64(150*time.Millisecond), s.StartNS)
		}
		assert.EqualValues(t, []int64{0, 23, 0}, []int64{all.Stages[0].Errors, all.Stages[1].Errors, all.Stages[2].Errors})
		assert.InDelta(t, 1500, all.Stages[1].AskedRate, 1e-9, "the ramp's mean rate")
		get, set := res.Components[0].Operation("get"), res.Components[0].Operation("set")
		for i := range 3 {
			assert.Equal(t, all.Stages[i].Count, get.Stages[i].Count+set.Stages[i].Count, "stage %d of get and set make all's", i+1)
		}
	})
	t.Run("pipelined", func(t *testing.T) {
		t.Parallel()
		_, target := newStore(t, time.Millisecond)
		all := runStages(t, target, 4).Components[0].Operation("all")
		require.Len(t, all.Stages, 3)
		for i, want := range []int64{150, 225, 300} {
			assert.Equal(t, want, all.Stages[i].Count+all.Stages[i].Errors, "stage %d: rate × duration", i+1)
			assert.Positive(t, all.Stages[i].LatencyNS.P50)
		}
	})
}
