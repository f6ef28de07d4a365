package stats

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Defaults of CompareQuantile. The calibration behind them is in the package
// documentation and reproducible with TestCalibration.
const (
	// DefaultConfidence is the confidence level the gate should pass to
	// CompareQuantile. At 90% two-sided, RegressionVerdict fails a candidate
	// only when a regression beyond the tolerance is established at 95%
	// one-sided confidence.
	DefaultConfidence = 0.90

	// MinIntervals is how many intervals on each side must hold enough
	// samples to estimate the quantile before CompareQuantile compares
	// per-interval quantiles; with fewer it compares the pooled samples.
	// Below about 8 a side, resampling intervals says little about the
	// variance (the expanded interval's t has 2*(k-1) degrees of freedom),
	// while a 10 s run at 1 s intervals still qualifies with two partial or
	// sparse intervals.
	MinIntervals = 8

	// BootstrapResamples is the number of bootstrap resamples behind the
	// ratio interval of MethodIntervals.
	BootstrapResamples = 2000

	// BootstrapSeed seeds the bootstrap, so the same histograms always give
	// the same Comparison.
	BootstrapSeed = 0x7a11_9a7e

	// maxClusters bounds the clusters the bootstrap resamples: longer runs
	// have consecutive intervals grouped, which keeps memory flat for any
	// soak length.
	maxClusters = 64
)

// Sentinel errors found (with errors.Is) in Comparison.Warnings.
var (
	// ErrNotEnoughSamples means a side has too few samples for a confidence
	// interval of the quantile at the requested confidence: the comparison
	// says nothing, and a gate must not read it as a pass.
	ErrNotEnoughSamples = errors.New("not enough samples")

	// ErrPooled means too few intervals could estimate the quantile on their
	// own, so the comparison used the pooled samples of each side.
	ErrPooled = errors.New("compared pooled samples")

	// ErrSkippedIntervals means some intervals held too few samples to
	// estimate the quantile and were left out of the U test (they still count
	// in the estimates and the ratio interval).
	ErrSkippedIntervals = errors.New("intervals skipped")

	// ErrMixedPrecision means the histograms do not all share one bucket
	// geometry, so quantiles are only as precise as the coarsest of them.
	ErrMixedPrecision = errors.New("histograms of different precision")

	// ErrInvalidArgument means the quantile or the confidence is outside
	// (0, 1).
	ErrInvalidArgument = errors.New("invalid argument")
)

// Method names how a Comparison was made.
type Method string

const (
	// MethodIntervals compares the per-interval quantiles of each side with
	// the Mann-Whitney U test, and bounds the ratio of the whole-run
	// quantiles with a bootstrap that resamples intervals.
	MethodIntervals Method = "intervals"

	// MethodPooled compares the pooled samples: a two-sample quantile test
	// for the p-value, and the order-statistic confidence intervals of the
	// two sides combined for the ratio interval.
	MethodPooled Method = "pooled"

	// MethodNone means there was nothing to compare: no samples on a side,
	// or an invalid quantile or confidence.
	MethodNone Method = "none"
)

// Comparison is the outcome of comparing one quantile of a candidate run
// with the same quantile of a baseline run. It is a value to report, not a
// decision; RegressionVerdict turns it into one.
type Comparison struct {
	// Quantile is the compared quantile in (0, 1), e.g. 0.99.
	Quantile float64
	// Confidence is the confidence level of the ratio interval; the
	// difference is Significant when PValue < 1-Confidence.
	Confidence float64
	// Method says which of the two methods produced the comparison.
	Method Method

	// BaseEstimate and CandEstimate are the quantiles of the whole runs (all
	// intervals merged), as ValueAtRank reads them; 0 for an empty side.
	BaseEstimate, CandEstimate int64
	// Ratio is CandEstimate/BaseEstimate: 1.2 means the candidate is 20%
	// slower at this quantile.
	Ratio float64
	// RatioLo and RatioHi bound Ratio at the Confidence level. They are NaN
	// when there are not enough samples for an interval (see HasInterval).
	RatioLo, RatioHi float64

	// PValue is the two-sided p-value of the test for a shift of the
	// quantile; 1 when no test could be made.
	PValue float64
	// Significant is PValue < 1-Confidence: the quantile moved.
	Significant bool

	// NBase and NCand count the intervals used: with MethodIntervals those
	// holding enough samples to estimate the quantile (the U test's sample
	// sizes), with MethodPaired the segment pairs the sign-flip test used,
	// otherwise the non-empty intervals.
	NBase, NCand int
	// BaseSamples and CandSamples count the recorded samples of each side.
	BaseSamples, CandSamples int64

	// Warnings explain anything that weakens the comparison; match them with
	// errors.Is against the Err sentinels.
	Warnings []error
}

