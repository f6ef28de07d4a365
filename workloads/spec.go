package workloads

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
)

// DefaultInterval is the length of one per-interval histogram.
const DefaultInterval = time.Second

// Shard says which slice of the global operation sequence a runner sends.
// The zero value means the whole sequence.
type Shard struct {
	// Index is 1-based; Count is the number of shards.
	Index int `json:"index"`
	Count int `json:"count"`
}

// Spec is everything the engine needs to load one component.
type Spec struct {
	Component slo.Component
	Duration  time.Duration
	Warmup    time.Duration
	Seed      int64
	Shard     Shard
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

// WorkloadIdentity is what makes two runs comparable: the workload and seed,
// but not the target, the duration or secrets.
type WorkloadIdentity struct {
	Seed        int64             `json:"seed"`
	Rate        float64           `json:"rate"`
	Arrival     string            `json:"arrival"`
	Connections int               `json:"connections"`
	Streams     int               `json:"streams,omitempty"`
	Timeout     string            `json:"timeout"`
	Keys        IdentityKeys      `json:"keys"`
	ValueSize   int               `json:"value_size"`
	Mix         map[string]int    `json:"mix,omitempty"`
	Requests    []IdentityRequest `json:"requests,omitempty"`
}

// IdentityKeys is the key generator part of a WorkloadIdentity.
type IdentityKeys struct {
	Count        int     `json:"count"`
	Distribution string  `json:"distribution"`
	Prefix       string  `json:"prefix"`
	ZipfS        float64 `json:"zipf_s,omitempty"`
}

// IdentityRequest is one request of a WorkloadIdentity; header values are
// left out, as they may be secrets.
type IdentityRequest struct {
	Name    string   `json:"name"`
	Method  string   `json:"method"`
	Path    string   `json:"path,omitempty"`
	Headers []string `json:"headers,omitempty"`
	Body    string   `json:"body,omitempty"`
	Weight  int      `json:"weight"`
}

// Identity returns the comparable description of the spec's workload.
func (s *Spec) Identity() WorkloadIdentity {
	w := &s.Component.Workload
	id := WorkloadIdentity{
		Seed: s.Seed, Rate: w.Rate, Arrival: string(w.Arrival), Connections: w.Connections,
		Timeout:   slo.FormatDuration(w.Timeout),
		Keys:      IdentityKeys{Count: w.Keys.Count, Distribution: string(w.Keys.Distribution), Prefix: w.Keys.Prefix},
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
		ir := IdentityRequest{Name: r.Name, Method: r.Method, Path: r.Path, Body: Redact(r.Body, s.Secrets), Weight: r.Weight}
		for h := range r.Headers {
			ir.Headers = append(ir.Headers, h)
		}
		sort.Strings(ir.Headers)
		id.Requests = append(id.Requests, ir)
	}
	return id
}

// Hash is a short stable digest of a WorkloadIdentity.
func (id WorkloadIdentity) Hash() string {
	b, err := json.Marshal(id)
	if err != nil {
		panic(fmt.Sprintf("workloads: identity does not marshal: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
