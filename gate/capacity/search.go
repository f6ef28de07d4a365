// Package capacity finds how much load a component carries: the highest
// open-loop rate at which every minimum objective of the component still
// holds, with its uncertainty, and judges the capacity objectives and
// regressions of a plan (capacity: 30000/s, capacity: -5%) against it.
//
// The search (Search) asks a Prober for probes: short open-loop runs at one
// rate, each judged by the gate like a run. It ramps up exponentially from
// the lowest rate until a probe fails, then bisects between the highest
// passing rate and the lowest failing one until they are within the asked
// precision. The capacity is the highest rate that passed; the failing rate
// above it bounds it from above (the bracket). The search stops early, and
// says why, at the first breach of an error-rate bar, at a probe that is
// client-bound (the generator, not the target, is then the limit: the search
// never reports it as the target's capacity), at a probe with too few
// samples even after it was lengthened, when its budget of probes or time
// is spent, or when it is interrupted.
//
// The package runs no load: the prober does, and it is the caller's. The
// capacity file (File, tailgate.capacity/v1) records the search.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
)

// ProbeVerdict is what one probe showed.
type ProbeVerdict string

// The verdicts of a probe.
const (
	// ProbePass: every minimum objective held at the rate.
	ProbePass ProbeVerdict = "pass"
	// ProbeFail: a minimum objective failed at the rate.
	ProbeFail ProbeVerdict = "fail"
	// ProbeErrorRate: an error-rate bar was breached, or the run was
	// aborted for its errors: the target fails requests at the rate.
	ProbeErrorRate ProbeVerdict = "error-rate"
	// ProbeClientBound: the load generator was too late sending for the
	// probe to measure the target.
	ProbeClientBound ProbeVerdict = "client-bound"
	// ProbeInsufficient: too few samples to judge a percentile.
	ProbeInsufficient ProbeVerdict = "insufficient"
	// ProbeInterrupted: the probe was cut short and not judged.
	ProbeInterrupted ProbeVerdict = "interrupted"
)

// probeVerdicts lists every probe verdict, for decoding.
var probeVerdicts = []ProbeVerdict{ProbePass, ProbeFail, ProbeErrorRate, ProbeClientBound, ProbeInsufficient, ProbeInterrupted}

// Step is what a probe is asked to do: load at Rate for Duration, measured,
// after Warmup, unmeasured.
type Step struct {
	Rate     float64
	Duration time.Duration
	Warmup   time.Duration
}

// Prober runs one probe and judges it. An error means the probe could not
// run at all (an unreachable target); the search stops on it. A probe cut
// short by ctx has the verdict ProbeInterrupted.
type Prober func(ctx context.Context, step Step) (Probe, error)

// Bounds bound a search; a plan's capacity block gives them
// (slo.Capacity, with its defaults).
type Bounds struct {
	// Min is the first rate probed; Max the highest, never exceeded.
	Min, Max float64
	// Precision is the widest bracket the search ends with, relative to
	// the capacity: (upper − capacity) / capacity ≤ Precision.
	Precision float64
	// MaxProbes is the most probes the search runs, every lengthened or
	// repeated probe included.
	MaxProbes int
	// MaxDuration is the most time the search spends; a probe that would
	// end past it is not started.
	MaxDuration time.Duration
	// ProbeDuration is a probe's measured length, ProbeWarmup its warmup.
	ProbeDuration, ProbeWarmup time.Duration
	// Lengthen is how many times a probe with too few samples is measured
	// again, twice as long each time, before the search stops on it.
	Lengthen int
	// Confirm is how many times a failing probe is measured again before
	// its failure is believed: the rate fails only if every one fails.
	Confirm int
	// Bars are rates the caller will judge the capacity against (the
	// plan's capacity objectives): one lying inside the final bracket is
	// probed too, so that the bar is decided by a probe at it, never left
	// between a pass and a fail.
	Bars []float64
}

// Check reports bounds that cannot be searched, quoting the bad value.
func (b Bounds) Check() error {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case !finite(b.Min) || b.Min <= 0:
		return fmt.Errorf("the lowest rate %q must be more than 0", formatFloat(b.Min))
	case !finite(b.Max) || b.Max < b.Min:
		return fmt.Errorf("the highest rate %q must be at least the lowest, %s", formatFloat(b.Max), formatFloat(b.Min))
	case !finite(b.Precision) || b.Precision <= 0 || b.Precision > 1:
		return fmt.Errorf("precision %q must be more than 0%% and at most 100%%", slo.FormatPercent(b.Precision))
	case b.MaxProbes < 1:
		return fmt.Errorf("the most probes %d must be at least 1", b.MaxProbes)
	case b.MaxDuration <= 0 || b.ProbeDuration <= 0 || b.ProbeWarmup < 0:
		return fmt.Errorf("durations must be positive: max_duration %s, probe_duration %s, probe_warmup %s", b.MaxDuration, b.ProbeDuration, b.ProbeWarmup)
	case b.Lengthen < 0 || b.Confirm < 0:
		return fmt.Errorf("lengthen %d and confirm %d must not be negative", b.Lengthen, b.Confirm)
	}
	return nil
}

