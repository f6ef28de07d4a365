package stats

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestChangePointsFindShifts: the detector confirms the shifts a history
// holds, each once, with the medians on either side, and none in a history
// too short to confirm one.
func TestChangePointsFindShifts(t *testing.T) {
	steady := func(level float64, n int, rng *rand.Rand) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = level * (1 + 0.01*rng.NormFloat64())
		}
		return out
	}
	rng := rand.New(rand.NewPCG(4, 4))
	tests := []struct {
		name   string
		series []float64
		want   []int // change point indices
	}{
		{"a flat history has none", steady(1, 20, rng), nil},
		{"one step of +30% is found where it is", append(steady(1, 10, rng), steady(1.3, 10, rng)...), []int{10}},
		{"two steps up are both found", append(append(steady(1, 8, rng), steady(1.3, 8, rng)...), steady(1.7, 8, rng)...), []int{8, 16}},
		{"five runs are too few to confirm anything", []float64{1, 1, 1, 2, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, c := range ChangePoints(tt.series, 0.05) {
				got = append(got, c.Index)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("change points at %v, want %v", got, tt.want)
			}
		})
	}
	s := append(steady(1, 10, rng), steady(2, 10, rng)...)
	a, b := ChangePoints(s, 0.05), ChangePoints(s, 0.05)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the same history gave %+v, then %+v: verdicts must be reproducible", a, b)
	}
	if len(a) != 1 || a[0].Ratio < 1.8 || a[0].Ratio > 2.2 || a[0].PValue >= 0.05 {
		t.Errorf("a doubling reads %+v, want one change point with a ratio near 2", a)
	}
}

// TestChangePointSimulation is the detector's calibration on synthetic
// histories of 30 runs whose run-to-run noise is normal with a standard
// deviation of 5% (runs lie within ±15% of their level, three standard
// deviations, 99.7% of the time): a +10% step, at a random run between the
// 8th and the 22nd, is confirmed within 3 runs of where it is in at least
// 90% of 100 histories, and 100 flat histories raise no trend alarm
// (against a +10% bar) in at least 95% of them; the change points their
// noise confirms at the 5% significance are logged and bounded too. Seeded, so its figures are the same on every
// run (they are in the test log).
func TestChangePointSimulation(t *testing.T) {
	const runs, histories = 30, 100
	rng := rand.New(rand.NewPCG(2026, 20))
	history := func(stepAt int) []float64 {
		out := make([]float64, runs)
		for i := range out {
			out[i] = 1 + 0.05*rng.NormFloat64()
			if i >= stepAt {
				out[i] *= 1.10
			}
		}
		return out
	}
	found, flatQuiet, flatNoChange := 0, 0, 0
	for range histories {
		at := runs/4 + rng.IntN(runs/2)
		for _, c := range ChangePoints(history(at), 0.05) {
			if c.Index >= at-3 && c.Index <= at+3 {
				found++
				break
			}
		}
		alarms, cps := TrendAlarms(history(runs), 0.10, 0.05)
		if len(alarms) == 0 {
			flatQuiet++
		}
		if len(cps) == 0 {
			flatNoChange++
		}
	}
	t.Logf("+10%% step in 5%% noise, %d runs: found within 3 runs in %d of %d histories; flat: no alarm (trend bar +10%%) in %d of %d, no change point at all in %d of %d",
		runs, found, histories, flatQuiet, histories, flatNoChange, histories)
	if found < 90 {
		t.Errorf("found the step within 3 runs in %d of %d histories, want at least 90", found, histories)
	}
	if flatQuiet < 95 {
		t.Errorf("%d of %d flat histories raised no alarm, want at least 95", flatQuiet, histories)
	}
	if flatNoChange < 90 {
		t.Errorf("%d of %d flat histories confirmed no change point, want at least 90 (the test's significance is 5%%)", flatNoChange, histories)
	}
}
