package stats

import (
	"math"
	"math/bits"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// bucket is one non-empty HdrHistogram bucket: every value it counts was
// recorded somewhere in [lo, hi], its lowest- and highest-equivalent values.
type bucket struct {
	lo, hi, count int64
}

// sparse is the non-empty buckets of a histogram in ascending value order.
// The statistics read histograms this way because the counts array of a
// nanosecond-range histogram has tens of thousands of mostly empty slots:
// merging, ranking and resampling then touch only the buckets with samples.
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
	counts := snap.Counts
	for i := 0; i < len(counts); i++ {
		// Most of a nanosecond histogram is empty: skip it a block at a time.
		if i%emptyBlock == 0 && i+emptyBlock <= len(counts) && *(*[emptyBlock]int64)(counts[i : i+emptyBlock]) == [emptyBlock]int64{} {
			i += emptyBlock - 1
			continue
		}
		c := counts[i]
		if c <= 0 {
			continue
		}
		lo, hi := bucketBounds(i, unitMagnitude, halfCountMagnitude)
		s.buckets = append(s.buckets, bucket{lo: lo, hi: hi, count: c})
		s.total = saturatingAdd(s.total, c)
	}
	return s
}

// readSparse reads the non-empty buckets of a dense or packed histogram; a
// nil one reads as empty.
func readSparse[H Histogram](h H) sparse {
	switch h := any(h).(type) {
	case *hdrhistogram.PackedHistogram:
		return sparseOfPacked(h)
	case *hdrhistogram.Histogram:
		return sparseOf(h)
	}
	return sparse{}
}

// sparseOfPacked is sparseOf of a packed histogram: its buckets are the
// populated ones already, in value order.
func sparseOfPacked(p *hdrhistogram.PackedHistogram) sparse {
	if p == nil || p.TotalCount() == 0 {
		return sparse{}
	}
	s := sparse{lowest: p.LowestTrackableValue(), digits: p.SignificantFigures(), buckets: make([]bucket, 0, p.Populated())}
	unitMagnitude, halfCountMagnitude := geometryMagnitudes(s.lowest, s.digits)
	for lo, c := range p.ForEachBucket {
		if c <= 0 {
			continue
		}
		s.buckets = append(s.buckets, bucket{lo: lo, hi: highestEquivalent(lo, unitMagnitude, halfCountMagnitude), count: c})
		s.total = saturatingAdd(s.total, c)
	}
	return s
}

// highestEquivalent is the highest value of the bucket whose lowest value
// is lo, in HdrHistogram's geometry: the bucket's width is the power of two
// of the bucket index, which the value's highest bit gives.
func highestEquivalent(lo int64, unitMagnitude, halfCountMagnitude uint) int64 {
	mask := uint64(1)<<(halfCountMagnitude+1) - 1
	bucketIdx := 64 - bits.LeadingZeros64(uint64(lo)|mask<<unitMagnitude) - int(unitMagnitude+halfCountMagnitude+1)
	shift := uint(bucketIdx) + unitMagnitude
	if shift >= 63 {
		return math.MaxInt64
	}
	hi := lo + (int64(1)<<shift - 1)
	if hi < lo {
		return math.MaxInt64
	}
	return hi
}

// emptyBlock is how many counts sparseOf checks for emptiness at once.
const emptyBlock = 256

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

// merge adds up histograms bucket by bucket, merging sorted bucket lists
// pairwise. Buckets of different geometries merge only when they cover
// exactly the same values; otherwise they stay apart, ordered by their lowest
// value, then their highest. The geometry of the result is the first
// non-empty part's.
func merge(parts []sparse) sparse {
	var level []sparse
	for _, p := range parts {
		if p.total > 0 {
			level = append(level, p)
		}
	}
	if len(level) == 0 {
		return sparse{}
	}
	for len(level) > 1 {
		next := level[:0:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
			} else {
				next = append(next, mergeTwo(level[i], level[i+1]))
			}
		}
		level = next
	}
	return level[0]
}

func mergeTwo(a, b sparse) sparse {
	out := sparse{
		buckets: make([]bucket, 0, len(a.buckets)+len(b.buckets)),
		total:   saturatingAdd(a.total, b.total),
		lowest:  a.lowest,
		digits:  a.digits,
	}
	i, j := 0, 0
	for i < len(a.buckets) || j < len(b.buckets) {
		var order int
		switch {
		case i == len(a.buckets):
			order = 1
		case j == len(b.buckets):
			order = -1
		default:
			order = compareBuckets(a.buckets[i], b.buckets[j])
		}
		switch {
		case order < 0:
			out.buckets = append(out.buckets, a.buckets[i])
			i++
		case order > 0:
			out.buckets = append(out.buckets, b.buckets[j])
			j++
		default:
			sum := a.buckets[i]
			sum.count = saturatingAdd(sum.count, b.buckets[j].count)
			out.buckets = append(out.buckets, sum)
			i++
			j++
		}
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

// Bucket is one non-empty bucket of a histogram: Count values were recorded
// somewhere in [Lo, Hi], its lowest- and highest-equivalent values (the From
// and To of HdrHistogram's Distribution bars).
type Bucket struct {
	Lo, Hi, Count int64
}

// Buckets returns the non-empty buckets of h in ascending value order: the
// bars of h.Distribution() that hold a count, read without visiting every
// slot through HdrHistogram's iterator and allocating a bar for each (a
// nanosecond histogram has tens of thousands). The first bucket's Lo is
// h.Min() and the last one's Hi is h.Max(). A nil or empty histogram has
// none.
func Buckets[H Histogram](h H) []Bucket {
	s := readSparse(h)
	out := make([]Bucket, len(s.buckets))
	for i, b := range s.buckets {
		out[i] = Bucket{Lo: b.lo, Hi: b.hi, Count: b.count}
	}
	return out
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
