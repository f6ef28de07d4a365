package gate

import (
	"fmt"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// MaterialFloor is the share of a bar the load generator's own delay must
// reach before a missed bar is put down to it (client-bound) rather than to
// the target: below a tenth of the bar, the generator is precise enough for
// the miss to be the target's.
const MaterialFloor = 0.10

// ClientRemedies says what to do about a client-bound run.
const ClientRemedies = "lower the rate, add connections, split the load over shards (run --shard), or run on a bigger runner"

// Floor is the measurement floor of one operation at one quantile: how
// much of a latency at that quantile the load generator and its runner may
// have added, and what the target alone is known to have taken.
type Floor struct {
	// ClientNS is the operation's client delay at the quantile: how late
	// tailgate itself sent (result.OperationResult.ClientDelayNS).
	ClientNS int64
	// WakeupNS is the runner's wake-up delay at the quantile: how late
	// tailgate noticed what it waited for, a reply included.
	WakeupNS int64
	// ServiceNS is the operation's service time at the quantile (from the
	// send to the reply noticed, so the runner's wake-up delay is in it);
	// 0 for a slice of a run, which records none (see sliceFloor).
	ServiceNS int64
	// OwnNS is the operation's latency less its client delay at the
	// quantile (result.OperationResult.LatencyLessClientNS): its service
	// time plus its wait behind the target's earlier replies on its
	// connection; 0 when the result is read on its service times (written
	// before the ideal timeline took the runner's delay out).
	OwnNS int64
	// TargetNS is the least the target itself took at the quantile: what
	// is left of OwnNS, or of the service time where it is 0, once every
	// reply is granted a wake-up delay as large as the runner's were (see
	// targetBound).
	TargetNS int64
	// Steal is the runner's CPU steal over the measured window
	// (result.Runner.CPUSteal), the whole run's for a slice too; 0 where
	// unrecorded.
	Steal float64
}

// Remedies says what to do about a run this floor made client-bound:
// ClientRemedies, preceded, on a runner whose hypervisor took a material
// share of its CPU time (a steal of at least MaterialContention), by the
// note that no change to the plan cures that.
func (f Floor) Remedies() string {
	if f.Steal < MaterialContention {
		return ClientRemedies
	}
	return fmt.Sprintf("this runner's hypervisor gave %s of its CPU time to other machines (CPU steal), which no change to the plan cures: run again, or on a runner whose CPUs are its own; otherwise %s",
		FormatPercent(f.Steal), ClientRemedies)
}

// stealOf is runner's CPU steal, 0 where unrecorded.
func stealOf(runner *result.Runner) float64 {
	if runner == nil || runner.CPUSteal == nil {
		return 0
	}
	return *runner.CPUSteal
}

// NS is the floor itself: client delay plus wake-up delay at the quantile.
// Under it the run cannot see the target's latency.
func (f Floor) NS() int64 { return f.ClientNS + f.WakeupNS }

// FloorOf reads an operation's measurement floor at quantile q (1 for the
// maximum). ok is false when the result lacks what it needs: an older
// result, or a closed-loop run. An operation of one stage (see
// result.ComponentResult.OfStage) has client delays but no service times,
// and is read as a slice of the run (sliceFloor).
func FloorOf(op *result.OperationResult, runner *result.Runner, q float64) (Floor, bool) {
	if op == nil || runner == nil || op.ClientDelayHistogram == "" {
		return Floor{}, false
	}
	client, err1 := op.ClientDelays()
	wake, err2 := runner.Wakeups()
	if err1 != nil || err2 != nil || client.TotalCount() == 0 || wake.TotalCount() == 0 {
		return Floor{}, false
	}
	if op.ServiceHistogram == "" {
		latency, err1 := op.WholeHistogram()
		own, err2 := op.LatenciesLessClient()
		if err1 != nil || err2 != nil {
			return Floor{}, false
		}
		f := sliceFloor(latency, client, wake, own, q)
		f.Steal = stealOf(runner)
		return f, true
	}
	service, err := hdrhistogram.Decode([]byte(op.ServiceHistogram))
	if err != nil {
		return Floor{}, false
	}
	f := Floor{ClientNS: quantileOf(client, q), WakeupNS: quantileOf(wake, q), ServiceNS: quantileOf(service, q), Steal: stealOf(runner)}
	// The latency less the client delay holds the service time and what
	// the target's earlier replies held it up: a target that stalls now
	// and then makes the operations queued behind the stall late, each
	// answered quickly once it is over, so its service times alone would
	// put the tail it made down to the generator. An older result's ideal
	// timeline counted the runner's late noticing of replies as the
	// target's: it is read on its service times, as it was judged.
	own := service
	if op.HasIntervalLatenciesLessClient() {
		if less, err := op.LatenciesLessClient(); err == nil && less.TotalCount() > 0 {
			own, f.OwnNS = less, quantileOf(less, q)
		}
	}
	f.TargetNS = targetBound(own, wake, q)
	return f, true
}

// quantileOf is h's q-quantile, its maximum for q 1.
func quantileOf(h *hdrhistogram.Histogram, q float64) int64 {
	if q >= 1 {
		return h.Max()
	}
	return h.ValueAtQuantile(q * 100)
}

// targetBound is a lower bound of the q-quantile of the target's own share
// of the service time, or of the latency less the client delay (a wait
// that is the target's doing, plus the service time). A service time S is
// the target's part T plus the delay R with which tailgate noticed the
// reply, and R is distributed as the runner's wake-up delays W. Whatever
// their dependence, for any level p < q at most a share 1−p of S lies
// above Q_p(S) and at most a share q−p of R above Q_(1−q+p)(W), so more
// than a share 1−q of T lies above their difference:
//
//	Q_q(T) ≥ max over p < q of  Q_p(S) − Q_(1−q+p)(W)
//
// A slow target shows in the body of S, where the runner's delays are
// short; a starved generator's stalls only reach the tail.
func targetBound(service, wake *hdrhistogram.Histogram, q float64) int64 {
	return lowerBound(service, q, wake)
}

// boundSteps is how many levels p below q lowerBound tries.
const boundSteps = 200

// lowerBound is a lower bound of the q-quantile of what is left of total
// once the parts are taken out of it, operation by operation, knowing only
// each one's distribution: for any level p < q, at least a share 1−p of
// total lies at or above Q_p(total), and at most a share (q−p)/k of each of
// the k parts above its Q_(1−(q−p)/k), so on at least a share 1−q what is
// left is at least the difference:
//
//	Q_q(total − parts) ≥ max over p < q of  Q_p(total) − Σ Q_(1−(q−p)/k)(part)
//
// Each histogram is read in one pass over its buckets.
func lowerBound(total *hdrhistogram.Histogram, q float64, parts ...*hdrhistogram.Histogram) int64 {
	k := float64(len(parts))
	levels := make([]float64, boundSteps)
	for i := range levels {
		levels[i] = q * float64(i) / boundSteps * 100
	}
	bound := total.ValueAtPercentilesSlice(levels)
	for _, h := range parts {
		for i := range levels {
			p := q * float64(i) / boundSteps
			levels[i] = min((1-(q-p)/k)*100, 100)
		}
		for i, v := range h.ValueAtPercentilesSlice(levels) {
			bound[i] -= v
		}
	}
	return max(slices.Max(bound), 0)
}

// sliceFloor is the measurement floor at quantile q of a slice of a run (a
// window, a third of it, a stage), from its latencies, client delays and
// latencies less them (own) and the runner's wake-up delays (the slice's
// own, or the whole run's where the result has none per interval, as for a
// stage): a slice records no service times, so ServiceNS is 0. TargetNS
// bounds the target's part of own as FloorOf does a whole run's (see
// targetBound). Where the slice has none (own nil or empty: an older
// result), it bounds what is left of each latency once both the
// generator's delay in sending and the runner's in noticing the reply are
// taken out (see lowerBound), the wait for the connection's previous reply
// staying the target's.
func sliceFloor(latency, client, wake, own *hdrhistogram.Histogram, q float64) Floor {
	f := Floor{ClientNS: quantileOf(client, q), WakeupNS: quantileOf(wake, q)}
	if own != nil && own.TotalCount() > 0 {
		f.OwnNS, f.TargetNS = quantileOf(own, q), targetBound(own, wake, q)
		return f
	}
	f.TargetNS = lowerBound(latency, q, client, wake)
	return f
}

// intervalDelays reads what the floor of op's intervals [from, to) rests on:
// their client delays, and the runner's wake-up delays over them, the
// slice's own where the runner has them per interval (a short stall of the
// runner that the whole run's p99 does not see still delays the replies
// noticed in its slice) and the whole run's otherwise. ok is false when the
// result lacks either (older, closed-loop), or they do not decode: the
// slice is then judged on its latency alone. Read a slice at a time: a
// slice's merged histograms are dense (270 KB each).
func intervalDelays(op *result.OperationResult, runner *result.Runner, from, to int) (client, wake *hdrhistogram.Histogram, ok bool) {
	if runner == nil || !op.HasIntervalClientDelays() {
		return nil, nil, false
	}
	client, err := op.ClientDelaysOver(from, to)
	if err != nil {
		return nil, nil, false
	}
	if to <= len(runner.Intervals) {
		if w, err := runner.WakeupsOver(from, to); err == nil && w.TotalCount() > 0 {
			return client, w, true
		}
	}
	wake, err = runner.Wakeups()
	if err != nil || wake.TotalCount() == 0 {
		return nil, nil, false
	}
	return client, wake, true
}

// IntervalsFloorNS is the measurement floor at the p99 of op's intervals
// [from, to): their client delay p99 plus the runner's wake-up p99 over them,
// as p99_window reads a window's (see intervalDelays); ok is false when the
// result cannot give it.
func IntervalsFloorNS(op *result.OperationResult, runner *result.Runner, from, to int) (ns int64, ok bool) {
	client, wake, ok := intervalDelays(op, runner, from, to)
	if !ok {
		return 0, false
	}
	return Floor{ClientNS: quantileOf(client, 0.99), WakeupNS: quantileOf(wake, 0.99)}.NS(), true
}

// excuses reports whether a floor f puts a latency above bar down to the
// load generator: the target's own part may be within the bar, and the
// generator's own delay is at least MaterialFloor of it (see clientBound).
func (f Floor) excuses(bar float64) bool {
	return float64(f.TargetNS) <= bar && float64(f.NS()) >= MaterialFloor*bar
}

// metricQuantile is the quantile a latency metric reads: 1 for the maximum.
func metricQuantile(m slo.Metric) float64 {
	if q, ok := m.Quantile(); ok {
		return q
	}
	return 1
}

// clientBound decides a latency objective that missed its bar: it is
// client-bound, neither a pass nor a fail, when
//
//   - the target's own part may be within the bar: the least the target
//     itself took at the quantile (Floor.TargetNS: its latency less the
//     client delay, its service time and its wait behind its own earlier
//     replies, with every reply granted a wake-up delay like the
//     runner's) is at most the bar; and
//   - the generator's own part is material: the floor (client delay plus
//     the runner's wake-up delay, both at the quantile) is at least
//     MaterialFloor of the bar.
//
// A target whose own latency misses the bar fails whatever the generator
// did; a generator precise to a tenth of the bar leaves the miss to the
// target. The floor is recorded on the objective either way.
func clientBound(r *status.ObjectiveResult, m slo.Metric, op *result.OperationResult, runner *result.Runner) {
	f, ok := FloorOf(op, runner, metricQuantile(m))
	if !ok {
		return
	}
	r.FloorNS = f.NS()
	if r.Status != status.Fail && r.Status != status.Missed {
		return
	}
	bar := r.ThresholdValue
	if !f.excuses(bar) {
		return
	}
	r.Status = status.ClientBound
	late := ""
	if op.Count > 0 && f.ServiceNS > 0 {
		late = fmt.Sprintf(", %s of sends late", FormatPercent(float64(op.Late)/float64(op.Count)))
	}
	target := fmt.Sprintf("the target's service time (%s at %s) may be within the bar once the runner's wake-up delays are allowed for (at least %s)", dur(f.ServiceNS), m, dur(f.TargetNS))
	switch {
	case f.OwnNS > 0:
		target = fmt.Sprintf("the target's own latency, its service time and the wait behind its earlier replies (%s at %s), may be within the bar once the runner's wake-up delays are allowed for (at least %s)", dur(f.OwnNS), m, dur(f.TargetNS))
	case f.ServiceNS == 0:
		target = fmt.Sprintf("the target's own part may be within the bar once the generator's and the runner's delays are taken out of the latency (at least %s at %s)", dur(f.TargetNS), m)
	}
	r.Detail = fmt.Sprintf("the load generator was too late to measure the target: its own delay at %s was %s (client delay %s, runner wake-up delay %s%s), %s of the bar %s, and %s: %s",
		m, dur(f.NS()), dur(f.ClientNS), dur(f.WakeupNS), late, FormatPercent(float64(f.NS())/bar), dur(int64(bar)), target, f.Remedies())
}

// unsentBound makes a missed error_rate or throughput bar client-bound
// when the operations tailgate itself left unsent decide it: the unsent
// operations a load generator never late would have sent before the window
// closed (result.OperationResult.ClientUnsent) were never offered to the
// target, and met says whether the bar holds without them, neither sent
// nor failed. Unsent operations that waited on the target's own replies
// stay the target's.
func unsentBound(r *status.ObjectiveResult, op *result.OperationResult, met func(count, errors int64) bool) {
	if op.ClientUnsent <= 0 || !met(op.Count, op.Errors-op.ClientUnsent) {
		return
	}
	r.Status = status.ClientBound
	r.Detail = fmt.Sprintf("the load generator fell behind: %d of the %d operations left unsent when the window closed would have been sent in time by a generator never late (tailgate was short of CPU or wake-ups, not waiting on the target), and without them the bar is met: %s",
		op.ClientUnsent, op.ErrorKinds[result.KindUnsent], ClientRemedies)
}

func dur(ns int64) string { return slo.FormatDuration(time.Duration(ns)) }
