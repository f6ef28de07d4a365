package workloads

import (
	"sort"
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

// rate is this shard's share of the asked rate.
func (s *Spec) rate() float64 {
	if s.Shard.Count > 1 {
		return s.Component.Workload.Rate / float64(s.Shard.Count)
	}
	return s.Component.Workload.Rate
}

func (s *Spec) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

// Identity returns the comparable description of the spec's workload.
func (s *Spec) Identity() result.WorkloadIdentity {
	w := &s.Component.Workload
	id := result.WorkloadIdentity{
		Seed: s.Seed, Rate: w.Rate, Arrival: string(w.Arrival), Connections: w.Connections,
		Timeout:   slo.FormatDuration(w.Timeout),
		Keys:      result.IdentityKeys{Count: w.Keys.Count, Distribution: string(w.Keys.Distribution), Prefix: w.Keys.Prefix},
		ValueSize: w.ValueSize,
	}
	// One stream is what every run before streams had: left out, so their
	// identities stay the same.
	if w.Streams > 1 {
		id.Streams = w.Streams
	}
	if w.Keys.Distribution == slo.DistributionZipf {
		id.Keys.ZipfS = w.Keys.ZipfS
	}
	if len(w.Mix) > 0 {
		id.Mix = map[string]int{}
		for _, m := range w.Mix {
			id.Mix[m.Operation] = m.Weight
		}
	}
	for _, r := range w.Requests {
		ir := result.IdentityRequest{Name: r.Name, Method: r.Method, Path: r.Path, Body: Redact(r.Body, s.Secrets), Weight: r.Weight}
		for h := range r.Headers {
			ir.Headers = append(ir.Headers, h)
		}
		sort.Strings(ir.Headers)
		id.Requests = append(id.Requests, ir)
	}
	return id
}
