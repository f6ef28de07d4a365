package gate

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// MaterialSpeed is how far apart two runners' CPU probe medians must be,
// as a ratio, before their speeds count as different: closer than 5%, the
// fixed computation's own spread (frequency steps, cache state) explains it.
const MaterialSpeed = 1.05

// runnerTail is the least quantile of the runners' wake-up delays granted
// to a tail objective (p99 and above): a contended runner delays few
// wake-ups, by much, so it shows in the tail of one wake-up's delay.
const runnerTail = 0.99

// runnerBody is the quantile below runnerTail at which runners are also
// told apart: steady contention moves it, a stray stall does not.
const runnerBody = 0.90

// waitsPerOperation is how many times an operation waits on the runner
// (tailgate's send, the target's own work, tailgate noticing the reply),
// and how much more a target on the same contended machine slows than
// tailgate wakes late: below runnerTail a latency is granted that many
// times the difference of the runners' mean wake-up delays. Measured with
// bench/slowserver (log-normal, median 2 ms) at 1,500/s on 32 connections
// and two busy loops beside one of two 2 s runs, 11 pairs: the busy run's
// p50 rose 233 to 361 µs while its mean wake-up delay rose 59 to 117 µs,
// 2.0 to 5.1 times less (the engine, which keeps no histogram per worker,
// is itself woken late less than the target is slowed). In 7 more such
// pairs its p50 wake-up delay did not rise at all (12–15 µs quiet, 8–11 µs
// busy).
const waitsPerOperation = 6

// tailWaits is how many of an operation's waits on the runner a tail
// latency is granted the runners' tail difference for: the target's own
// and tailgate noticing the reply (the send's is measured, sendShare).
// With two busy loops beside one run, its p99 rose by up to 2.3 times the
// difference of the runners' p99 wake-up delays.
const tailWaits = 2

// MaterialRunnerRatio is how many times longer one runner's wake-up delays
// must be than the other's (at p90 or in the tail) for the two to differ:
// quiet runs of one shared machine were seen up to 1.7 times apart at p90,
// two busy loops beside one run put it 3 to 35 times apart.
const MaterialRunnerRatio = 2

// MaterialContention is how far apart, in share of the measured window,
// two runners' contentions (CPU pressure plus steal, result.Runner's
// Contention) must be for one runner to count as busier: quiet 2 s runs on
// one 2-CPU machine read 6.1–8.0% at under 2% steal, the same runs beside
// two busy loops 23–33%, and quiet runs while the machine's hypervisor
// stole 21–25% of its time 32.8–38.0%.
const MaterialContention = 0.10

// BusyContention is the contention at and above which any difference
// between two runners counts as one being busier, however small: quiet
// runs of that machine read 8.0% at most, every contended condition 23%
// or more, and at such levels a few points more slowed a target sharing
// the runner as much as a real change did. In one run of
// TestRunnerNoiseBetweenABaselineAndACandidate, quiet runs while the
// hypervisor stole a third of the time read 60.8% (a 2 ms server) and
// 52.2% (the same server made 30% slower): the medians were 4.97 ms and
// 5.06 ms, and the +30% was judged no-change.
const BusyContention = 0.20

// runnerConfidence is the level of the order-statistic intervals by which
// two runners' figures are told apart.
const runnerConfidence = 0.99

// RunnerDiff is how two results' runners differ at one quantile, in the
// terms a latency at that quantile is affected by. A field is its neutral
// value (0, 1) unless the two runners differ measurably in it: their
// order-statistic intervals do not overlap (and, for the speed, the ratio is
// beyond MaterialSpeed).
type RunnerDiff struct {
	// WakeupNS is what the candidate's runner may have added to a latency
	// at the quantile, over what the baseline's did: for a tail objective
	// (runnerTail and above) tailWaits times the difference of their
	// wake-up delays at the quantile, below it waitsPerOperation times the
	// difference of their means. The regression rule adds to it the difference in what
	// the two generators' own send delays made of the latency (sendShare).
	WakeupNS float64
	// Speed is the candidate's CPU probe median over the baseline's: what
	// a slower CPU multiplies a latency by.
	Speed float64
	// Busier is 1 when the candidate's runner was busier than the
	// baseline's (their contentions at least MaterialContention apart, or
	// apart at all when either is at least BusyContention), -1 when the
	// baseline's was, 0 otherwise or when either is unrecorded.
	// How much a busier runner slows a target that shares it is not
	// measured, so it is never granted as an amount: it only keeps a
	// verdict it could explain from standing.
	Busier int
	// Base and Cand are the runners' figures, for the reader.
	Base, Cand RunnerFigures
}

