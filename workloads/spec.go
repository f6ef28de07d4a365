package workloads

import (
	"time"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// DefaultInterval is the length of one per-interval histogram.
const DefaultInterval = time.Second

// Spec is everything the engine needs to load one component.
type Spec struct {
	Component slo.Component
	Duration  time.Duration
	Warmup    time.Duration
	Seed      int64
	Shard     result.Shard
	// Interval is the per-interval histogram length; DefaultInterval if zero.
	Interval time.Duration
	// Secrets are redacted from everything the run prints or writes.
	Secrets []string
	// SkipPrefill is set on the later parts of a run made of several
	// (interleaved segments, adaptive extensions): the first part wrote
	// the keys. KeepKeys is set on every part but the last, for the same
	// reason: the run cleans up after its last part.
	SkipPrefill, KeepKeys bool
}

// Operations names the component's operations, indexed by Op.Kind.
func (s *Spec) Operations() []string {
	return s.Component.Operations()
}

// weights returns the operation weights, indexed by Op.Kind.
func (s *Spec) weights() []int {
	w := &s.Component.Workload
	if len(w.Requests) > 0 {
		out := make([]int, len(w.Requests))
		for i, r := range w.Requests {
			out[i] = r.Weight
		}
		return out
	}
	out := make([]int, len(w.Mix))
	for i, m := range w.Mix {
		out[i] = m.Weight
	}
	return out
}

// shares returns each operation's part of the asked rate, indexed by
// Op.Kind, as the drawer draws them: its weight over the weights' total.
// When the weights add up to 0 (a spec built in code; a plan refuses it)
// the drawer sends every operation as the first, and so the first is asked
// the whole rate. Every record of a run asks an operation this part.
func (s *Spec) shares() []float64 {
	weights := s.weights()
	total := 0
	for _, w := range weights {
		total += w
	}
	out := make([]float64, len(weights))
	if total <= 0 {
		if len(out) > 0 {
			out[0] = 1
		}
		return out
	}
	for k, w := range weights {
		out[k] = float64(w) / float64(total)
	}
	return out
}

// rate is this shard's share of the asked rate.
func (s *Spec) rate() float64 {
	if s.Shard.Count > 1 {
		return s.Component.Workload.Rate / float64(s.Shard.Count)
	}
	return s.Component.Workload.Rate
}

// Pipeline is how many operations one connection may have in flight: the
// workload's pipeline, at least 1.
func (s *Spec) Pipeline() int { return max(s.Component.Workload.Pipeline, 1) }

// ttlMargin is how much longer than the run's planned length a write
// lives when the plan sets no ttl.
const ttlMargin = time.Hour

// TTL is the expiry of every write: the workload's ttl, or by default the
// run's planned length (prefill at its rate, warmup and duration) plus an
// hour, in whole seconds, so that no key of a run is left forever and
// none expires while it lasts.
func (s *Spec) TTL() time.Duration {
	w := &s.Component.Workload
	if w.TTL > 0 {
		return w.TTL
	}
	planned := s.Warmup + s.Duration + ttlMargin
	if w.Prefill.Enabled {
		planned += time.Duration(float64(max(w.Keys.Count, 1)) / s.PrefillRate() * float64(time.Second))
	}
	return (planned + time.Second - 1).Truncate(time.Second)
}

// PrefillRate is how many keys a second prefill writes.
func (s *Spec) PrefillRate() float64 {
	if r := s.Component.Workload.Prefill.Rate; r > 0 {
		return r
	}
	return slo.DefaultPrefillRate
}

func (s *Spec) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

// Identity returns the comparable description of the spec's workload:
// result.IdentityOf its component at its seed, with its secrets redacted.
func (s *Spec) Identity() result.WorkloadIdentity {
	return result.IdentityOf(&s.Component, s.Seed, s.Secrets)
}
