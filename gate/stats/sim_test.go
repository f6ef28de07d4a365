package stats

import (
	"math"
	"math/rand/v2"
	"runtime"
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
	rerun(t, rng, d, rate, scale, out)
	return out
}

// rerun is run into existing histograms, reset first, as a runner reuses its
// interval histograms. Simulations reuse them because allocating and
// freeing large histograms dominates their time under the race detector.
func rerun(t testing.TB, rng *rand.Rand, d distribution, rate int, scale float64, intervals []*hdrhistogram.Histogram) {
	t.Helper()
	for _, h := range intervals {
		h.Reset()
		for range rate {
			if err := h.RecordValue(int64(scale * d.draw(rng))); err != nil {
				t.Error(err)
				return
			}
		}
	}
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

// parallel calls do(worker, 0), ..., do(worker, n-1) on workers (0 to
// workers-1) goroutines; the simulations are independent, each with its own
// generator, and each worker may keep its own histograms.
func parallel(n, workers int, do func(worker, i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := range workers {
		wg.Go(func() {
			for i := range next {
				do(w, i)
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
