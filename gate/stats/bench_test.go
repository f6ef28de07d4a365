package stats

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkCompareQuantile compares two 10 s runs of per-second histograms,
// as the gate does for each regression objective.
func BenchmarkCompareQuantile(b *testing.B) {
	for _, q := range []float64{0.5, 0.99, 0.999} {
		b.Run(fmt.Sprintf("p%v", 100*q), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			d := logNormal{median: 2e6, sigma: 0.5}
			base, cand := run(b, rng, d, 500, 10, 1), run(b, rng, d, 500, 10, 1.3)
			for b.Loop() {
				CompareQuantile(base, cand, q, DefaultConfidence)
			}
		})
	}
}