// Stop says why a search ended.
type Stop string

// The reasons a search ends.
const (
	// StopPrecision: the bracket is within the precision: found.
	StopPrecision Stop = "precision"
	// StopMaxRate: the highest rate allowed passed: the capacity is at
	// least that.
	StopMaxRate Stop = "max-rate"
	// StopBelowMin: the lowest rate failed: the capacity is below it.
	StopBelowMin Stop = "below-min"
	// StopErrorRate: a probe breached an error-rate bar; the search does
	// not load a failing target further.
	StopErrorRate Stop = "error-rate"
	// StopClientBound: a probe was client-bound: the generator, not the
	// target, is the limit at that rate.
	StopClientBound Stop = "client-bound"
	// StopInsufficient: a probe had too few samples even lengthened.
	StopInsufficient Stop = "insufficient"
	// StopMaxProbes: the budget of probes is spent.
	StopMaxProbes Stop = "max-probes"
	// StopMaxDuration: the budget of time is spent.
	StopMaxDuration Stop = "max-duration"
	// StopInterrupted: the search was interrupted (Ctrl-C).
	StopInterrupted Stop = "interrupted"
	// StopError: a probe could not run.
	StopError Stop = "error"
)

var stops = []Stop{StopPrecision, StopMaxRate, StopBelowMin, StopErrorRate, StopClientBound, StopInsufficient, StopMaxProbes, StopMaxDuration, StopInterrupted, StopError}

// Conclusive reports whether the search ended on what the target showed
// (its capacity bracketed to the precision, at least the highest rate, below
// the lowest, or bounded by an error-rate breach) rather than on a limit of
// its own (the generator, samples, budgets, an interrupt, an error).
func (s Stop) Conclusive() bool {
	switch s {
	case StopPrecision, StopMaxRate, StopBelowMin, StopErrorRate:
		return true
	}
	return false
}

// Outcome is what a search found.
type Outcome struct {
	// Probes are every probe run, in order.
	Probes []Probe
	// Capacity is the highest rate that passed; 0 when none did.
	Capacity float64
	// Upper is the lowest rate above Capacity that failed (a bar or an
	// error-rate bar): the capacity is below it. 0 when none did.
	Upper float64
	// Stop is why the search ended; Detail says it in words.
	Stop   Stop
	Detail string
}

// Search finds a component's capacity by probing it.
type Search struct {
	Bounds Bounds
	Probe  Prober
	// Now is the clock the time budget is kept by; nil for time.Now.
	Now func() time.Time
	// Progress, when set, is told of every probe as it ends.
	Progress func(Probe)
}

// errStop ends a search from inside step.
var errStop = errors.New("search stopped")

