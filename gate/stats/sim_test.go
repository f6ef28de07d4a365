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
		h := newRunnerHistogram()
		for range rate {
			if err := h.RecordValue(int64(scale * d.draw(rng))); err != nil {
				t.Error(err)
				return out
			}
		}
		out[s] = h
	}
	return out
}

// sample records n draws into one histogram; like run, it reports errors
// with t.Error.
func sample(t testing.TB, rng *rand.Rand, d distribution, n int) *hdrhistogram.Histogram {
	t.Helper()
	h := newRunnerHistogram()
	for range n {
		if err := h.RecordValue(int64(d.draw(rng))); err != nil {
			t.Error(err)
			return h
		}
	}
	return h
}

// parallel calls do(0), ..., do(n-1) on as many goroutines as there are
// CPUs; the simulations are independent, each with its own generator.
func parallel(n int, do func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
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
