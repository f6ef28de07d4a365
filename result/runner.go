package result

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Runner is a measurement of the machine that ran the load, taken while it
// ran (warmup included): how late the generator's timer woke, and how long
// a fixed computation took. A runner that is busy with other work, slower
// or throttled shows in both; two results whose runners differ cannot be
// told apart from two targets that differ (gate's runner-noise rule).
// Package workloads probes the runner; this is the record the result file
// carries.
type Runner struct {
	// CPUs is the number of CPUs the process could use (GOMAXPROCS).
	CPUs int `json:"cpus"`
	// WakeupNS is how late the probe woke after its intended instant, on
	// the same high-resolution timer the workers wait on: the delay the
	// runner's scheduler adds to anything tailgate waits for, replies
	// included.
	WakeupNS        Percentiles `json:"wakeup_ns"`
	WakeupHistogram string      `json:"wakeup_histogram"`
	// CPUProbeNS is the duration of the fixed computation: its median is
	// the runner's speed, its tail the preemptions it suffered.
	CPUProbeNS        Percentiles `json:"cpu_probe_ns"`
	CPUProbeHistogram string      `json:"cpu_probe_histogram"`
	// Intervals are the wake-up delays of each interval of the measured
	// window, laid out as the operations' intervals are (same length, same
	// start), so a slice of the run reads how late the runner woke tailgate
	// during it. Left out of merged and joined results (whose runners were
	// several) and of results written before they were recorded.
	Intervals []RunnerInterval `json:"intervals,omitempty"`
	// CPUPressure is the share of the measured window during which some
	// runnable task on the runner waited for a CPU (Linux pressure stall
	// information, /proc/pressure/cpu "some"), within [0, 1]: the
	// contention a target sharing the runner is slowed by, which the
	// probe's wake-ups can miss (two busy loops beside a run on two CPUs
	// took it from 6% to 25% and left the probe's p99 wake-up delay where
	// the noise of other runs put it). Absent where the kernel does not
	// report it, and in results written before it was recorded.
	CPUPressure *float64 `json:"cpu_pressure,omitempty"`
	// CPUSteal is the share of the runner's CPU time during the measured
	// window that its hypervisor gave to other machines (steal, from Linux's
	// /proc/stat), within [0, 1]: a virtual runner's noisy neighbours, which
	// slow tailgate and a target beside it alike and which CPU pressure
	// does not count. On one 2-CPU CI machine, 2 s runs against the same
	// server read a median of 2.2 ms at 0–2% steal and 3.1–4.0 ms at
	// 21–25%. Absent where the kernel does not report it.
	CPUSteal *float64 `json:"cpu_steal,omitempty"`
}

// checkPressure checks that the runner's CPU pressure and steal, when
// recorded, are shares.
func (r *Runner) checkPressure() error {
	if p := r.CPUPressure; p != nil && !(*p >= 0 && *p <= 1) {
		return fmt.Errorf("runner cpu_pressure %v is not a share within [0, 1]", *p)
	}
	if p := r.CPUSteal; p != nil && !(*p >= 0 && *p <= 1) {
		return fmt.Errorf("runner cpu_steal %v is not a share within [0, 1]", *p)
	}
	return nil
}

// Contention is a runner's record of how long its tasks were kept from a
// CPU over the measured window: its CPU pressure and its steal, shares of
// the window, each nil where the runner did not record it.
type Contention struct {
	Pressure, Steal *float64
}

// Contentions sums each of cs over the figures (CPU pressure, steal) that
// every one of cs records, so that runners are compared on the same
// terms: a figure only some of them record is left out of all. ok is
// false when no figure is recorded by all (or cs is empty).
func Contentions(cs ...Contention) (shares []float64, ok bool) {
	pressure, steal := len(cs) > 0, len(cs) > 0
	for _, c := range cs {
		pressure = pressure && c.Pressure != nil
		steal = steal && c.Steal != nil
	}
	if !pressure && !steal {
		return nil, false
	}
	shares = make([]float64, len(cs))
	for i, c := range cs {
		if pressure {
			shares[i] += *c.Pressure
		}
		if steal {
			shares[i] += *c.Steal
		}
	}
	return shares, true
}

