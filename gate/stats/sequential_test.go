package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBoundariesMatchPublishedValues(t *testing.T) {
	t.Parallel()
	five := []float64{0.2, 0.4, 0.6, 0.8, 1}
	for _, tc := range []struct {
		name      string
		spend     func(alpha, t float64) float64
		fractions []float64
		// Lan-DeMets Pocock-type boundaries for a two-sided 5%, as R's
		// gsDesign and ldbounds compute them.
		want []float64
	}{
		{"one look is the fixed-sample z", PocockSpending, []float64{1}, []float64{1.9600}},
		{"Pocock-type, five equal looks", PocockSpending, five, []float64{2.438, 2.427, 2.410, 2.397, 2.386}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := boundaries(0.05, tc.fractions, tc.spend)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d boundaries, want %d", len(got), len(tc.want))
			}
			for k := range got {
				if math.Abs(got[k]-tc.want[k]) > 0.005 {
					t.Errorf("look %d: boundary %.4f, want %.3f", k+1, got[k], tc.want[k])
				}
			}
		})
	}
}

func TestBoundariesRefuseBadFractions(t *testing.T) {
	t.Parallel()
	for _, fractions := range [][]float64{nil, {0}, {0.5, 0.5}, {0.6, 0.4}, {0.5, 1.2}, {math.NaN()}} {
		if b := Boundaries(0.05, fractions); b != nil {
			t.Errorf("Boundaries(0.05, %v) = %v, want nil", fractions, b)
		}
		if c := LookConfidence(0.9, fractions); !math.IsNaN(c) {
			t.Errorf("LookConfidence(0.9, %v) = %v, want NaN", fractions, c)
		}
	}
	if c := LookConfidence(0.9, []float64{1}); math.Abs(c-0.9) > 1e-9 {
		t.Errorf("one look at the whole run: confidence %.6f, want 0.9", c)
	}
}

// brownianLooks simulates the standardised statistics of looks at the
// fractions: a sum of independent normal increments, Z_k = S_k/sqrt(t_k),
// shifted by drift standard errors at the last look (drift*sqrt(t_k) at
// look k). It reports the first look whose |Z_k| reaches its boundary, or
// -1.
func brownianLooks(rng *rand.Rand, fractions, bounds []float64, drift float64) int {
	var s, previous float64
	for k, t := range fractions {
		s += math.Sqrt(t-previous)*rng.NormFloat64() + drift*(t-previous)
		previous = t
		if math.Abs(s/math.Sqrt(t)) >= bounds[k] {
			return k
		}
	}
	return -1
}

// TestBoundariesHoldTheErrorOverRepeatedLooks simulates the statistics of
// looks at a run of growing length and counts how often any look stops
// when nothing changed: the corrected boundaries must hold that near alpha,
// and looking as often at the fixed-sample level must not (this test would
// catch a correction that does nothing). The O'Brien-Fleming-type spending
// function, integrated the same way, must hold it too, and shows what it
// costs at the first look.
func TestBoundariesHoldTheErrorOverRepeatedLooks(t *testing.T) {
	t.Parallel()
	const (
		trials = 40_000
		alpha  = 0.10
	)
	// Looks at the planned length (1/3 of the longest) and every half of
	// it after: what a plan with max_duration three times its duration gets.
	fractions := []float64{2.0 / 6, 3.0 / 6, 4.0 / 6, 5.0 / 6, 1}
	corrected := Boundaries(alpha, fractions)
	naive := make([]float64, len(fractions))
	for k := range naive {
		naive[k] = normalQuantile(1 - alpha/2)
	}
	rate := func(bounds []float64, drift float64) (stopped float64, byLook []float64) {
		rng := rand.New(rand.NewPCG(5, 6))
		counts := make([]int, len(fractions))
		n := 0
		for range trials {
			if k := brownianLooks(rng, fractions, bounds, drift); k >= 0 {
				counts[k]++
				n++
			}
		}
		byLook = make([]float64, len(fractions))
		cumulative := 0
		for k, c := range counts {
			cumulative += c
			byLook[k] = float64(cumulative) / trials
		}
		return float64(n) / trials, byLook
	}
	// 40,000 trials: the standard error of a 10% rate is 0.15 points.
	got, _ := rate(corrected, 0)
	t.Logf("no change: corrected boundaries %v stop %.2f%% of runs", corrected, 100*got)
	if math.Abs(got-alpha) > 0.006 {
		t.Errorf("the corrected looks stopped %.2f%% of runs with nothing changed, want %.0f%%", 100*got, 100*alpha)
	}
	obf := boundaries(alpha, fractions, obrienFlemingSpending)
	obfRate, _ := rate(obf, 0)
	t.Logf("no change: O'Brien-Fleming-type boundaries %v stop %.2f%% of runs", obf, 100*obfRate)
	if math.Abs(obfRate-alpha) > 0.006 {
		t.Errorf("the O'Brien-Fleming-type looks stopped %.2f%% of runs with nothing changed, want %.0f%%", 100*obfRate, 100*alpha)
	}
	naiveRate, _ := rate(naive, 0)
	t.Logf("no change: the fixed-sample boundary at every look stops %.2f%% of runs", 100*naiveRate)
	if naiveRate < 1.5*alpha {
		t.Errorf("looking %d times at the fixed-sample level stopped only %.2f%% of runs; the simulation cannot tell a correction from none", len(fractions), 100*naiveRate)
	}
	// A real change of 2.5 standard errors of the longest run: the share
	// of runs that have stopped grows look by look.
	_, byLook := rate(corrected, 2.5)
	t.Logf("a shift of 2.5 standard errors: stopped by each look %v", byLook)
	for k := 1; k < len(byLook); k++ {
		if byLook[k] <= byLook[k-1] {
			t.Errorf("stopped by look %d: %.3f, no more than by look %d: %.3f", k+1, byLook[k], k, byLook[k-1])
		}
	}
	if byLook[0] > 0.5 || byLook[len(byLook)-1] < 0.6 {
		t.Errorf("power %.3f at the first look and %.3f at the last: more data must buy power", byLook[0], byLook[len(byLook)-1])
	}
}

