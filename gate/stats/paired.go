package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// MethodPaired compares the segments of an interleaved run pair by pair:
// segment k of the candidate ran next to segment k of the baseline, so
// whatever slowed the machine then slowed both. The sign-flip permutation
// test of the per-pair log ratios of the segments' quantiles gives the
// p-value, and a bootstrap that resamples whole pairs, the same pairs on
// both sides, bounds the ratio of the whole-run quantiles.
const MethodPaired Method = "paired"

// MinPairs is how many segment pairs of an interleaved run must each hold
// enough samples on both sides to estimate the quantile before
// ComparePairedQuantile compares them pair by pair; with fewer it compares
// the sides' intervals as CompareQuantile does.
const MinPairs = 8

// exactSignFlips is the largest number of pairs whose sign-flip test
// enumerates every assignment of signs (2^16); beyond it the test draws
// signFlipDraws random assignments with a fixed seed.
const (
	exactSignFlips = 16
	signFlipDraws  = 20_000
)

// ComparePairedQuantile compares the q-quantile of a candidate with that of a
// baseline measured interleaved with it (A B B A ...): base[k] and cand[k]
// are the interval histograms of segment k of each side, and the two
// segments ran back to back. When at least MinPairs pairs hold enough
// samples on both sides to estimate the quantile (ceil(1/(1-q)) samples),
// it uses MethodPaired; otherwise it compares all intervals of each side as
// CompareQuantile does.
//
// Pairing is where interleaving pays: a noisy machine moves the latencies of
// both segments of a pair together, which an unpaired comparison counts as
// variance and a paired one cancels. The bootstrap's interval is the
// expanded percentile interval for k pairs (a t quantile with k-1 degrees
// of freedom, see expandedTail).
func ComparePairedQuantile[H Histogram](base, cand [][]H, q, confidence float64) Comparison {
	return ComparePaired(readSegments(base), readSegments(cand), q, confidence)
}

// readSegments reads each segment's intervals.
func readSegments[H Histogram](segments [][]H) []Intervals {
	out := make([]Intervals, len(segments))
	for k, seg := range segments {
		out[k] = ReadIntervals(seg)
	}
	return out
}

// comparePaired is ComparePairedQuantile on segments already merged.
func comparePaired(base, cand []sparse, q, confidence float64, set settings) Comparison {
	// Only pairs with samples on both sides are pairs.
	var pb, pc []sparse
	for k := range min(len(base), len(cand)) {
		if base[k].total > 0 && cand[k].total > 0 {
			pb, pc = append(pb, base[k]), append(pc, cand[k])
		}
	}
	need := ceilTolerant(1 / (1 - q))
	var logRatios []float64
	for k := range pb {
		if pb[k].total >= need && pc[k].total >= need {
			b := float64(pb[k].at(quantileRank(q, pb[k].total)).hi)
			c := float64(pc[k].at(quantileRank(q, pc[k].total)).hi)
			logRatios = append(logRatios, math.Log(max(c, 1)/max(b, 1)))
		}
	}
	valid := q > 0 && q < 1 && confidence > 0 && confidence < 1
	if !valid || len(logRatios) < MinPairs {
		// Not enough pairs: compare the sides unpaired, every segment an
		// interval.
		return compareIntervals(nonEmptySparse(base), nonEmptySparse(cand), q, confidence, set)
	}
	c := Comparison{
		Quantile:   q,
		Confidence: confidence,
		Method:     MethodPaired,
		NBase:      len(logRatios),
		NCand:      len(logRatios),
	}
	if mixedPrecision(pb, pc) {
		c.Warnings = append(c.Warnings, fmt.Errorf("%w: the baseline and candidate histograms do not all have the same lowest value and significant digits", ErrMixedPrecision))
	}
	if skipped := len(pb) - len(logRatios); skipped > 0 {
		c.Warnings = append(c.Warnings, fmt.Errorf("%w: %d of %d segment pairs hold fewer than the %d samples needed to estimate %s on their own and were left out of the sign-flip test",
			ErrSkippedIntervals, skipped, len(pb), need, quantileName(q)))
	}
	baseAll, candAll := merge(pb), merge(pc)
	c.BaseSamples, c.CandSamples = baseAll.total, candAll.total
	c.BaseEstimate = baseAll.at(quantileRank(q, baseAll.total)).hi
	c.CandEstimate = candAll.at(quantileRank(q, candAll.total)).hi
	c.Ratio = Ratio(c.CandEstimate, c.BaseEstimate)
	c.PValue = signFlipTest(logRatios, set.seed)
	c.RatioLo, c.RatioHi = pairedBootstrapRatio(pb, pc, baseAll, candAll, q, confidence, set)
	c.Significant = c.PValue < 1-confidence
	return c
}

// nonEmptySparse drops empty segments.
func nonEmptySparse(in []sparse) []sparse {
	out := make([]sparse, 0, len(in))
	for _, s := range in {
		if s.total > 0 {
			out = append(out, s)
		}
	}
	return out
}

