package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
)

func TestSignFlipTest(t *testing.T) {
	t.Parallel()
	seventeen := make([]float64, 17)
	for i := range seventeen {
		seventeen[i] = 0.01 * float64(i+1)
	}
	for _, tc := range []struct {
		name string
		d    []float64
		want float64 // exact p-value; tol allows for the Monte Carlo draws
		tol  float64
	}{
		{"none", nil, 1, 0},
		{"all zero", []float64{0, 0, 0}, 1, 0},
		// 8 positive differences: only all-plus and all-minus are as extreme.
		{"eight up", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 2.0 / 256, 0},
		{"eight down", []float64{-1, -2, -3, -4, -5, -6, -7, -8}, 2.0 / 256, 0},
		// Balanced: every assignment is at least as extreme as a zero sum.
		{"balanced", []float64{1, -1, 2, -2}, 1, 0},
		// One of eight equal differences flipped: sums of 6 or more in
		// absolute value are all-plus (8), one minus (6: 8 ways), and
		// their mirrors: 18 of 256.
		{"seven of eight up", []float64{1, 1, 1, 1, 1, 1, 1, -1}, 18.0 / 256, 0},
		// Beyond exactSignFlips the test draws: 17 increasing positive
		// differences are as extreme only under the two uniform signings
		// (p = 2^-16): the drawn p-value is the observed signing plus the
		// few draws that hit them, over the draws.
		{"seventeen up, drawn", seventeen, 2.0 / (1 << 17), 5.0 / signFlipDraws},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := signFlipTest(tc.d, BootstrapSeed)
			if math.Abs(got-tc.want) > tc.tol+1e-12 {
				t.Errorf("signFlipTest(%v) = %.6f, want %.6f ± %.6f", tc.d, got, tc.want, tc.tol)
			}
		})
	}
}