// TestLookConfidenceWithThePairedComparison runs the sequential procedure
// with the comparison it serves: an interleaved run of log-normal service
// times (2 ms median) on a wandering machine, looked at after 8, 12 and 16
// segment pairs, each look's interval at LookConfidence. At a true ratio
// exactly at the +10% limit, a look whose interval lies wholly above the
// limit is a false failure and one wholly below a false pass; over all
// looks each must stay near (1-DefaultConfidence)/2 = 5%. Looking as often
// at DefaultConfidence must not (the simulation can tell). A +15% candidate
// must fail more often by each later look.
func TestLookConfidenceWithThePairedComparison(t *testing.T) {
	t.Parallel()
	const (
		trials     = 80
		perSegment = 400
		limit      = 1.10
	)
	looks := []int{8, 12, 16}
	fractions := []float64{0.5, 0.75, 1}
	d := logNormal{median: 2e6, sigma: 0.5}
	type outcome struct {
		falseFail, falsePass, naiveFalseFail, naiveFalsePass bool
		abFailedBy                                           [3]bool
	}
	q := 0.5
	outcomes := make([]outcome, trials)
	parallel(trials, workers(), func(trial int) {
		rng := rand.New(rand.NewPCG(17, uint64(trial)))
		// Each side is read once; every look compares its first n segments.
		base, cand := readPair(t, rng, d, perSegment, 16, 0.15, 0.03, limit)
		base2, slower := readPair(t, rng, d, perSegment, 16, 0.15, 0.03, 1.15)
		o := &outcomes[trial]
		for k, n := range looks {
			level := LookConfidence(DefaultConfidence, fractions[:k+1])
			c := ComparePaired(base[:n], cand[:n], q, level)
			o.falseFail = o.falseFail || c.RatioLo > limit
			o.falsePass = o.falsePass || c.RatioHi <= limit
			naive := ComparePaired(base[:n], cand[:n], q, DefaultConfidence)
			o.naiveFalseFail = o.naiveFalseFail || naive.RatioLo > limit
			o.naiveFalsePass = o.naiveFalsePass || naive.RatioHi <= limit
			ab := ComparePaired(base2[:n], slower[:n], q, level)
			o.abFailedBy[k] = ab.RatioLo > limit || (k > 0 && o.abFailedBy[k-1])
		}
	})
	share := func(pick func(outcome) bool) float64 {
		n := 0
		for _, o := range outcomes {
			if pick(o) {
				n++
			}
		}
		return float64(n) / trials
	}
	falseFail, falsePass := share(func(o outcome) bool { return o.falseFail }), share(func(o outcome) bool { return o.falsePass })
	naiveFail, naivePass := share(func(o outcome) bool { return o.naiveFalseFail }), share(func(o outcome) bool { return o.naiveFalsePass })
	var failedBy [3]float64
	for k := range failedBy {
		failedBy[k] = share(func(o outcome) bool { return o.abFailedBy[k] })
	}
	t.Logf("at the limit over %d looks: corrected false fail %.1f%%, false pass %.1f%%; uncorrected %.1f%% and %.1f%%; +15%% failed by each look %v",
		len(looks), 100*falseFail, 100*falsePass, 100*naiveFail, 100*naivePass, failedBy)
	// 80 trials: a 5% rate has a standard error of 2.4 points.
	for _, e := range []struct {
		what string
		rate float64
	}{{"false failures", falseFail}, {"false passes", falsePass}} {
		if e.rate > 0.10 {
			t.Errorf("%s over the looks: %.1f%%, want about 5%%", e.what, 100*e.rate)
		}
	}
	if naiveFail+naivePass <= falseFail+falsePass {
		t.Errorf("uncorrected looks erred %.1f%% of the time, no more than corrected ones (%.1f%%): the simulation cannot tell a correction from none",
			100*(naiveFail+naivePass), 100*(falseFail+falsePass))
	}
	for k := 1; k < len(failedBy); k++ {
		if failedBy[k] < failedBy[k-1] {
			t.Errorf("+15%% failed by look %d: %.1f%%, fewer than by look %d", k+1, 100*failedBy[k], k)
		}
	}
	if failedBy[2] <= failedBy[0] {
		t.Errorf("+15%% failed %.1f%% by the last look, no more than %.1f%% at the first: more data must buy power", 100*failedBy[2], 100*failedBy[0])
	}
}