// CPUContention is r's contention record; none for a nil r.
func (r *Runner) CPUContention() Contention {
	if r == nil {
		return Contention{}
	}
	return Contention{Pressure: r.CPUPressure, Steal: r.CPUSteal}
}

// Contention is the share of the measured window the runner's tasks were
// kept from a CPU: its CPU pressure plus its steal, of those recorded in
// both r and other (see Contentions); ok is false when neither is
// recorded in both.
func (r *Runner) Contention(other *Runner) (share float64, ok bool) {
	shares, ok := Contentions(r.CPUContention(), other.CPUContention())
	if !ok {
		return 0, false
	}
	return shares[0], true
}

// RunnerInterval is the runner's record of one interval of the measured
// window.
type RunnerInterval struct {
	// OffsetNS is the interval's start from the measured window's start.
	OffsetNS int64 `json:"offset_ns"`
	// WakeupHistogram holds the probe's wake-up delays of the interval
	// (HdrHistogram, V2 compressed, base64).
	WakeupHistogram string `json:"wakeup_histogram"`
}

// IntervalWakeup decodes the wake-up delays of the runner's i-th interval,
// packed (see OperationResult.IntervalHistogram).
func (r *Runner) IntervalWakeup(i int) (*hdrhistogram.PackedHistogram, error) {
	return decodeOptionalPacked(r.Intervals[i].WakeupHistogram, fmt.Sprintf("runner interval %d: wakeup histogram", i))
}

// Wakeups decodes the wake-up delay histogram.
func (r *Runner) Wakeups() (*hdrhistogram.Histogram, error) {
	return decodeOptional(r.WakeupHistogram, "runner wakeup histogram")
}

// CPUProbes decodes the CPU probe histogram.
func (r *Runner) CPUProbes() (*hdrhistogram.Histogram, error) {
	return decodeOptional(r.CPUProbeHistogram, "runner cpu probe histogram")
}

// RunnerOf is the runner record of the probe's histograms: wake-up delays
// and CPU probe durations, and the CPUs the process could use.
func RunnerOf(wakeups, cpu *hdrhistogram.Histogram, cpus int) *Runner {
	return &Runner{
		CPUs:     cpus,
		WakeupNS: PercentilesOf(wakeups), WakeupHistogram: EncodeHistogram(wakeups),
		CPUProbeNS: PercentilesOf(cpu), CPUProbeHistogram: EncodeHistogram(cpu),
	}
}

// mergeRunners joins the runner records of segments or shards: their
// samples together, the fewest CPUs, no intervals (the parts' runners were
// several, or ran at other times). Results without one are skipped; nil
// when none has one.
func mergeRunners(rs []*Result) (*Runner, error) {
	wakeups, cpu := NewHistogram(), NewHistogram()
	cpus, found := 0, false
	// The parts' CPU pressures and steals, weighed by their wake-ups,
	// which the probe samples at a fixed period: by how long each ran.
	// Each only when every part recorded it.
	var pressure, steal shareMean
	for _, r := range rs {
		if r.Runner == nil {
			continue
		}
		w, err := r.Runner.Wakeups()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		c, err := r.Runner.CPUProbes()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := mergeInto(wakeups, w, "runner", "wakeup histogram"); err != nil {
			return nil, err
		}
		if err := mergeInto(cpu, c, "runner", "cpu probe histogram"); err != nil {
			return nil, err
		}
		if !found || r.Runner.CPUs < cpus {
			cpus = r.Runner.CPUs
		}
		found = true
		pressure.add(r.Runner.CPUPressure, w.TotalCount())
		steal.add(r.Runner.CPUSteal, w.TotalCount())
	}
	if !found {
		return nil, nil
	}
	merged := RunnerOf(wakeups, cpu, cpus)
	merged.CPUPressure, merged.CPUSteal = pressure.mean(), steal.mean()
	return merged, nil
}

