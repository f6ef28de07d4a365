package stats

import (
	"math"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// bucket is one non-empty HdrHistogram bucket: every value it counts was
// recorded somewhere in [lo, hi], its lowest- and highest-equivalent values.
type bucket struct {
	lo, hi, count int64
	// slot is the bucket's index in the histogram's counts array, which
	// identifies it among the buckets of histograms of the same geometry.
	slot int
}

// sparse is the non-empty buckets of a histogram in ascending value order.
// The statistics read histograms this way because a full counts array of a
// nanosecond-range histogram has tens of thousands of mostly empty slots, and
// the bootstrap reads every histogram thousands of times.
type sparse struct {
	buckets []bucket
	total   int64
	// lowest and digits identify the bucket geometry, to warn when histograms
	// of different precision are compared.
	lowest, digits int64
}

// sparseOf reads the non-empty buckets of h; a nil histogram reads as empty.
func sparseOf(h *hdrhistogram.Histogram) sparse {
	if h == nil || h.TotalCount() == 0 {
		return sparse{}
	}
	snap := h.Export()
	s := sparse{lowest: snap.LowestTrackableValue, digits: snap.SignificantFigures}
	unitMagnitude, halfCountMagnitude := geometryMagnitudes(snap.LowestTrackableValue, snap.SignificantFigures)
	for i, c := range snap.Counts {
		if c <= 0 {
			continue
		}
		lo, hi := bucketBounds(i, unitMagnitude, halfCountMagnitude)
		s.buckets = append(s.buckets, bucket{lo: lo, hi: hi, count: c, slot: i})
		s.total = saturatingAdd(s.total, c)
	}
	return s
}

// geometryMagnitudes repeats HdrHistogram's own geometry computation (it is
// part of the cross-language encoding, so it does not change): the power of
// two of the unit and of half the sub-bucket count.
func geometryMagnitudes(lowest, digits int64) (unitMagnitude, halfCountMagnitude uint) {
	lowest = max(lowest, 1)
	digits = min(max(digits, 0), 5)
	largestWithUnitResolution := 2 * math.Pow10(int(digits))
	countMagnitude := int(math.Ceil(math.Log2(largestWithUnitResolution)))
	halfCountMagnitude = uint(max(countMagnitude, 1) - 1)
	unitMagnitude = uint(max(int(math.Floor(math.Log2(float64(lowest)))), 0))
	return unitMagnitude, halfCountMagnitude
}

// bucketBounds returns the lowest- and highest-equivalent values of the
// counts-array slot idx.
func bucketBounds(idx int, unitMagnitude, halfCountMagnitude uint) (lo, hi int64) {
	half := 1 << halfCountMagnitude
	bucketIdx := idx>>halfCountMagnitude - 1
	subBucketIdx := idx&(half-1) + half
	if bucketIdx < 0 {
		subBucketIdx -= half
		bucketIdx = 0
	}
	shift := uint(bucketIdx) + unitMagnitude
	if shift >= 63 {
		return math.MaxInt64, math.MaxInt64
	}
	lo = int64(subBucketIdx) << shift
	hi = lo + (int64(1)<<shift - 1)
	if hi < lo {
		hi = math.MaxInt64
	}
	return lo, hi
}

func saturatingAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// at returns the bucket holding the value of the given rank, the bucket where
// the cumulative count first reaches rank; ranks are clamped to [1, total].
// It must not be called on an empty histogram.
func (s sparse) at(rank int64) bucket {
	rank = min(max(rank, 1), s.total)
	var cumulative int64
	for _, b := range s.buckets {
		cumulative += b.count
		if cumulative >= rank {
			return b
		}
	}
	return s.buckets[len(s.buckets)-1]
}

// merge adds up histograms bucket by bucket. Buckets of differing geometries
// are kept apart and ordered by their lowest value, then their highest.
func merge(parts []sparse) sparse {
	var out sparse
	maxSlot := -1
	for _, p := range parts {
		n := len(p.buckets)
		if n == 0 {
			continue
		}
		if maxSlot < 0 {
			out.lowest, out.digits = p.lowest, p.digits
		}
		if p.lowest == mixedGeometry || p.lowest != out.lowest || p.digits != out.digits {
			return mergeMixed(parts)
		}
		maxSlot = max(maxSlot, p.buckets[n-1].slot)
	}
	if maxSlot < 0 {
		return out
	}
	// One geometry: add the counts slot by slot, like HdrHistogram's Merge.
	counts := make([]int64, maxSlot+1)
	for _, p := range parts {
		for _, b := range p.buckets {
			counts[b.slot] = saturatingAdd(counts[b.slot], b.count)
		}
	}
	unitMagnitude, halfCountMagnitude := geometryMagnitudes(out.lowest, out.digits)
	for slot, c := range counts {
		if c > 0 {
			lo, hi := bucketBounds(slot, unitMagnitude, halfCountMagnitude)
			out.buckets = append(out.buckets, bucket{lo: lo, hi: hi, count: c, slot: slot})
			out.total = saturatingAdd(out.total, c)
		}
	}
	return out
}

// mixedGeometry is the lowest value of a merge of histograms of different
// geometries, whose slots only number its own buckets.
const mixedGeometry = -1

// mergeMixed is merge for histograms of different geometries: buckets merge
// only when they cover exactly the same values.
func mergeMixed(parts []sparse) sparse {
	var all []bucket
	for _, p := range parts {
		all = append(all, p.buckets...)
	}
	slices.SortFunc(all, compareBuckets)
	out := sparse{lowest: mixedGeometry, digits: mixedGeometry}
	for _, b := range all {
		n := len(out.buckets)
		if n > 0 && out.buckets[n-1].lo == b.lo && out.buckets[n-1].hi == b.hi {
			out.buckets[n-1].count = saturatingAdd(out.buckets[n-1].count, b.count)
		} else {
			b.slot = n
			out.buckets = append(out.buckets, b)
		}
		out.total = saturatingAdd(out.total, b.count)
	}
	return out
}

func compareBuckets(a, b bucket) int {
	switch {
	case a.lo != b.lo:
		if a.lo < b.lo {
			return -1
		}
		return 1
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	}
	return 0
}

// ValueAtRank returns the value of the given rank in h: the highest value
// equivalent (at the histogram's precision) to the recorded value at which the
// cumulative count, counted from the smallest value, first reaches rank.
// Ranks start at 1 and are clamped to [1, h.TotalCount()]; an empty or nil
// histogram has no values and gives 0. Like HdrHistogram's ValueAtQuantile it
// reports the highest equivalent value, so it never understates a latency.
func ValueAtRank(h *hdrhistogram.Histogram, rank int64) int64 {
	s := sparseOf(h)
	if s.total == 0 {
		return 0
	}
	return s.at(rank).hi
}

// quantileRank is the rank of the q-quantile of n samples, ceil(q*n) clamped
// to [1, n]: the smallest sample with at least a fraction q of the samples at
// or below it. A product within rounding error above an integer counts as
// that integer, so 0.07*100 gives rank 7, not 8.
func quantileRank(q float64, n int64) int64 {
	return min(max(ceilTolerant(q*float64(n)), 1), n)
}

// ceilTolerant is math.Ceil forgiving the few ulps of error a product of a
// decimal fraction picks up.
func ceilTolerant(x float64) int64 {
	if math.IsNaN(x) || x <= 0 {
		return 0
	}
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	floor := math.Floor(x)
	if x-floor <= 1e-12*x {
		return int64(floor)
	}
	return int64(floor) + 1
}
