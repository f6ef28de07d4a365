package gate

import (
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// TestLowerBoundNeverExceedsWhatIsLeft draws runs whose latency is the
// target's part plus a send delay plus a wake-up delay, the delays
// independent of the target's part or stalling together with its slow
// replies, and checks that the bound from the three distributions alone
// is at most the true quantile of the target's part, and not far below it
// when the delays are small.
func TestLowerBoundNeverExceedsWhatIsLeft(t *testing.T) {
	tests := []struct {
		name string
		// stall is the share of operations whose delays stall, stallNS how
		// long; together makes them stall on the target's slowest replies.
		stall    float64
		stallNS  float64
		together bool
		q        float64
		// steady makes the target's part the same 1 ms for every
		// operation and each stall exactly stallNS, where the bound is
		// tight: the operations above the quantile are the stalled ones.
		steady bool
	}{
		{"precise delays", 0, 0, false, 0.99, false},
		{"stalls apart from the target", 0.05, 5e6, false, 0.99, false},
		{"stalls on the slow replies", 0.05, 5e6, true, 0.99, false},
		{"stalls past the quantile's share", 0.2, 2e6, true, 0.99, false},
		{"a deeper quantile", 0.005, 8e6, true, 0.999, false},
		{"the maximum", 0.01, 3e6, false, 1, false},
		{"a steady target behind steady stalls of a share past the quantile's", 0.015, 10e6, false, 0.99, true},
		{"a steady target behind steady stalls of a share within it", 0.007, 10e6, false, 0.99, true},
		// Each delay alone stalls past the quantile's share (2%), together
		// 4%: a bound granting each part the whole slack would call them 11 ms.
		{"a steady target behind steady stalls of both delays", 0.04, 10e6, false, 0.99, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			total, client, wake, target := result.NewHistogram(), result.NewHistogram(), result.NewHistogram(), result.NewHistogram()
			for range 50_000 {
				tv := 1e6 * math.Exp(0.4*rng.NormFloat64())
				c, w := 2e3+1e3*rng.Float64(), 20e3+20e3*rng.Float64()
				stalls := rng.Float64() < tt.stall
				if tt.together {
					stalls = tv > 1e6*math.Exp(0.4*2.326) && rng.Float64() < tt.stall*100
				}
				switch {
				case tt.steady:
					tv, c, w = 1e6, 2e3, 20e3
					if stalls {
						// Half the stalls hold the send, half the wake-up.
						if rng.Float64() < 0.5 {
							c += tt.stallNS
						} else {
							w += tt.stallNS
						}
					}
				case stalls:
					c += tt.stallNS * rng.Float64()
					w += tt.stallNS * rng.Float64()
				}
				_ = target.RecordValue(int64(tv))
				_ = client.RecordValue(int64(c))
				_ = wake.RecordValue(int64(w))
				_ = total.RecordValue(int64(tv + c + w))
			}
			truth := target.ValueAtQuantile(tt.q * 100)
			if tt.q >= 1 {
				truth = target.Max()
			}
			got := lowerBound(total, tt.q, client, wake)
			if got > truth+truth/1000 {
				t.Errorf("bound %d above the target's own quantile %d", got, truth)
			}
			if (tt.stall == 0 || tt.steady) && got < truth*9/10 {
				t.Errorf("bound %d far below the target's own quantile %d", got, truth)
			}
		})
	}
}

// TestLowerBoundOfOnePartIsTheLevelByLevelFormula: read in one pass over
// each histogram, the bound is the formula evaluated level by level.
func TestLowerBoundOfOnePartIsTheLevelByLevelFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20 {
		service, wake := result.NewHistogram(), result.NewHistogram()
		for range 5_000 {
			_ = service.RecordValue(int64(1e5 + 1e6*rng.ExpFloat64()))
			_ = wake.RecordValue(int64(1e4 + 1e5*rng.ExpFloat64()*rng.Float64()))
		}
		for _, q := range []float64{0.5, 0.99, 0.999, 1} {
			at := func(h *hdrhistogram.Histogram, level float64) int64 {
				if level >= 1 {
					return h.Max()
				}
				return h.ValueAtQuantile(level * 100)
			}
			want := int64(0)
			for i := range boundSteps {
				p := q * float64(i) / boundSteps
				want = max(want, at(service, p)-at(wake, 1-q+p))
			}
			if got := lowerBound(service, q, wake); got != want {
				t.Fatalf("q %v: bound %d, level by level %d", q, got, want)
			}
		}
	}
}