// shareMean is the weighted mean of parts' shares, kept only while every
// part has one (none missing).
type shareMean struct {
	sum, weight float64
	missing     bool
}

// add counts a part's share (nil when it has none) with a weight.
func (m *shareMean) add(share *float64, weight int64) {
	if share == nil || weight <= 0 {
		m.missing = true
		return
	}
	m.sum += *share * float64(weight)
	m.weight += float64(weight)
}

// mean is the mean share, nil unless every part had one.
func (m *shareMean) mean() *float64 {
	if m.missing || m.weight == 0 {
		return nil
	}
	share := min(m.sum/m.weight, 1)
	return &share
}

// intervalsAgree checks the runner's intervals against its whole-run
// wake-up delays wake: laid end to end from the measured window's start,
// each sound, and together no more samples than the whole run's (which
// also holds the warmup's).
func (r *Runner) intervalsAgree(wake *hdrhistogram.Histogram) error {
	var n int64
	for i := range r.Intervals {
		h, err := r.IntervalWakeup(i)
		if err != nil {
			return err
		}
		switch at := r.Intervals[i].OffsetNS; {
		case at < 0:
			return fmt.Errorf("runner interval %d starts at %d ns, before the measured window", i, at)
		case i > 0 && at <= r.Intervals[i-1].OffsetNS:
			return fmt.Errorf("runner interval %d starts at %d ns, not after interval %d", i, at, i-1)
		}
		n += h.TotalCount()
	}
	if n > wake.TotalCount() {
		return fmt.Errorf("runner intervals hold %d wake-ups, the whole run %d", n, wake.TotalCount())
	}
	return nil
}

// WakeupsOver is the wake-ups of the runner's intervals [from, to) merged,
// decoded one at a time.
func (r *Runner) WakeupsOver(from, to int) (*hdrhistogram.Histogram, error) {
	return mergeOver(from, to, r.IntervalWakeup)
}

// mergeOver is the histograms read(from) … read(to−1) merged into one
// dense histogram, each read packed and merged in turn.
func mergeOver(from, to int, read func(i int) (*hdrhistogram.PackedHistogram, error)) (*hdrhistogram.Histogram, error) {
	m := NewHistogram()
	for i := from; i < to; i++ {
		h, err := read(i)
		if err != nil {
			return nil, err
		}
		if h != nil {
			h.MergeInto(m)
		}
	}
	return m, nil
}

// Over is the runner's record of the slice of the measured window from
// fromNS to toNS (a stage): its wake-ups those of the intervals the slice
// covers, when the result has intervals of length intervalNS and the
// slice starts on one's boundary and ends on one's or in the last one;
// otherwise, or when those intervals hold no wake-up, the whole run's
// record. The CPU probe stays the whole run's.
func (r *Runner) Over(fromNS, toNS, intervalNS int64) *Runner {
	if r == nil || len(r.Intervals) == 0 || intervalNS <= 0 || fromNS < 0 || fromNS%intervalNS != 0 {
		return r
	}
	from, to := int(fromNS/intervalNS), len(r.Intervals)
	switch last := int64(to-1) * intervalNS; {
	case toNS > last:
		// Ends in the last interval, which runs to the window's end
		// (shorter than the others when the window is no multiple).
	case toNS%intervalNS == 0:
		to = int(toNS / intervalNS)
	default:
		return r // ends inside an interval before the last
	}
	if from >= to {
		return r
	}
	m, err := r.WakeupsOver(from, to)
	if err != nil || m.TotalCount() == 0 {
		return r
	}
	out := *r
	out.WakeupNS, out.WakeupHistogram, out.Intervals = PercentilesOf(m), EncodeHistogram(m), nil
	// The CPU pressure and steal are the whole window's: a slice's are not
	// recorded.
	out.CPUPressure, out.CPUSteal = nil, nil
	return &out
}