// RunnerFigures are one runner's figures at one quantile.
type RunnerFigures struct {
	WakeupNS, CPUProbeNS int64
	// Contention is the runner's CPU pressure plus steal, of those both
	// runners record; nil when they record neither.
	Contention *float64
}

// Differ reports whether the runners differ measurably at all.
func (d RunnerDiff) Differ() bool { return d.WakeupNS != 0 || d.Speed != 1 || d.Busier != 0 }

// Adjust turns a candidate/baseline latency ratio into the ratio the
// candidate would have shown on the baseline's runner: the candidate's
// latency, less the wake-up delay its runner added, divided by its runner's
// slowness, over the baseline's latency (baseNS).
func (d RunnerDiff) Adjust(ratio, baseNS float64) float64 {
	return (ratio - d.WakeupNS/baseNS) / d.Speed
}

// CompareRunners compares two runner records for a latency at quantile q.
// Their wake-up delays differ when, at p90 or at the tail quantile (q or
// runnerTail, whichever is higher), their 99% order-statistic intervals do
// not overlap and one is at least MaterialRunnerRatio times the other;
// their speeds differ when the CPU probe medians' intervals do not overlap
// and they are more than MaterialSpeed apart. ok is false when either
// result has no record (older results) or a record is unreadable.
func CompareRunners(base, cand *result.Runner, q float64) (RunnerDiff, bool) {
	d := RunnerDiff{Speed: 1}
	if base == nil || cand == nil {
		return d, false
	}
	bw, err1 := base.Wakeups()
	cw, err2 := cand.Wakeups()
	bc, err3 := base.CPUProbes()
	cc, err4 := cand.CPUProbes()
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || bw.TotalCount() == 0 || cw.TotalCount() == 0 {
		return d, false
	}
	tail := max(q, runnerTail)
	differ := false
	for _, level := range []float64{runnerBody, tail} {
		bLo, bEst, bHi, ok1 := stats.QuantileCI(bw, level, runnerConfidence)
		cLo, cEst, cHi, ok2 := stats.QuantileCI(cw, level, runnerConfidence)
		if !ok1 || !ok2 {
			return d, false
		}
		if level == tail {
			d.Base.WakeupNS, d.Cand.WakeupNS = bEst, cEst
		}
		lo, hi := float64(max(min(bEst, cEst), 1)), float64(max(bEst, cEst))
		if (cLo > bHi || bLo > cHi) && hi >= MaterialRunnerRatio*lo {
			differ = true
		}
	}
	if differ {
		if q >= runnerTail {
			d.WakeupNS = tailWaits * float64(d.Cand.WakeupNS-d.Base.WakeupNS)
		} else {
			d.WakeupNS = waitsPerOperation * (cw.Mean() - bw.Mean())
		}
	}
	bcLo, bcEst, bcHi, ok3 := stats.QuantileCI(bc, 0.5, runnerConfidence)
	ccLo, ccEst, ccHi, ok4 := stats.QuantileCI(cc, 0.5, runnerConfidence)
	if !ok3 || !ok4 {
		return d, false
	}
	d.Base.CPUProbeNS, d.Cand.CPUProbeNS = bcEst, ccEst
	if speed := float64(ccEst) / float64(bcEst); (ccLo > bcHi || bcLo > ccHi) && math.Abs(math.Log(speed)) > math.Log(MaterialSpeed) {
		d.Speed = speed
	}
	bp, ok1 := base.Contention(cand)
	cp, ok2 := cand.Contention(base)
	if ok1 && ok2 {
		d.Base.Contention, d.Cand.Contention = &bp, &cp
		busy := max(bp, cp) >= BusyContention
		switch {
		case cp-bp >= MaterialContention, busy && cp > bp:
			d.Busier = 1
		case bp-cp >= MaterialContention, busy && bp > cp:
			d.Busier = -1
		}
	}
	return d, true
}

// runnerNoiseDetail starts the detail of an objective made inconclusive by
// runner noise.
const runnerNoiseDetail = "inconclusive (runner noise)"

