package stats

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"text/tabwriter"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
)

var calibrate = flag.Bool("calibrate", false, "run TestCalibration: simulate the gate's false-alarm rate and power and print a table (slow)")

// TestCalibration prints the simulations behind the package defaults:
//
//	go test ./gate/stats -run TestCalibration -calibrate -v -timeout 1h
//
// For each scenario (log-normal service times with a 2 ms median, per-second
// histograms) it compares 200 A/A pairs and 200 A/B pairs with a +30% shift
// and reports how often RegressionVerdict with a +10% tolerance fails, how
// often the ratio interval covers the true ratio, and how often the test
// calls the pair significantly different. It fails when the defaults break
// the package's promises (see the table in doc.go): more than 2.5% of the
// A/A pairs of a scenario failing, or a p50 scenario catching the +30% shift
// in fewer than 95% of its pairs. With CALIBRATE_VARIANTS=1 in the
// environment it instead weighs the alternatives (plain percentile interval,
// medians of per-interval quantiles, 95% confidence) on the hardest p99
// scenarios.
func TestCalibration(t *testing.T) {
	if !*calibrate {
		t.Skip("run with -calibrate")
	}
	type variant struct {
		name       string
		confidence float64
		set        settings
		medians    bool // the interval of the ratio of medians of per-interval quantiles
	}
	plain := defaultSettings
	plain.expand = false
	variants := []variant{
		{"merged, expanded, 90%", 0.90, defaultSettings, false},
		{"merged, plain, 90%", 0.90, plain, false},
		{"medians, plain, 90%", 0.90, plain, true},
		{"merged, expanded, 95%", 0.95, defaultSettings, false},
	}
	if os.Getenv("CALIBRATE_VARIANTS") == "" {
		variants = variants[:1]
	}
	type scenario struct {
		rate, seconds int
		sigma, q      float64
	}
	var scenarios []scenario
	for _, q := range []float64{0.5, 0.99, 0.999} {
		for _, sigma := range []float64{0.5, 1} {
			if q == 0.999 && sigma != 0.5 {
				continue
			}
			for _, rate := range []int{300, 500, 1000, 2000} {
				for _, seconds := range []int{10, 15} {
					if os.Getenv("CALIBRATE_VARIANTS") != "" && (q != 0.99 || seconds != 10 || rate == 500 || rate == 2000) {
						// Weighing the variants needs only the hard cases.
						continue
					}
					scenarios = append(scenarios, scenario{rate, seconds, sigma, q})
				}
			}
		}
	}
	const trials = 200
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "variant\tq\tsigma\tops/s\ts\tA/A fail\tA/A cover\tA/A signif\tA/B fail\tA/B cover\tA/B signif\tmethod\t")
	for vi, v := range variants {
		rows := make([]string, len(scenarios))
		parallel(len(scenarios), workers(), func(i int) {
			sc := scenarios[i]
			rng := rand.New(rand.NewPCG(uint64(sc.rate), uint64(sc.seconds)+uint64(1000*sc.sigma)+uint64(1e6*sc.q)))
			d := logNormal{median: 2e6, sigma: sc.sigma}
			var aaFail, aaCover, aaSig, abFail, abCover, abSig int
			var method Method
			for range trials {
				base := run(t, rng, d, sc.rate, sc.seconds, 1)
				same := run(t, rng, d, sc.rate, sc.seconds, 1)
				slower := run(t, rng, d, sc.rate, sc.seconds, 1.3)
				baseRead := nonEmpty(base)
				for _, pair := range []struct {
					cand        []*hdrhistogram.Histogram
					truth       float64
					fail, cover *int
					significant *int
				}{{same, 1, &aaFail, &aaCover, &aaSig}, {slower, 1.3, &abFail, &abCover, &abSig}} {
					c := compareIntervals(baseRead, nonEmpty(pair.cand), sc.q, v.confidence, v.set)
					if v.medians && c.Method == MethodIntervals {
						c.RatioLo, c.RatioHi = medianRatioInterval(base, pair.cand, sc.q, v.confidence, v.set)
					}
					method = c.Method
					if RegressionVerdict(c, 0.10) == status.Fail {
						*pair.fail++
					}
					if c.RatioLo <= pair.truth && pair.truth <= c.RatioHi {
						*pair.cover++
					}
					if c.Significant {
						*pair.significant++
					}
				}
			}
			pct := func(n int) string { return fmt.Sprintf("%.1f%%", 100*float64(n)/trials) }
			if vi == 0 { // the defaults
				if aaFail > trials/40 {
					t.Errorf("p%v sigma %v %d ops/s x %d s: %s of A/A pairs failed, more than 2.5%%", 100*sc.q, sc.sigma, sc.rate, sc.seconds, pct(aaFail))
				}
				if sc.q == 0.5 && abFail < trials*95/100 {
					t.Errorf("p50 sigma %v %d ops/s x %d s: only %s of +30%% pairs failed, fewer than 95%%", sc.sigma, sc.rate, sc.seconds, pct(abFail))
				}
			}
			rows[i] = fmt.Sprintf("%s\tp%v\t%v\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", v.name, 100*sc.q, sc.sigma, sc.rate, sc.seconds,
				pct(aaFail), pct(aaCover), pct(aaSig), pct(abFail), pct(abCover), pct(abSig), method)
		})
		for _, row := range rows {
			fmt.Fprint(w, row)
		}
		w.Flush()
	}
	w.Flush()
}

// medianRatioInterval is the alternative ratio interval the calibration
// weighs against the merged-histogram bootstrap: a percentile bootstrap of the
// ratio of the medians of the per-interval quantiles.
func medianRatioInterval(base, cand []*hdrhistogram.Histogram, q, confidence float64, set settings) (lo, hi float64) {
	need := ceilTolerant(1 / (1 - q))
	bq, cq := intervalQuantiles(nonEmpty(base), q, need), intervalQuantiles(nonEmpty(cand), q, need)
	rng := rand.New(rand.NewPCG(set.seed, 1))
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2
	}
	draw := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i := range out {
			out[i] = xs[rng.IntN(len(xs))]
		}
		return out
	}
	ratios := make([]float64, set.resamples)
	for i := range ratios {
		ratios[i] = median(draw(cq)) / median(draw(bq))
	}
	slices.Sort(ratios)
	tail := (1 - confidence) / 2
	last := float64(len(ratios) - 1)
	return ratios[int(math.Floor(tail*last))], ratios[int(math.Ceil((1-tail)*last))]
}