// HasInterval reports whether the comparison has a ratio and a confidence
// interval for it. Without one, it carries no evidence either way.
func (c Comparison) HasInterval() bool {
	return !math.IsNaN(c.Ratio) && !math.IsNaN(c.RatioLo) && !math.IsNaN(c.RatioHi)
}

// settings are the tunables of compareQuantile; the calibration test varies
// them, CompareQuantile uses defaultSettings.
type settings struct {
	minIntervals int
	resamples    int
	seed         uint64
	// expand widens the percentile interval for the few clusters it
	// resamples (see expandedTail).
	expand bool
}

var defaultSettings = settings{
	minIntervals: MinIntervals,
	resamples:    BootstrapResamples,
	seed:         BootstrapSeed,
	expand:       true,
}

// CompareQuantile compares the q-quantile (e.g. 0.99) of a candidate run with
// that of a baseline run, each given as its per-interval histograms (one per
// second or so, in time order; nil and empty ones are ignored).
//
// When at least MinIntervals intervals of each side hold enough samples to
// estimate the quantile on their own (ceil(1/(1-q)) samples: 100 for p99),
// it uses MethodIntervals: the Mann-Whitney U test of the per-interval
// quantiles gives the p-value, and a bootstrap gives the ratio interval:
// BootstrapResamples times, each side's intervals are resampled with
// replacement and merged, and the ratio of the merged quantiles is taken;
// the interval is the expanded percentile interval of those ratios.
// Resampling whole intervals keeps the correlation of the latencies within a
// second (a stall, a GC pause) in the resamples. Otherwise, as for p99.9
// below 1,000 operations per second or p99.99 below 10,000, it uses
// MethodPooled: Fisher's exact test of how many samples of each side lie
// beyond the pooled quantile gives the p-value, and the order-statistic
// intervals of the two sides (QuantileCI), each at confidence
// sqrt(confidence), give the ratio interval [candLo/baseHi, candHi/baseLo].
// Both sides' intervals cover their true quantiles together with probability
// at least confidence, so this interval is conservative.
//
// The result is deterministic: the bootstrap uses a fixed seed.
func CompareQuantile[H Histogram](base, cand []H, q, confidence float64) Comparison {
	return ReadIntervals(base).Compare(ReadIntervals(cand), q, confidence)
}

// compareIntervals is CompareQuantile on the non-empty intervals of each
// side, already read.
func compareIntervals(baseIntervals, candIntervals []sparse, q, confidence float64, set settings) Comparison {
	c := Comparison{
		Quantile:   q,
		Confidence: confidence,
		Method:     MethodNone,
		Ratio:      math.NaN(),
		RatioLo:    math.NaN(),
		RatioHi:    math.NaN(),
		PValue:     1,
	}
	if !(q > 0 && q < 1) || !(confidence > 0 && confidence < 1) {
		c.Warnings = append(c.Warnings, fmt.Errorf("%w: quantile %v and confidence %v must both be in (0, 1)", ErrInvalidArgument, q, confidence))
		return c
	}
	if mixedPrecision(baseIntervals, candIntervals) {
		c.Warnings = append(c.Warnings, fmt.Errorf("%w: the baseline and candidate histograms do not all have the same lowest value and significant digits", ErrMixedPrecision))
	}
	baseAll, candAll := merge(baseIntervals), merge(candIntervals)
	c.BaseSamples, c.CandSamples = baseAll.total, candAll.total
	c.NBase, c.NCand = len(baseIntervals), len(candIntervals)
	if baseAll.total == 0 || candAll.total == 0 {
		c.Warnings = append(c.Warnings, fmt.Errorf("%w: %d baseline and %d candidate samples", ErrNotEnoughSamples, baseAll.total, candAll.total))
		return c
	}
	c.BaseEstimate = baseAll.at(quantileRank(q, baseAll.total)).hi
	c.CandEstimate = candAll.at(quantileRank(q, candAll.total)).hi
	c.Ratio = Ratio(c.CandEstimate, c.BaseEstimate)

	need := ceilTolerant(1 / (1 - q))
	baseQuantiles := intervalQuantiles(baseIntervals, q, need)
	candQuantiles := intervalQuantiles(candIntervals, q, need)
	if len(baseQuantiles) >= set.minIntervals && len(candQuantiles) >= set.minIntervals {
		c.Method = MethodIntervals
		if skipped := len(baseIntervals) + len(candIntervals) - len(baseQuantiles) - len(candQuantiles); skipped > 0 {
			c.Warnings = append(c.Warnings, fmt.Errorf("%w: %d of %d intervals hold fewer than the %d samples needed to estimate %s on their own and were left out of the U test",
				ErrSkippedIntervals, skipped, len(baseIntervals)+len(candIntervals), need, quantileName(q)))
		}
		c.NBase, c.NCand = len(baseQuantiles), len(candQuantiles)
		_, c.PValue = MannWhitney(candQuantiles, baseQuantiles)
		c.RatioLo, c.RatioHi = bootstrapRatio(baseIntervals, candIntervals, baseAll, candAll, q, confidence, set)
	} else {
		c.Method = MethodPooled
		c.Warnings = append(c.Warnings, fmt.Errorf("%w: only %d baseline and %d candidate intervals hold the %d samples needed to estimate %s on their own (want %d each)",
			ErrPooled, len(baseQuantiles), len(candQuantiles), need, quantileName(q), set.minIntervals))
		c.PValue = pooledQuantileTest(baseAll, candAll, q)
		c.RatioLo, c.RatioHi = pooledRatio(baseAll, candAll, q, confidence)
		if math.IsNaN(c.RatioLo) {
			c.Warnings = append(c.Warnings, fmt.Errorf("%w: %d baseline and %d candidate samples are too few for a %.4g%% confidence interval of %s",
				ErrNotEnoughSamples, baseAll.total, candAll.total, 100*confidence, quantileName(q)))
		}
	}
	c.Significant = c.PValue < 1-confidence
	return c
}

