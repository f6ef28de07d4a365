package stats

import hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

// Intervals is a run's interval histograms read for the comparisons.
// Reading a dense histogram walks all its counts (tens of thousands of
// slots for a nanosecond histogram, copied out of it first), a packed one
// its populated buckets; either costs more than comparing the few hundred
// buckets once read: a caller that compares
// several quantiles of the same histograms, as the gate does for p50, p99
// and p99.9 of one operation, reads them once with ReadIntervals and
// compares with Compare and ComparePaired. The histograms may be reused once
// read.
type Intervals struct {
	parts []sparse // the intervals that hold samples
}

// Histogram is an HdrHistogram, dense or packed. A packed one reads in time
// proportional to its populated buckets, a dense one to its range.
type Histogram interface {
	*hdrhistogram.Histogram | *hdrhistogram.PackedHistogram
}

// ReadIntervals reads a run's interval histograms; empty and nil histograms
// hold no samples and are left out, as CompareQuantile leaves them out.
func ReadIntervals[H Histogram](hs []H) Intervals {
	return Intervals{parts: nonEmpty(hs)}
}

// Samples is how many samples the intervals hold.
func (iv Intervals) Samples() int64 {
	var n int64
	for _, p := range iv.parts {
		n = saturatingAdd(n, p.total)
	}
	return n
}

// Compare is CompareQuantile of histograms already read: base's intervals
// against cand's.
func (iv Intervals) Compare(cand Intervals, q, confidence float64) Comparison {
	return compareIntervals(iv.parts, cand.parts, q, confidence, defaultSettings)
}

// ComparePaired is ComparePairedQuantile of histograms already read: base[k]
// and cand[k] are segment k of each side of an interleaved run.
func ComparePaired(base, cand []Intervals, q, confidence float64) Comparison {
	return comparePaired(mergeSegments(base), mergeSegments(cand), q, confidence, defaultSettings)
}

// mergeSegments merges each segment's intervals into one.
func mergeSegments(segments []Intervals) []sparse {
	out := make([]sparse, len(segments))
	for k, seg := range segments {
		out[k] = merge(seg.parts)
	}
	return out
}
