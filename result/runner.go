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
	}
	if !found {
		return nil, nil
	}
	return RunnerOf(wakeups, cpu, cpus), nil
}