// pairedBootstrapRatio is bootstrapRatio with the pairs kept together: each
// resample draws pair indices with replacement and weighs both sides'
// segments alike. Beyond maxClusters pairs, consecutive pairs are grouped
// the same way on both sides.
func pairedBootstrapRatio(base, cand []sparse, baseAll, candAll sparse, q, confidence float64, set settings) (lo, hi float64) {
	rng := rand.NewPCG(set.seed, set.seed^0x9e3779b97f4a7c15)
	base, cand = clusters(base), clusters(cand)
	baseSide, candSide := newResampler(base, baseAll, q), newResampler(cand, candAll, q)
	ratios := make([]float64, set.resamples)
	var weights [maxClusters]int64
	for i := range ratios {
		drawWeights(rng, len(base), &weights)
		ratios[i] = Ratio(candSide.quantile(&weights, q), baseSide.quantile(&weights, q))
	}
	slices.Sort(ratios)
	tail := (1 - confidence) / 2
	if set.expand {
		tail = expandedTailPaired(tail, len(base))
	}
	last := float64(len(ratios) - 1)
	return ratios[int(math.Floor(tail*last))], ratios[int(math.Ceil((1-tail)*last))]
}

// expandedTailPaired is expandedTail for k pairs: the variance of a mean of
// k paired differences is estimated from k-1 degrees of freedom.
func expandedTailPaired(tail float64, k int) float64 {
	if k < 2 {
		return tail
	}
	kf := float64(k)
	return normalSurvival(math.Sqrt(kf/(kf-1)) * studentQuantile(1-tail, kf-1))
}

// extremeSignings counts the assignments of signs to abs whose sum is at
// least limit in absolute value, of all 2^len(abs). Every sum is a sum of
// the first half's signed values plus a sum of the second half's, so it
// lists the 2^(n/2) sums of each half, sorts the second's, and for each sum
// a of the first counts the sums b with a+b >= limit or a+b <= -limit by
// binary search, which floating-point addition allows: a+b is monotone in
// b. That is O(2^(n/2) n) rather than the O(2^n n) of summing every
// assignment, for the same counts.
func extremeSignings(abs []float64, limit float64) uint64 {
	n := len(abs)
	if limit <= 0 {
		return uint64(1) << uint(n) // every sum is at least 0
	}
	first, second := halfSums(abs[:n/2]), halfSums(abs[n/2:])
	slices.Sort(second)
	var extreme uint64
	for _, a := range first {
		atLeast, _ := slices.BinarySearchFunc(second, limit, func(b, limit float64) int {
			if a+b >= limit {
				return 1
			}
			return -1
		})
		atMost, _ := slices.BinarySearchFunc(second, -limit, func(b, negLimit float64) int {
			if a+b > negLimit {
				return 1
			}
			return -1
		})
		extreme += uint64(len(second)-atLeast) + uint64(atMost)
	}
	return extreme
}

// halfSums lists the sums of abs under every assignment of signs.
func halfSums(abs []float64) []float64 {
	sums := make([]float64, 1<<uint(len(abs)))
	for signs := range sums {
		var s float64
		for i, a := range abs {
			if signs>>uint(i)&1 == 1 {
				s -= a
			} else {
				s += a
			}
		}
		sums[signs] = s
	}
	return sums
}

// signFlipTest is the two-sided p-value of the sign-flip permutation test
// of whether paired differences d are centred on zero: under the null each
// difference is as likely negative as positive, so the sum of the observed
// differences is compared with the sums under every assignment of signs
// (or signFlipDraws random ones beyond exactSignFlips pairs, with the given
// seed). It assumes only that each difference is symmetric about zero under
// the null.
func signFlipTest(d []float64, seed uint64) float64 {
	n := len(d)
	if n == 0 {
		return 1
	}
	abs := make([]float64, n)
	var observed float64
	for i, v := range d {
		abs[i] = math.Abs(v)
		observed += v
	}
	// Sums as large as the observed one, give or take rounding.
	limit := math.Abs(observed) * (1 - 1e-9)
	if n <= exactSignFlips {
		return float64(extremeSignings(abs, limit)) / float64(uint64(1)<<uint(n))
	}
	rng := rand.NewPCG(seed, seed^0x51f1_5eed)
	extreme := 1 // the observed assignment counts (Phipson and Smyth)
	for range signFlipDraws {
		var s float64
		for i := 0; i < n; i += 64 {
			word := rng.Uint64()
			for j := i; j < min(n, i+64); j++ {
				if word>>uint(j-i)&1 == 1 {
					s -= abs[j]
				} else {
					s += abs[j]
				}
			}
		}
		if math.Abs(s) >= limit {
			extreme++
		}
	}
	return float64(extreme) / float64(signFlipDraws+1)
}