// nonEmpty reads the histograms that hold samples.
func nonEmpty[H Histogram](hs []H) []sparse {
	out := make([]sparse, 0, len(hs))
	for _, h := range hs {
		if s := readSparse(h); s.total > 0 {
			out = append(out, s)
		}
	}
	return out
}

func mixedPrecision(groups ...[]sparse) bool {
	var first *sparse
	for _, g := range groups {
		for i := range g {
			if first == nil {
				first = &g[i]
			} else if g[i].lowest != first.lowest || g[i].digits != first.digits {
				return true
			}
		}
	}
	return false
}

// intervalQuantiles returns the q-quantiles of the intervals holding at least
// need samples.
func intervalQuantiles(intervals []sparse, q float64, need int64) []float64 {
	var out []float64
	for _, s := range intervals {
		if s.total >= need {
			out = append(out, float64(s.at(quantileRank(q, s.total)).hi))
		}
	}
	return out
}

// Ratio is a/b as a change from b to a: 0/0 reads as no change (1) and a/0
// as an infinite one. Every ratio the gate reports, of latencies, rates or
// counts, goes through it, so that a side with nothing measured reads the
// same everywhere.
func Ratio[T int64 | float64](a, b T) float64 {
	switch {
	case b != 0:
		return float64(a) / float64(b)
	case a == 0:
		return 1
	}
	return math.Inf(1)
}

func quantileName(q float64) string {
	return "p" + strconv.FormatFloat(math.Round(q*100*1e6)/1e6, 'f', -1, 64)
}

// pooledRatio combines the order-statistic intervals of both sides, each at
// confidence sqrt(confidence): the samples of the two runs are independent,
// so both intervals cover together with probability at least confidence, and
// then the ratio lies in [candLo/baseHi, candHi/baseLo]. NaN when a side has
// too few samples.
func pooledRatio(base, cand sparse, q, confidence float64) (lo, hi float64) {
	each := math.Sqrt(confidence)
	baseLo, _, baseHi, okBase := base.quantileCI(q, each)
	candLo, _, candHi, okCand := cand.quantileCI(q, each)
	if !okBase || !okCand {
		return math.NaN(), math.NaN()
	}
	return Ratio(candLo, baseHi), Ratio(candHi, baseLo)
}

// pooledQuantileTest is the two-sided p-value of the two-sample quantile test
// (Mood's median test generalised to any quantile): the pooled samples'
// q-quantile splits each side into samples at or below it and above it, and
// a test of two proportions asks whether the sides split alike. Samples in
// the bucket of the pooled quantile count as at or below it.
func pooledQuantileTest(base, cand sparse, q float64) float64 {
	pooled := merge([]sparse{base, cand})
	split := pooled.at(quantileRank(q, pooled.total))
	atOrBelow := func(s sparse) int64 {
		var n int64
		for _, b := range s.buckets {
			if compareBuckets(b, split) > 0 {
				break
			}
			n += b.count
		}
		return n
	}
	return twoProportionTest(atOrBelow(base), base.total, atOrBelow(cand), cand.total)
}