// The exact sign-flip test counts, half against half, what summing every
// assignment of signs counts: for every number of pairs it enumerates, with
// ties (equal differences, as segments whose quantiles fall in the same
// buckets give) and without.
func TestExtremeSigningsCountsWhatEveryAssignmentSums(t *testing.T) {
	t.Parallel()
	everyAssignment := func(abs []float64, limit float64) uint64 {
		var extreme uint64
		for signs := range uint64(1) << uint(len(abs)) {
			var s float64
			for i, a := range abs {
				if signs>>uint(i)&1 == 1 {
					s -= a
				} else {
					s += a
				}
			}
			if math.Abs(s) >= limit {
				extreme++
			}
		}
		return extreme
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for n := 1; n <= exactSignFlips; n++ {
		for trial := range 6 {
			d := make([]float64, n)
			for i := range d {
				if trial%2 == 0 {
					d[i] = math.Log(1 + 0.001*float64(rng.IntN(9)-3)) // bucket-sized steps, many ties
				} else {
					d[i] = 0.2 * rng.NormFloat64()
				}
			}
			abs := make([]float64, n)
			var observed float64
			for i, v := range d {
				abs[i], observed = math.Abs(v), observed+v
			}
			limit := math.Abs(observed) * (1 - 1e-9)
			if got, want := extremeSignings(abs, limit), everyAssignment(abs, limit); got != want {
				t.Errorf("%d pairs %v: %d extreme signings, summing each gives %d", n, d, got, want)
			}
		}
	}
}

func TestExpandedTailPairedUsesKMinusOneDegrees(t *testing.T) {
	t.Parallel()
	// For k pairs the interval reaches sqrt(k/(k-1)) * t(k-1) standard
	// errors out: t(7) at 0.95 is 1.8946 (tables), so for 8 pairs z = 2.0254.
	got := expandedTailPaired(0.05, 8)
	want := normalSurvival(math.Sqrt(8.0/7) * 1.8946)
	if math.Abs(got-want) > 2e-4 {
		t.Errorf("expandedTailPaired(0.05, 8) = %.5f, want %.5f", got, want)
	}
	if expandedTailPaired(0.05, 1) != 0.05 {
		t.Error("one pair cannot be expanded")
	}
}

// segments are the interval histograms of each segment of one side of an
// interleaved run, one interval a segment.
type segments [][]*hdrhistogram.Histogram

func newSegments(pairs int) segments {
	out := make(segments, pairs)
	for k := range out {
		out[k] = []*hdrhistogram.Histogram{newRunnerHistogram()}
	}
	return out
}

// simulatePair simulates an interleaved run into base and cand (see
// drawPair).
func simulatePair(rng *rand.Rand, d distribution, perSegment int, noise, jitter, shift float64, base, cand segments) {
	drawPair(rng, d, perSegment, len(base), noise, jitter, shift, func(side segments, k int, values []int64) {
		h := side[k][0]
		h.Reset()
		for _, v := range values {
			h.RecordValue(v)
		}
	}, base, cand)
}

// readPair is simulatePair read as the comparisons read it (readSegments),
// built by recorded from the same draws, for the simulations that compare
// thousands of runs (see readRun).
func readPair(t testing.TB, rng *rand.Rand, d distribution, perSegment, pairs int, noise, jitter, shift float64) (base, cand []Intervals) {
	t.Helper()
	base, cand = make([]Intervals, pairs), make([]Intervals, pairs)
	drawPair(rng, d, perSegment, pairs, noise, jitter, shift, func(side []Intervals, k int, values []int64) {
		side[k] = Intervals{parts: readValues(t, values)}
	}, base, cand)
	return base, cand
}

// readValues is ReadIntervals of one histogram holding values.
func readValues(t testing.TB, values []int64) []sparse {
	if s := recorded(t, values); s.total > 0 {
		return []sparse{s}
	}
	return nil
}

// drawPair draws an interleaved run of pairs segment pairs: each side's
// segment perSegment samples of d. noise scales both segments of a pair
// alike (the machine slowed both), jitter scales each segment on its own,
// and the candidate is shift times slower. It hands each segment's values
// to segment with its side (base or cand) and index; the values are reused
// for the next segment.
func drawPair[S any](rng *rand.Rand, d distribution, perSegment, pairs int, noise, jitter, shift float64, segment func(side S, k int, values []int64), base, cand S) {
	values := make([]int64, perSegment)
	for k := range pairs {
		common := math.Exp(noise * rng.NormFloat64())
		draw(rng, d, common*math.Exp(jitter*rng.NormFloat64()), values)
		segment(base, k, values)
		draw(rng, d, shift*common*math.Exp(jitter*rng.NormFloat64()), values)
		segment(cand, k, values)
	}
}

// TestComparePairedSimulated checks the paired comparison where it is used:
// the 8 segment pairs of a 5 s interleaved run at 1,500 ops/s, log-normal
// service times with a 2 ms median, on a machine whose speed wanders from
// pair to pair by 15% (one standard deviation) and from segment to segment
// by 3%. For p50 and p99, A/A pairs must fail at most 5% of the time and the
// interval must cover the true ratio about as often as it says; +30%
// candidates must fail at least 95% of the time; and pairing must catch more
// of them than the unpaired comparison of the same segments.
func TestComparePairedSimulated(t *testing.T) {
	t.Parallel()
	const (
		trials     = 120
		pairs      = 8
		perSegment = 940
		tolerance  = 0.10
	)
	d := logNormal{median: 2e6, sigma: 0.5}
	quantiles := []float64{0.5, 0.99}
	type outcome struct{ aaFail, aaCover, aaSignificant, abFail, abCover, abUnpaired bool }
	outcomes := make([][trials]outcome, len(quantiles))
	parallel(trials, workers(), func(trial int) {
		rng := rand.New(rand.NewPCG(11, uint64(trial)))
		b, same := readPair(t, rng, d, perSegment, pairs, 0.15, 0.03, 1)
		// The +30% candidate runs interleaved with a baseline of its own.
		b2, slower := readPair(t, rng, d, perSegment, pairs, 0.15, 0.03, 1.3)
		for qi, q := range quantiles {
			o := &outcomes[qi][trial]
			c := ComparePaired(b, same, q, DefaultConfidence)
			if c.Method != MethodPaired {
				t.Errorf("method %q, want %q", c.Method, MethodPaired)
			}
			o.aaFail = RegressionVerdict(c, tolerance) == status.Fail
			o.aaCover = c.RatioLo <= 1 && 1 <= c.RatioHi
			o.aaSignificant = c.Significant
			c = ComparePaired(b2, slower, q, DefaultConfidence)
			o.abFail = RegressionVerdict(c, tolerance) == status.Fail
			o.abCover = c.RatioLo <= 1.3 && 1.3 <= c.RatioHi
			u := compareIntervals(nonEmptySparse(mergeSegments(b2)), nonEmptySparse(mergeSegments(slower)), q, DefaultConfidence, defaultSettings)
			o.abUnpaired = RegressionVerdict(u, tolerance) == status.Fail
		}
	})
	for qi, q := range quantiles {
		t.Run(fmt.Sprintf("p%v", 100*q), func(t *testing.T) {
			rate := func(pick func(outcome) bool) float64 {
				n := 0
				for _, o := range outcomes[qi] {
					if pick(o) {
						n++
					}
				}
				return float64(n) / trials
			}
			aaFail, aaCover := rate(func(o outcome) bool { return o.aaFail }), rate(func(o outcome) bool { return o.aaCover })
			aaSignificant := rate(func(o outcome) bool { return o.aaSignificant })
			abFail, abCover := rate(func(o outcome) bool { return o.abFail }), rate(func(o outcome) bool { return o.abCover })
			abUnpaired := rate(func(o outcome) bool { return o.abUnpaired })
			t.Logf("A/A: fails %.1f%%, covers %.1f%%, significant %.1f%%; +30%%: fails %.1f%% (unpaired %.1f%%), covers %.1f%%",
				100*aaFail, 100*aaCover, 100*aaSignificant, 100*abFail, 100*abUnpaired, 100*abCover)
			if aaFail > 0.05 {
				t.Errorf("%.1f%% of A/A pairs failed, want at most 5%%", 100*aaFail)
			}
			// A nominal 90% interval; 120 trials put 2.7 points of
			// binomial noise on its coverage.
			if aaCover < 0.83 {
				t.Errorf("the A/A interval covered the true ratio %.1f%% of the time, want about 90%%", 100*aaCover)
			}
			if abCover < 0.83 {
				t.Errorf("the +30%% interval covered the true ratio %.1f%% of the time, want about 90%%", 100*abCover)
			}
			if aaSignificant > 0.16 {
				t.Errorf("the sign-flip test called %.1f%% of A/A pairs different at the 10%% level", 100*aaSignificant)
			}
			if abFail < 0.95 {
				t.Errorf("%.1f%% of +30%% candidates failed, want at least 95%%", 100*abFail)
			}
			if abFail <= abUnpaired {
				t.Errorf("pairing caught %.1f%% of +30%% candidates, no more than the unpaired comparison's %.1f%%", 100*abFail, 100*abUnpaired)
			}
		})
	}
}

func TestComparePairedMethod(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	d := logNormal{median: 2e6, sigma: 0.5}
	for _, tc := range []struct {
		name       string
		pairs, per int
		q          float64
		want       Method
	}{
		{"eight pairs", 8, 500, 0.5, MethodPaired},
		{"a long run: 100 pairs, resampled in clusters", 100, 200, 0.99, MethodPaired},
		{"four pairs: unpaired intervals", 4, 500, 0.5, MethodPooled},
		{"p99 from 50 samples a segment", 8, 50, 0.99, MethodPooled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, cand := newSegments(tc.pairs), newSegments(tc.pairs)
			simulatePair(rng, d, tc.per, 0.1, 0.03, 1, base, cand)
			c := ComparePairedQuantile(base, cand, tc.q, DefaultConfidence)
			if c.Method != tc.want {
				t.Errorf("method %q, want %q", c.Method, tc.want)
			}
			if c.Method == MethodPaired && !(c.RatioLo <= c.Ratio && c.Ratio <= c.RatioHi) {
				t.Errorf("ratio %.3f outside its interval [%.3f, %.3f]", c.Ratio, c.RatioLo, c.RatioHi)
			}
			if c.BaseSamples != int64(tc.pairs*tc.per) || c.CandSamples != int64(tc.pairs*tc.per) {
				t.Errorf("samples %d and %d, want %d each", c.BaseSamples, c.CandSamples, tc.pairs*tc.per)
			}
		})
	}
}
