package stats

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// newRunnerHistogram makes a histogram the way the runner does: nanoseconds
// from 1 ns to an hour, 3 significant digits.
func newRunnerHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, 3600e9, 3)
}

// logNormal describes log-normal service times: the median in nanoseconds
// and the standard deviation of the log.
type logNormal struct {
	median, sigma float64
}

func (d logNormal) draw(rng *rand.Rand) float64 {
	return d.median * math.Exp(d.sigma*rng.NormFloat64())
}

func (d logNormal) quantile(q float64) float64 {
	return d.median * math.Exp(d.sigma*normalQuantile(q))
}

// exponential describes exponentially distributed latencies by their mean in
// nanoseconds.
type exponential struct {
	mean float64
}

func (d exponential) draw(rng *rand.Rand) float64 {
	return d.mean * rng.ExpFloat64()
}

func (d exponential) quantile(q float64) float64 {
	return -d.mean * math.Log1p(-q)
}

type distribution interface {
	draw(rng *rand.Rand) float64
	quantile(q float64) float64
}

// run simulates a measured run: one histogram per second, rate samples each,
// every latency multiplied by scale. It reports errors with t.Error, so it
// may run on any goroutine.
func run(t testing.TB, rng *rand.Rand, d distribution, rate, seconds int, scale float64) []*hdrhistogram.Histogram {
	t.Helper()
	out := make([]*hdrhistogram.Histogram, seconds)
	for s := range out {
		out[s] = newRunnerHistogram()
	}
	values := make([]int64, rate)
	for _, h := range out {
		draw(rng, d, scale, values)
		for _, v := range values {
			if err := h.RecordValue(v); err != nil {
				t.Error(err)
				return out
			}
		}
	}
	return out
}

// readRun is a run of seconds intervals as the comparisons read it
// (nonEmpty of run's histograms), built by recorded from the same draws:
// simulations call it thousands of times, and resetting and reading a
// nanosecond histogram, which walks all its slots, would dominate their
// time under the race detector. values is scratch space of rate values.
func readRun(t testing.TB, rng *rand.Rand, d distribution, scale float64, seconds int, values []int64) []sparse {
	t.Helper()
	out := make([]sparse, 0, seconds)
	for range seconds {
		draw(rng, d, scale, values)
		if s := recorded(t, values); s.total > 0 {
			out = append(out, s)
		}
	}
	return out
}

// draw fills values with latencies of d multiplied by scale.
func draw(rng *rand.Rand, d distribution, scale float64, values []int64) {
	for i := range values {
		values[i] = int64(scale * d.draw(rng))
	}
}

// recorded is sparseOf of a runner histogram (newRunnerHistogram) holding
// values, worked out from the values themselves with HdrHistogram's bucket
// geometry; it sorts values. Like RecordValue it refuses values outside the
// histogram's range, with t.Error. TestRecordedReadsAsAHistogram checks it
// against sparseOf.
func recorded(t testing.TB, values []int64) sparse {
	t.Helper()
	const lowest, digits, highest = 1, 3, 3600e9
	unitMagnitude, halfCountMagnitude := geometryMagnitudes(lowest, digits)
	subBucketMask := int64(1)<<(halfCountMagnitude+1) - 1<<unitMagnitude
	slices.Sort(values)
	s := sparse{lowest: lowest, digits: digits}
	for _, v := range values {
		if v < 0 || v > highest {
			t.Errorf("value %d is outside a runner histogram's range [0, %d]", v, int64(highest))
			return s
		}
		// HdrHistogram's getBucketIndex, getSubBucketIdx and countsIndex.
		bucketIdx := 64 - bits.LeadingZeros64(uint64(v|subBucketMask)) - int(unitMagnitude) - int(halfCountMagnitude+1)
		subBucketIdx := int(v >> (uint(bucketIdx) + unitMagnitude))
		idx := (bucketIdx+1)<<halfCountMagnitude + subBucketIdx - 1<<halfCountMagnitude
		lo, hi := bucketBounds(idx, unitMagnitude, halfCountMagnitude)
		if n := len(s.buckets); n > 0 && s.buckets[n-1].lo == lo {
			s.buckets[n-1].count++
		} else {
			s.buckets = append(s.buckets, bucket{lo: lo, hi: hi, count: 1})
		}
		s.total++
	}
	return s
}

// sample records n draws into h, reset first; like run, it reports errors
// with t.Error.
func sample(t testing.TB, rng *rand.Rand, d distribution, n int, h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	t.Helper()
	h.Reset()
	for range n {
		if err := h.RecordValue(int64(d.draw(rng))); err != nil {
			t.Error(err)
			return h
		}
	}
	return h
}

// parallel calls do(0), ..., do(n-1) on workers goroutines; the
// simulations are independent, each with its own generator.
func parallel(n, workers int, do func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				do(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// workers is how many goroutines parallel should use.
func workers() int {
	return runtime.GOMAXPROCS(0)
}

// TestRecordedReadsAsAHistogram checks that recorded gives what reading a
// runner histogram of the same values gives: across the whole range, at
// every power of two and either side of it (where HdrHistogram's buckets
// change width), and for the log-normal latencies the simulations draw.
func TestRecordedReadsAsAHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	values := []int64{0, 0, 1, 2047, 2048, 2049, 4095, 4096, 3600e9}
	for p := range 42 {
		values = append(values, int64(1)<<p-1, int64(1)<<p, int64(1)<<p+1)
	}
	d := logNormal{median: 2e6, sigma: 0.5}
	for range 5000 {
		values = append(values, int64(d.draw(rng)), int64(rng.Float64()*rng.Float64()*3600e9))
	}
	h := newRunnerHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	want, got := sparseOf(h), recorded(t, values)
	if got.total != want.total || got.lowest != want.lowest || got.digits != want.digits {
		t.Fatalf("total %d, lowest %d, %d digits; want %d, %d, %d", got.total, got.lowest, got.digits, want.total, want.lowest, want.digits)
	}
	if !slices.Equal(got.buckets, want.buckets) {
		t.Fatalf("%d buckets, want %d: %v, want %v", len(got.buckets), len(want.buckets), got.buckets, want.buckets)
	}
}