// fisherMaxTerms is the largest count in the smaller column of a 2x2 table
// for which twoProportionTest sums Fisher's exact test; beyond it the normal
// approximation is accurate.
const fisherMaxTerms = 10_000

// twoProportionTest is the two-sided p-value of the test of whether k1
// successes in n1 trials and k2 in n2 share one success probability. It is
// Fisher's exact test: given the k1+k2 successes, k1 is hypergeometric, and
// p sums the probabilities of the tables no more likely than the observed
// one. The normal approximation (a two-proportion z-test) is far too liberal
// with the few samples beyond a high quantile: in simulations of p99.9 from
// 4,500 samples a side it called 22% of A/A pairs different at the 10%
// level. When the smaller column holds more than fisherMaxTerms, the z-test
// is accurate and used.
func twoProportionTest(k1, n1, k2, n2 int64) float64 {
	n := n1 + n2
	m, x := k1+k2, k1
	if m > n-m {
		// Count failures instead: the sum runs over the smaller column.
		m, x = n-m, n1-k1
	}
	if m == 0 || n1 == 0 || n2 == 0 {
		return 1
	}
	if m > fisherMaxTerms {
		f1, f2 := float64(k1), float64(k2)
		share := (f1 + f2) / float64(n)
		z := math.Abs(f1/float64(n1)-f2/float64(n2)) / math.Sqrt(share*(1-share)*(1/float64(n1)+1/float64(n2)))
		return min(1, 2*normalSurvival(z))
	}
	logPmf := func(i int64) float64 {
		return logChoose(n1, i) + logChoose(n2, m-i) - logChoose(n, m)
	}
	observed := logPmf(x)
	var p float64
	for i := max(0, m-n2); i <= min(m, n1); i++ {
		// The tolerance keeps tables exactly as likely as the observed one
		// in, despite rounding.
		if lp := logPmf(i); lp <= observed+1e-7 {
			p += math.Exp(lp)
		}
	}
	return min(1, p)
}

// logChoose is the logarithm of the binomial coefficient (n choose k).
func logChoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n) + 1)
	b, _ := math.Lgamma(float64(k) + 1)
	c, _ := math.Lgamma(float64(n-k) + 1)
	return a - b - c
}

// bootstrapRatio is the percentile bootstrap interval of the ratio of the
// candidate's to the baseline's q-quantile, resampling each side's intervals
// (grouped into at most maxClusters clusters of consecutive intervals) with
// replacement; with set.expand, it is the expanded percentile interval.
func bootstrapRatio(base, cand []sparse, baseAll, candAll sparse, q, confidence float64, set settings) (lo, hi float64) {
	rng := rand.NewPCG(set.seed, set.seed^0x9e3779b97f4a7c15)
	baseSide, candSide := newResampler(clusters(base), baseAll, q), newResampler(clusters(cand), candAll, q)
	ratios := make([]float64, set.resamples)
	for i := range ratios {
		ratios[i] = Ratio(candSide.resample(rng, q), baseSide.resample(rng, q))
	}
	slices.Sort(ratios)
	tail := (1 - confidence) / 2
	if set.expand {
		tail = expandedTail(tail, baseSide.clusters, candSide.clusters)
	}
	last := float64(len(ratios) - 1)
	return ratios[int(math.Floor(tail*last))], ratios[int(math.Ceil((1-tail)*last))]
}

// expandedTail is the tail probability of the expanded percentile interval
// (Hesterberg, "What teachers should know about the bootstrap", 2015) for
// two sides of kb and kc clusters. The plain percentile interval is too
// narrow for a handful of clusters, as a z interval is next to a t interval
// with an estimated variance: the bootstrap variance of a mean of k clusters
// is (k-1)/k of the true one, and the variance itself is estimated from
// kb+kc-2 degrees of freedom. So the interval reaches out to the percentiles
// at which a normal variable is sqrt(k/(k-1)) * t(kb+kc-2) out, k the
// smaller side. Simulations (TestCalibration) bring the coverage of a
// nominal 90% interval from about 87% to 90%.
func expandedTail(tail float64, kb, kc int) float64 {
	k := float64(min(kb, kc))
	if k < 2 {
		return tail
	}
	z := math.Sqrt(k/(k-1)) * studentQuantile(1-tail, float64(kb+kc-2))
	return normalSurvival(z)
}

