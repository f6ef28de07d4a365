package stats

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Change-point detection over a history of runs: E-divisive means
// (Matteson and James, 2014), as MongoDB's and Apache Otava's (formerly
// Hunter's) performance histories use it, with a seeded permutation test.
//
// The statistic of splitting a series Z at τ into X = Z[:τ] and Y = Z[τ:] is
//
//	Q(τ) = m·n/(m+n) · ( 2/(m·n) Σ|x−y| − 1/C(m,2) Σ|x−x'| − 1/C(n,2) Σ|y−y'| )
//
// the energy distance between the two sides, scaled by their sizes. The
// best split is the τ that maximises Q; it is confirmed when a permutation
// test finds it significant: of R random reorderings of the series, the
// share whose best Q is at least as large is its p-value. Confirmed splits
// are searched again on each side (the series is bisected) until none is
// significant. Each side keeps at least MinSegment runs, so a change is
// confirmed only once that many runs show it: one slow run is not a shift.
//
// Values are compared as logarithms, so a shift is a ratio and the test
// does not depend on the metric's unit. The permutations are drawn from a
// fixed seed: the same history always gives the same change points.

// MinSegment is the fewest runs on either side of a change point.
const MinSegment = 3

// ChangePermutations is the number of permutations behind each
// change point's p-value.
const ChangePermutations = 199

// changeSeed seeds the permutation test.
const changeSeed = 0x7a11_c9a9

// ChangePoint is one confirmed shift in a series.
type ChangePoint struct {
	// Index is the first point after the shift.
	Index int
	// PValue is the permutation test's p-value.
	PValue float64
	// Before and After are the medians of the segments on either side, in
	// the series' unit; Ratio is After/Before.
	Before, After, Ratio float64
}

// ChangePoints finds the confirmed change points of a series (oldest
// first), each significant at alpha (0.05 for 95%), in order. Values must
// be positive; a series shorter than 2·MinSegment has none.
func ChangePoints(values []float64, alpha float64) []ChangePoint {
	logs := make([]float64, len(values))
	for i, v := range values {
		logs[i] = math.Log(math.Max(v, 1e-12))
	}
	rng := rand.New(rand.NewPCG(changeSeed, uint64(len(values))))
	var cuts []int
	var pvalues = map[int]float64{}
	var split func(from, to int)
	split = func(from, to int) {
		if to-from < 2*MinSegment {
			return
		}
		seg := logs[from:to]
		tau, q := bestSplit(seg)
		if tau < 0 {
			return
		}
		p := permutationP(seg, q, rng)
		if p >= alpha {
			return
		}
		cuts = append(cuts, from+tau)
		pvalues[from+tau] = p
		split(from, from+tau)
		split(from+tau, to)
	}
	split(0, len(logs))
	sort.Ints(cuts)
	out := make([]ChangePoint, len(cuts))
	for i, c := range cuts {
		lo, hi := 0, len(values)
		if i > 0 {
			lo = cuts[i-1]
		}
		if i+1 < len(cuts) {
			hi = cuts[i+1]
		}
		before, after := median(values[lo:c]), median(values[c:hi])
		out[i] = ChangePoint{Index: c, PValue: pvalues[c], Before: before, After: after, Ratio: after / before}
	}
	return out
}

// Segments cuts a series of length n at its change points: the first and
// last index (exclusive) of each stretch between them.
func Segments(n int, cps []ChangePoint) [][2]int {
	var out [][2]int
	from := 0
	for _, c := range cps {
		out = append(out, [2]int{from, c.Index})
		from = c.Index
	}
	return append(out, [2]int{from, n})
}

// Median is the median of values (NaN for none).
func Median(values []float64) float64 { return median(values) }

func median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// bestSplit returns the split τ (MinSegment <= τ <= len-MinSegment) of z
// with the largest statistic, and that statistic; τ is -1 when z is too
// short. It keeps running sums of the distances within X, within Y and
// between them as τ moves, so one search costs O(len²).
//
// E-divisive proper also lets Y end before the series does, which finds a
// shift that reverts within the segment (a bump) in one step; in the
// simulation (TestChangePointSimulation) that maximum over Y's end found a
// +10% step in 80 of 100 histories where this search finds 92, for the
// same false alarms, and a reverted shift is still found here once the
// bisection reaches it. A gate's trend is about shifts that stay.
func bestSplit(z []float64) (tau int, best float64) {
	n := len(z)
	if n < 2*MinSegment {
		return -1, 0
	}
	var total float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			total += math.Abs(z[i] - z[j])
		}
	}
	// Start with X empty: every pair is within Y.
	withinX, withinY, between := 0.0, total, 0.0
	tau, best = -1, math.Inf(-1)
	for k := 1; k < n; k++ {
		// Move z[k-1] from Y to X.
		x := z[k-1]
		var toX, toY float64
		for j := 0; j < k-1; j++ {
			toX += math.Abs(x - z[j])
		}
		for j := k; j < n; j++ {
			toY += math.Abs(x - z[j])
		}
		withinX += toX
		withinY -= toY
		between += toY - toX
		if k < MinSegment || n-k < MinSegment {
			continue
		}
		m, r := float64(k), float64(n-k)
		within := withinX/(m*(m-1)/2) + withinY/(r*(r-1)/2)
		if q := m * r / (m + r) * (2*between/(m*r) - within); q > best {
			tau, best = k, q
		}
	}
	return tau, best
}

// permutationP is the share of permutations of z whose best split is at
// least q, counting the observed order as one of them.
func permutationP(z []float64, q float64, rng *rand.Rand) float64 {
	perm := append([]float64(nil), z...)
	atLeast := 0
	for range ChangePermutations {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if _, pq := bestSplit(perm); pq >= q {
			atLeast++
		}
	}
	return float64(atLeast+1) / float64(ChangePermutations+1)
}

// TrendAlarm is one reason a history's metric rose beyond a trend bar.
type TrendAlarm struct {
	// Drift is false for a confirmed change point whose rise exceeds the
	// bar, true for the drift since the history's first (anchor) run
	// across several change points, none of which alone exceeds it.
	Drift bool
	// Before is the last run before the shift (0, the anchor, for a
	// drift) and After the first run after it.
	Before, After int
	// Rise is the relative rise: 0.12 for +12%.
	Rise float64
	// PValue is the change point's (the latest one's, for a drift).
	PValue float64
}

// TrendAlarms judges a history (oldest first) against a trend bar (0.10
// for +10%) at significance alpha: an alarm for each confirmed change point
// that raises the median by more than the bar, and, when none does, one for
// the drift from the first segment (the one holding the anchor, the oldest
// run) to the last, when that exceeds it: creep in steps each below the
// bar. It also returns the change points found.
func TrendAlarms(values []float64, bar, alpha float64) ([]TrendAlarm, []ChangePoint) {
	cps := ChangePoints(values, alpha)
	var alarms []TrendAlarm
	for _, c := range cps {
		if rise := c.Ratio - 1; rise > bar {
			alarms = append(alarms, TrendAlarm{Before: c.Index - 1, After: c.Index, Rise: rise, PValue: c.PValue})
		}
	}
	if len(alarms) == 0 && len(cps) >= 2 {
		segs := Segments(len(values), cps)
		first, last := segs[0], segs[len(segs)-1]
		rise := median(values[last[0]:last[1]])/median(values[first[0]:first[1]]) - 1
		if rise > bar {
			alarms = append(alarms, TrendAlarm{Drift: true, Before: 0, After: last[0], Rise: rise, PValue: cps[len(cps)-1].PValue})
		}
	}
	return alarms, cps
}