// runnerNoise re-judges a regression verdict between two results that ran
// apart (not interleaved) on runners that differ measurably: the verdict
// stands only if it also holds once the candidate is granted the
// difference. A fail whose ratio interval, so adjusted, reaches down to the
// tolerance, or a pass (or no change) whose adjusted interval reaches up to
// it, is inconclusive: the runners' difference could explain it. The
// adjustment only takes confidence away; it never turns a verdict into a
// fail or a pass.
func runnerNoise(r *status.ObjectiveResult, m slo.Metric, tol float64, cmp stats.Comparison, base, cand *result.Runner, bop, cop *result.OperationResult) {
	q, ok := m.Quantile()
	if !ok || !cmp.HasInterval() || cmp.BaseEstimate <= 0 {
		return
	}
	d, ok := CompareRunners(base, cand, q)
	if !ok || !d.Differ() {
		return
	}
	// What each side's generator itself added at the quantile is measured
	// operation by operation (the client delay): the difference is
	// granted whole, beside the runners' wake-up difference, which stands
	// for what the client delay cannot see (replies noticed late, the
	// target's own waits on the runner).
	d.WakeupNS += float64(sendShare(cop, q) - sendShare(bop, q))
	limit := 1 + tol
	b := float64(cmp.BaseEstimate)
	lo, hi := d.Adjust(cmp.RatioLo, b), d.Adjust(cmp.RatioHi, b)
	passed := r.Status == status.Pass || r.Status == status.NoChange
	switch {
	case r.Status == status.Fail && lo < cmp.RatioLo && lo <= limit:
	case passed && hi > cmp.RatioHi && hi > limit:
	case r.Status == status.Fail && d.Busier > 0, passed && d.Busier < 0:
		busierRunner(r, d)
		return
	default:
		return
	}
	bound := "as low as " + SignedPercent(lo-1)
	if r.Status != status.Fail {
		bound = "as high as " + SignedPercent(hi-1)
	}
	was, detail := r.Status, r.Detail
	r.Status = status.Inconclusive
	r.Detail = fmt.Sprintf(runnerNoiseDetail+": the two runs' runners differ (baseline's: wake-up delay %s at %s, CPU probe %s; candidate's: %s, %s), and on one runner the change could be %s against %s, so the %s cannot stand; compare the two on one runner with interleaved A/B (run --baseline-target)",
		dur(d.Base.WakeupNS), quantileName(max(q, runnerTail)), dur(d.Base.CPUProbeNS), dur(d.Cand.WakeupNS), dur(d.Cand.CPUProbeNS),
		bound, SignedPercent(tol), was)
	if detail != "" {
		r.Detail += "; " + detail
	}
}

// busierRunner makes inconclusive a verdict that one runner's being busier
// could explain: a fail on the busier runner (a target sharing it is slowed
// by more than tailgate's own delays show), a pass against a baseline on
// the busier runner (its latencies may have been inflated by it).
func busierRunner(r *status.ObjectiveResult, d RunnerDiff) {
	busier, other, was := "candidate's", "baseline's", r.Status
	busy, calm := *d.Cand.Contention, *d.Base.Contention
	if d.Busier < 0 {
		busier, other, busy, calm = other, busier, calm, busy
	}
	detail := r.Detail
	r.Status = status.Inconclusive
	r.Detail = fmt.Sprintf(runnerNoiseDetail+": the %s runner was busier than the %s (its tasks kept from a CPU, by other tasks or by its hypervisor, %s of the measured window against %s), which slows a target sharing it by more than tailgate's own delays show, so the %s cannot stand; compare the two on one runner with interleaved A/B (run --baseline-target)",
		busier, other, FormatPercent(busy), FormatPercent(calm), was)
	if detail != "" {
		r.Detail += "; " + detail
	}
}

// quantileName prints a quantile as a metric name: p99, p99.9.
func quantileName(q float64) string {
	return "p" + strconv.FormatFloat(q*100, 'f', -1, 64)
}

// sendShare is how much of an operation's q-quantile latency its client
// delays make: the quantile of the latencies less the quantile of the
// latencies less their client delays; 0 when the result records none.
func sendShare(op *result.OperationResult, q float64) int64 {
	if op == nil || op.LatencyLessClientHistogram == "" {
		return 0
	}
	whole, err1 := op.WholeHistogram()
	less, err2 := op.LatenciesLessClient()
	if err1 != nil || err2 != nil || whole.TotalCount() == 0 || less.TotalCount() == 0 {
		return 0
	}
	return max(whole.ValueAtQuantile(q*100)-less.ValueAtQuantile(q*100), 0)
}