// studentQuantile is the p-quantile of Student's t distribution with df
// degrees of freedom, from the Cornish-Fisher expansion around the normal
// quantile (Abramowitz and Stegun 26.7.5): within 1e-3 of the exact value
// from 10 degrees of freedom at the quantiles used here, and the bootstrap
// always has at least 2*(MinIntervals-1).
func studentQuantile(p, df float64) float64 {
	z := normalQuantile(p)
	z2 := z * z
	g1 := (z2 + 1) * z / 4
	g2 := ((5*z2+16)*z2 + 3) * z / 96
	g3 := (((3*z2+19)*z2+17)*z2 - 15) * z / 384
	g4 := ((((79*z2+776)*z2+1482)*z2-1920)*z2 - 945) * z / 92160
	return z + g1/df + g2/(df*df) + g3/(df*df*df) + g4/(df*df*df*df)
}

// clusters groups consecutive intervals into at most maxClusters clusters of
// near-equal length.
func clusters(intervals []sparse) []sparse {
	if len(intervals) <= maxClusters {
		return intervals
	}
	out := make([]sparse, 0, maxClusters)
	for i := range maxClusters {
		from, to := i*len(intervals)/maxClusters, (i+1)*len(intervals)/maxClusters
		out = append(out, merge(intervals[from:to]))
	}
	return out
}

// resampler draws the q-quantile of a bootstrap resample of one side's
// clusters without merging histograms. The q-quantile of any weighted merge
// of the clusters lies between the smallest and the largest of their own
// q-quantiles, so only that window of the side's merged buckets matters:
// cumulative[k*clusters+i] counts cluster i's samples up to and including
// window bucket k, the merged count of any resample is a weighted sum of
// them, and its quantile a binary search over k.
type resampler struct {
	window     []bucket
	clusters   int
	cumulative []int64
	totals     []int64
}

// newResampler prepares the resampling of clusters, whose merge is all.
func newResampler(clusters []sparse, all sparse, q float64) *resampler {
	k := len(clusters)
	first, last := len(all.buckets)-1, 0
	for _, c := range clusters {
		at, _ := slices.BinarySearchFunc(all.buckets, c.at(quantileRank(q, c.total)), compareBuckets)
		first, last = min(first, at), max(last, at)
	}
	window := all.buckets[first : last+1]
	r := &resampler{
		window:     window,
		clusters:   k,
		cumulative: make([]int64, k*len(window)),
		totals:     make([]int64, k),
	}
	for i, c := range clusters {
		j := 0
		var running int64
		for j < len(c.buckets) && compareBuckets(c.buckets[j], window[0]) < 0 {
			running += c.buckets[j].count
			j++
		}
		for w, merged := range window {
			if j < len(c.buckets) && compareBuckets(c.buckets[j], merged) == 0 {
				running += c.buckets[j].count
				j++
			}
			r.cumulative[w*k+i] = running
		}
		r.totals[i] = c.total
	}
	return r
}

// resample draws one bootstrap resample, as many clusters as there are
// drawn with replacement, and returns its q-quantile. The weights live on
// the stack (there are at most maxClusters clusters): this loop runs
// thousands of times per comparison.
func (r *resampler) resample(rng *rand.PCG, q float64) int64 {
	var weights [maxClusters]int64
	drawWeights(rng, r.clusters, &weights)
	return r.quantile(&weights, q)
}

// drawWeights draws k of k clusters with replacement: weights[i] is how
// often cluster i was drawn.
func drawWeights(rng *rand.PCG, k int, weights *[maxClusters]int64) {
	*weights = [maxClusters]int64{}
	for range k {
		// A uniform index in [0, k): the high word of a uniform 64-bit
		// number times k (biased by at most k/2^64).
		pick, _ := bits.Mul64(rng.Uint64(), uint64(k))
		weights[pick]++
	}
}

// quantile is the q-quantile of the clusters merged with the given weights.
// The drawn clusters and their weights are gathered into arrays on the
// stack first: the search reads them for every row it visits, and under
// the race detector every read through a pointer or a slice is checked.
func (r *resampler) quantile(weights *[maxClusters]int64, q float64) int64 {
	var drawn [maxClusters]int
	var drawnWeights [maxClusters]int64
	k := r.clusters
	nDrawn := 0
	var n int64
	for i := range k {
		if w := weights[i]; w > 0 {
			drawn[nDrawn], drawnWeights[nDrawn] = i, w
			nDrawn++
			n += w * r.totals[i]
		}
	}
	rank := quantileRank(q, n)
	lo, hi := 0, len(r.window)-1
	for lo < hi {
		mid := (lo + hi) / 2
		row := r.cumulative[mid*k : (mid+1)*k]
		var below int64
		for j := 0; j < nDrawn; j++ {
			below += drawnWeights[j] * row[drawn[j]]
		}
		if below >= rank {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return r.window[lo].hi
}
