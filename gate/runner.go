package gate

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// MaterialSpeed is how far apart two runners' CPU probe medians must be,
// as a ratio, before their speeds count as different: closer than 5%, the
// fixed computation's own spread (frequency steps, cache state) explains it.
const MaterialSpeed = 1.05

// runnerTail is the least quantile of the runners' wake-up delays compared:
// a contended runner delays few wake-ups, by much, so it shows in the tail
// of one wake-up's delay first. An operation waits on the runner several
// times over (the target's own timers and reads, tailgate noticing the
// reply), and the share of those waits that land in the tail moves even its
// median: measured with a log-normal HTTP service (median 2 ms) and two busy
// loops beside one of two runs, the busy run's p50 rose 0.45 ms and its p99
// 2 ms, while the runners' wake-up delays at p99 differed by 2.3 ms and at
// p50 not at all. So the difference at p99 (or the objective's quantile, if
// higher) is what one runner may have added to the other's latencies.
const runnerTail = 0.99

// runnerConfidence is the level of the order-statistic intervals by which
// two runners' figures are told apart.
const runnerConfidence = 0.99

// RunnerDiff is how two results' runners differ at one quantile, in the
// terms a latency at that quantile is affected by. A field is its neutral
// value (0, 1) unless the two runners differ measurably in it: their
// order-statistic intervals do not overlap (and, for the speed, the ratio is
// beyond MaterialSpeed).
type RunnerDiff struct {
	// WakeupNS is the candidate's runner's wake-up delay at the quantile
	// (at least runnerTail) less the baseline's: what a more contended
	// runner may add to a latency.
	WakeupNS float64
	// Speed is the candidate's CPU probe median over the baseline's: what
	// a slower CPU multiplies a latency by.
	Speed float64
	// Base and Cand are the runners' figures, for the reader.
	Base, Cand RunnerFigures
}

// RunnerFigures are one runner's figures at one quantile.
type RunnerFigures struct {
	WakeupNS, CPUProbeNS int64
}

// Differ reports whether the runners differ measurably at all.
func (d RunnerDiff) Differ() bool { return d.WakeupNS != 0 || d.Speed != 1 }

// Adjust turns a candidate/baseline latency ratio into the ratio the
// candidate would have shown on the baseline's runner: the candidate's
// latency, less the wake-up delay its runner added, divided by its runner's
// slowness, over the baseline's latency (baseNS).
func (d RunnerDiff) Adjust(ratio, baseNS float64) float64 {
	return (ratio - d.WakeupNS/baseNS) / d.Speed
}

// CompareRunners compares two runner records for a latency at quantile q:
// their wake-up delays at q or runnerTail, whichever is higher, and their
// CPU probe medians. ok is false when either result has none (older
// results) or a record is unreadable.
func CompareRunners(base, cand *workloads.Runner, q float64) (RunnerDiff, bool) {
	d := RunnerDiff{Speed: 1}
	q = max(q, runnerTail)
	if base == nil || cand == nil {
		return d, false
	}
	bw, err1 := base.Wakeups()
	cw, err2 := cand.Wakeups()
	bc, err3 := base.CPUProbes()
	cc, err4 := cand.CPUProbes()
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return d, false
	}
	bwLo, bwEst, bwHi, ok1 := stats.QuantileCI(bw, q, runnerConfidence)
	cwLo, cwEst, cwHi, ok2 := stats.QuantileCI(cw, q, runnerConfidence)
	bcLo, bcEst, bcHi, ok3 := stats.QuantileCI(bc, 0.5, runnerConfidence)
	ccLo, ccEst, ccHi, ok4 := stats.QuantileCI(cc, 0.5, runnerConfidence)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return d, false
	}
	d.Base = RunnerFigures{WakeupNS: bwEst, CPUProbeNS: bcEst}
	d.Cand = RunnerFigures{WakeupNS: cwEst, CPUProbeNS: ccEst}
	if cwLo > bwHi || bwLo > cwHi {
		d.WakeupNS = float64(cwEst - bwEst)
	}
	if speed := float64(ccEst) / float64(bcEst); (ccLo > bcHi || bcLo > ccHi) && math.Abs(math.Log(speed)) > math.Log(MaterialSpeed) {
		d.Speed = speed
	}
	return d, true
}

// runnerNoise re-judges a regression verdict between two results that ran
// apart (not interleaved) on runners that differ measurably: the verdict
// stands only if it also holds once the candidate is granted the
// difference. A fail whose ratio interval, so adjusted, reaches down to the
// tolerance, or a pass (or no change) whose adjusted interval reaches up to
// it, is inconclusive: the runners' difference could explain it. The
// adjustment only takes confidence away; it never turns a verdict into a
// fail or a pass.
// runnerNoiseDetail starts the detail of an objective made inconclusive by
// runner noise.
const runnerNoiseDetail = "inconclusive (runner noise)"

func runnerNoise(r *workloads.ObjectiveResult, m slo.Metric, tol float64, cmp stats.Comparison, base, cand *workloads.Runner) {
	q, ok := m.Quantile()
	if !ok || !cmp.HasInterval() || cmp.BaseEstimate <= 0 {
		return
	}
	d, ok := CompareRunners(base, cand, q)
	if !ok || !d.Differ() {
		return
	}
	limit := 1 + tol
	b := float64(cmp.BaseEstimate)
	lo, hi := d.Adjust(cmp.RatioLo, b), d.Adjust(cmp.RatioHi, b)
	switch {
	case r.Status == status.Fail && lo < cmp.RatioLo && lo <= limit:
	case (r.Status == status.Pass || r.Status == status.NoChange) && hi > cmp.RatioHi && hi > limit:
	default:
		return
	}
	bound := "as low as " + signedPercent(lo-1)
	if r.Status != status.Fail {
		bound = "as high as " + signedPercent(hi-1)
	}
	was, detail := r.Status, r.Detail
	r.Status = status.Inconclusive
	r.Detail = fmt.Sprintf(runnerNoiseDetail+": the two runs' runners differ (baseline's: wake-up delay %s at %s, CPU probe %s; candidate's: %s, %s), and on one runner the change could be %s against %s, so the %s cannot stand; compare the two on one runner with interleaved A/B (run --baseline-target)",
		dur(d.Base.WakeupNS), quantileName(max(q, runnerTail)), dur(d.Base.CPUProbeNS), dur(d.Cand.WakeupNS), dur(d.Cand.CPUProbeNS),
		bound, signedPercent(tol), was)
	if detail != "" {
		r.Detail += "; " + detail
	}
}

// quantileName prints a quantile as a metric name: p99, p99.9.
func quantileName(q float64) string {
	return "p" + strconv.FormatFloat(q*100, 'f', -1, 64)
}
