package gate_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// fixture describes a synthetic run: log-normal latencies per interval.
type fixture struct {
	seed      uint64
	medianNS  float64
	sigma     float64
	intervals int
	perSecond int
	errors    int64
	unsent    int64
	// clientUnsent of the unsent a generator never late would have sent.
	clientUnsent int64
	// reads makes the operation a read: misses of its successes found
	// no key, the rest are hits.
	reads  bool
	misses int64
	// drift, when set, scales the latencies of interval i by drift[i]: a
	// machine that slows down and speeds up while the run goes on.
	drift []float64
}

func encode(h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// measured is what a fixture's latencies give an operation: its intervals,
// and the count, percentiles and histogram of the whole.
type measured struct {
	intervals []result.Interval
	count     int64
	latency   result.Percentiles
	histogram string
}

// measurementKey is the fields of a fixture its latencies depend on.
type measurementKey struct {
	seed                 uint64
	medianNS, sigma      float64
	intervals, perSecond int
	drift                string
}

// measurements holds what fixture.measure worked out, by measurementKey:
// the tests build the same few fixtures hundreds of times, and drawing
// their samples and encoding their histograms, which walks every slot of a
// nanosecond histogram, dominated the package's time under -race.
var measurements sync.Map

// measure draws the fixture's latencies, once for each measurementKey.
func (f fixture) measure() measured {
	key := measurementKey{f.seed, f.medianNS, f.sigma, f.intervals, f.perSecond, fmt.Sprint(f.drift)}
	if m, ok := measurements.Load(key); ok {
		return m.(measured)
	}
	rng := rand.New(rand.NewPCG(f.seed, 7))
	whole := result.NewHistogram()
	var m measured
	for i := range f.intervals {
		h := result.NewHistogram()
		scale := 1.0
		if i < len(f.drift) {
			scale = f.drift[i]
		}
		for range f.perSecond {
			v := int64(scale * f.medianNS * math.Exp(f.sigma*rng.NormFloat64()))
			// Recorded into the whole as well: merging h would walk all
			// its slots.
			h.RecordValue(v)
			whole.RecordValue(v)
		}
		m.intervals = append(m.intervals, result.Interval{OffsetNS: int64(i) * int64(time.Second), Count: h.TotalCount(), Histogram: encode(h)})
	}
	m.count, m.latency, m.histogram = whole.TotalCount(), result.PercentilesOf(whole), encode(whole)
	measurements.Store(key, m)
	return m
}

// operation builds one operation's record from the fixture.
func (f fixture) operation(name string) result.OperationResult {
	m := f.measure()
	op := result.OperationResult{Name: name, AskedRate: float64(f.perSecond), Intervals: slices.Clone(m.intervals), Count: m.count}
	if f.reads {
		op.Hits, op.Misses = op.Count-f.misses, f.misses
	}
	op.Errors = f.errors + f.unsent
	op.ClientUnsent = f.clientUnsent
	if op.Errors > 0 {
		// The engine's error kinds as a result file names them
		// (workloads.KindTimeout, KindUnsent): the gate reads results only.
		op.ErrorKinds = map[string]int64{}
		if f.errors > 0 {
			op.ErrorKinds["timeout"] = f.errors
		}
		if f.unsent > 0 {
			op.ErrorKinds["unsent"] = f.unsent
		}
	}
	op.LatencyNS, op.ServiceNS = m.latency, m.latency
	op.Histogram = m.histogram
	op.AchievedRate = float64(op.Count) / float64(f.intervals)
	return op
}

// result builds a one-component result ("cache", operation "get" and "all").
func (f fixture) result() *result.Result {
	id := result.WorkloadIdentity{Seed: 1, Rate: float64(f.perSecond), Arrival: "poisson", Connections: 8, Timeout: "1s",
		Keys: result.IdentityKeys{Count: 100, Distribution: "uniform", Prefix: "t:"}, ValueSize: 64, Mix: map[string]int{"get": 100}}
	get := f.operation("get")
	all := get
	all.Name = slo.AllOperations
	return &result.Result{
		Schema: result.Schema, Verdict: status.VerdictPass, Complete: true, Seed: 1,
		StartedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), MeasuredNS: int64(f.intervals) * int64(time.Second),
		IntervalNS: int64(time.Second),
		Components: []result.ComponentResult{{
			Name: "cache", Target: "redis://127.0.0.1:6379", Protocol: "redis", AskedRate: float64(f.perSecond),
			Workload: id, WorkloadHash: id.Hash(), Operations: []result.OperationResult{get, all},
		}},
	}
}

// planWith parses a one-component plan with the given slo block.
func planWith(sloBlock string) *slo.Plan {
	return planWithDefaults("", sloBlock)
}

// planWithDefaults is planWith with more defaults keys ("inconclusive: fail, ").
func planWithDefaults(defaults, sloBlock string) *slo.Plan {
	p, err := slo.Parse([]byte(`version: 1
defaults: {`+defaults+`duration: 15s, warmup: 0s}
components:
  - name: cache
    target: redis://127.0.0.1:6379
    workload:
      rate: 1000
      mix: {get: 100}
    slo:
`+sloBlock), "plan.yaml")
	if err != nil {
		panic(err)
	}
	return p
}
