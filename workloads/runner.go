package workloads

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ProbeEvery is the period of the runner probe: every ProbeEvery while load
// runs, a goroutine of tailgate's wakes on the generator's own timer and
// times a fixed computation (see Runner).
const ProbeEvery = 2 * time.Millisecond

// cpuProbeRounds sizes the fixed computation of the CPU probe: a few
// microseconds on a current core, so probing costs well under 1% of one.
const cpuProbeRounds = 4000

// Runner is a measurement of the machine that ran the load, taken while it
// ran (warmup included): how late the generator's timer woke, and how long
// a fixed computation took. A runner that is busy with other work, slower
// or throttled shows in both; two results whose runners differ cannot be
// told apart from two targets that differ (gate's runner-noise rule).
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
}

// Wakeups decodes the wake-up delay histogram.
func (r *Runner) Wakeups() (*hdrhistogram.Histogram, error) {
	return decodeOptional(r.WakeupHistogram, "runner wakeup histogram")
}

// CPUProbes decodes the CPU probe histogram.
func (r *Runner) CPUProbes() (*hdrhistogram.Histogram, error) {
	return decodeOptional(r.CPUProbeHistogram, "runner cpu probe histogram")
}

// decodeOptional decodes a histogram field that older results lack: empty
// is an empty histogram.
func decodeOptional(enc, what string) (*hdrhistogram.Histogram, error) {
	if enc == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return h, nil
}

// runnerProbe records the probe's samples for one run.
type runnerProbe struct {
	wakeups, cpu *hdrhistogram.Histogram
}

// cpuProbeSink keeps the probe's computation from being optimized away.
var cpuProbeSink atomic.Uint64

// cpuProbe is the fixed computation: a chain of dependent xorshift rounds,
// no memory traffic, the same work on every call.
func cpuProbe() uint64 {
	x := uint64(0x9e3779b97f4a7c15)
	for range cpuProbeRounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// probeRunner samples the runner every ProbeEvery from start until ctx ends.
func probeRunner(ctx context.Context, start time.Time) *runnerProbe {
	p := &runnerProbe{wakeups: NewHistogram(), cpu: NewHistogram()}
	sl := newSleeper()
	defer sl.close()
	next := start
	for {
		next = next.Add(ProbeEvery)
		if !sl.until(ctx, next) {
			return p
		}
		woke := time.Now()
		_ = p.wakeups.RecordValue(clampNS(woke.Sub(next).Nanoseconds()))
		cpuProbeSink.Store(cpuProbe())
		_ = p.cpu.RecordValue(clampNS(time.Since(woke).Nanoseconds()))
		// After a stall the probes it swallowed fire at once, each late
		// by what is left of it: every instant is sampled, as an event
		// arriving then would have waited, stalls not under-counted.
	}
}

// result is the probe's record as the result file holds it.
func (p *runnerProbe) result() *Runner {
	return runnerOf(p.wakeups, p.cpu, runtime.GOMAXPROCS(0))
}

func runnerOf(wakeups, cpu *hdrhistogram.Histogram, cpus int) *Runner {
	return &Runner{
		CPUs:     cpus,
		WakeupNS: PercentilesOf(wakeups), WakeupHistogram: encodeHist(wakeups),
		CPUProbeNS: PercentilesOf(cpu), CPUProbeHistogram: encodeHist(cpu),
	}
}

// mergeRunners joins the runner records of segments or shards: their
// samples together, the fewest CPUs. Results without one are skipped; nil
// when none has one.
func mergeRunners(rs []*Result) (*Runner, error) {
	wakeups, cpu := NewHistogram(), NewHistogram()
	cpus, found := 0, false
	for _, r := range rs {
		if r.Runner == nil {
			continue
		}
		w, err := r.Runner.Wakeups()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadResult, err)
		}
		c, err := r.Runner.CPUProbes()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadResult, err)
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
	}
	if !found {
		return nil, nil
	}
	return runnerOf(wakeups, cpu, cpus), nil
}