// Run searches. The outcome is never nil: on an error from the prober
// (StopError) or an interrupt it holds what was found before.
func (s *Search) Run(ctx context.Context) (*Outcome, error) {
	b := s.Bounds
	if err := b.Check(); err != nil {
		return nil, err
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	r := &runner{s: s, b: b, out: &Outcome{}, start: now(), now: now}
	err := r.search(ctx)
	if errors.Is(err, errStop) {
		err = nil
	}
	return r.out, err
}

type runner struct {
	s     *Search
	b     Bounds
	out   *Outcome
	start time.Time
	now   func() time.Time
}

func (r *runner) stop(why Stop, format string, args ...any) error {
	r.out.Stop, r.out.Detail = why, fmt.Sprintf(format, args...)
	return errStop
}

func (r *runner) search(ctx context.Context) error {
	b, out := r.b, r.out
	rate := b.Min
	for {
		v, err := r.judgeRate(ctx, rate)
		if err != nil {
			return err
		}
		switch v {
		case ProbePass:
			out.Capacity = max(out.Capacity, rate)
		case ProbeFail:
			r.failedAt(rate)
		}
		switch {
		case out.Capacity == 0:
			return r.stop(StopBelowMin, "the lowest rate, %s/s, failed: the capacity is below it", formatRate(rate))
		case out.Upper == 0 && rate >= b.Max:
			return r.stop(StopMaxRate, "every probe passed up to the highest rate allowed, %s/s: the capacity is at least that", formatRate(b.Max))
		case out.Upper == 0:
			rate = min(rate*2, b.Max)
			continue
		}
		if out.Upper-out.Capacity > b.Precision*out.Capacity {
			rate = midpoint(out.Capacity, out.Upper)
			continue
		}
		if bar, ok := r.barInside(); ok {
			rate = bar
			continue
		}
		return r.stop(StopPrecision, "the capacity is %s/s, below %s/s (within %s)", formatRate(out.Capacity), formatRate(out.Upper), slo.FormatPercent(b.Precision))
	}
}

// failedAt lowers the bracket's upper bound to a rate that failed.
func (r *runner) failedAt(rate float64) {
	if r.out.Upper == 0 || rate < r.out.Upper {
		r.out.Upper = rate
	}
}

// barInside returns a bar the bracket holds strictly inside: probing it
// decides the bar. The search asks once the bracket is within the precision.
func (r *runner) barInside() (float64, bool) {
	out := r.out
	for _, bar := range r.b.Bars {
		if out.Capacity < bar && bar < out.Upper {
			return bar, true
		}
	}
	return 0, false
}

// midpoint is the rate halfway between lo and hi, rounded to a whole rate
// when the bracket is wide enough for it to stay strictly inside.
func midpoint(lo, hi float64) float64 {
	m := (lo + hi) / 2
	if r := math.Round(m); r > lo && r < hi {
		return r
	}
	return m
}

// judgeRate decides one rate: one probe, lengthened while it has too few
// samples and repeated while it fails (Bounds.Confirm). It returns the
// rate's verdict, pass or fail; any other verdict ends the search.
func (r *runner) judgeRate(ctx context.Context, rate float64) (ProbeVerdict, error) {
	b := r.b
	duration := b.ProbeDuration
	lengthened, confirmed := 0, 0
	for {
		p, err := r.probe(ctx, Step{Rate: rate, Duration: duration, Warmup: b.ProbeWarmup})
		if err != nil {
			return "", err
		}
		switch p.Verdict {
		case ProbePass:
			return ProbePass, nil
		case ProbeFail:
			if confirmed < b.Confirm {
				confirmed++
				continue
			}
			return ProbeFail, nil
		case ProbeInsufficient:
			if lengthened < b.Lengthen {
				lengthened++
				duration *= 2
				continue
			}
			return "", r.stop(StopInsufficient, "the probe at %s/s had too few samples to judge even measured for %s: %s", formatRate(rate), duration, p.Detail)
		case ProbeErrorRate:
			r.failedAt(rate)
			return "", r.stop(StopErrorRate, "the probe at %s/s breached an error-rate bar; the search stops loading a failing target: %s", formatRate(rate), p.Detail)
		case ProbeClientBound:
			return "", r.stop(StopClientBound, "at %s/s the load generator, not the target, is the limit: it was too late sending for the probe to measure the target, so %s/s is not the target's capacity: %s", formatRate(rate), formatRate(rate), p.Detail)
		case ProbeInterrupted:
			return "", r.stop(StopInterrupted, "interrupted during the probe at %s/s: what was found before is kept", formatRate(rate))
		default:
			return "", r.stop(StopError, "the probe at %s/s has verdict %q, which the search does not know", formatRate(rate), p.Verdict)
		}
	}
}

// probe runs one probe within the budgets.
func (r *runner) probe(ctx context.Context, step Step) (Probe, error) {
	b, out := r.b, r.out
	if ctx.Err() != nil {
		return Probe{}, r.stop(StopInterrupted, "interrupted before the probe at %s/s: what was found before is kept", formatRate(step.Rate))
	}
	if len(out.Probes) >= b.MaxProbes {
		return Probe{}, r.stop(StopMaxProbes, "the budget of %d probes is spent (capacity.max_probes) before the probe at %s/s", b.MaxProbes, formatRate(step.Rate))
	}
	if spent := r.now().Sub(r.start); spent+step.Warmup+step.Duration > b.MaxDuration {
		return Probe{}, r.stop(StopMaxDuration, "the budget of %s is spent (capacity.max_duration): %s gone, and the probe at %s/s would take %s more", b.MaxDuration, spent.Round(time.Millisecond), formatRate(step.Rate), step.Warmup+step.Duration)
	}
	p, err := r.s.Probe(ctx, step)
	if err != nil {
		r.stop(StopError, "the probe at %s/s could not run: %v", formatRate(step.Rate), err)
		return Probe{}, fmt.Errorf("probe at %s/s: %w", formatRate(step.Rate), err)
	}
	p.Rate = step.Rate
	out.Probes = append(out.Probes, p)
	if r.s.Progress != nil {
		r.s.Progress(p)
	}
	return p, nil
}

// formatRate prints a rate as the reports do: whole above 10/s.
func formatRate(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return formatFloat(r)
}

func formatFloat(f float64) string {
	return fmt.Sprintf("%.4g", f)
}
