// Package result is tailgate's result file: its schema (Result and the
// records it holds), reading and checking it (Read, Decode), writing it
// atomically (Result.WriteFile), and the operations on results that need no
// engine: Merge joins the shards of one run, Concat the consecutive segments
// of one side of an interleaved or extended run.
//
// Data flows one way: package workloads (the engine) builds a Result from
// what it measured, package gate judges it and annotates it with the
// verdict and the objectives' outcomes (types of package gate/status, which
// only gate decides), and package gate/report renders it. This package
// imports neither the engine nor the gate.
//
// Every latency is in nanoseconds, recorded in HdrHistograms of one
// geometry (NewHistogram) and carried in the file in the standard V2
// compressed, base64 encoding, so a result can be merged and re-read
// losslessly. The percentiles stored beside them are read from them, and
// Decode refuses a file in which they disagree: minimum bars are judged on
// the stored percentiles, regressions on the histograms.
package result

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// Schema identifies tailgate result files.
const Schema = "tailgate.result/v1"

// Result is one run's measurements: the result file's contents.
type Result struct {
	Schema string `json:"schema"`
	Tool   string `json:"tool,omitempty"`
	// Verdict is the gate's verdict on the run (gate.Verdict.Apply writes
	// it); an unjudged result carries pass, or error when it is incomplete.
	Verdict status.Verdict `json:"verdict"`
	// Complete is false when the run was cut short; Incomplete says why.
	Complete   bool   `json:"complete"`
	Incomplete string `json:"incomplete_reason,omitempty"`
	Plan       string `json:"plan,omitempty"`
	Seed       int64  `json:"seed"`
	Shard      *Shard `json:"shard,omitempty"`
	// StartedAt is when the load (warmup included) began.
	StartedAt time.Time `json:"started_at"`
	// WarmupNS is the applied, unmeasured lead; MeasuredNS the exact
	// length of the measured window.
	WarmupNS   int64 `json:"warmup_ns"`
	MeasuredNS int64 `json:"measured_ns"`
	// IntervalNS is the length of one per-interval histogram.
	IntervalNS int64              `json:"interval_ns"`
	Components []ComponentResult  `json:"components"`
	Warnings   []string           `json:"warnings,omitempty"`
	Baseline   *BaselineReference `json:"baseline,omitempty"`
	// MeasuredStart is the wall-clock instant the measured window began
	// (StartedAt plus the warmup): interval 0 starts there. Merge aligns
	// the intervals of shards started at different times by it.
	MeasuredStart time.Time `json:"measured_start"`
	// DurationNS is the planned length of the measured window; MeasuredNS
	// is shorter when the run was cut short.
	DurationNS int64 `json:"duration_ns"`
	// PlanHash digests what the shards of one run share: the components
	// and their workload hashes (seed and full rate included), the planned
	// duration, the warmup and the interval length.
	PlanHash string `json:"plan_hash,omitempty"`
	// MergedFrom lists the shards a merged result was made of; empty for
	// a result of one runner.
	MergedFrom []ShardSource `json:"merged_from,omitempty"`
	// Pairing is set on both results of an interleaved run: segment k of
	// one ran next to segment k of the other.
	Pairing *Pairing `json:"pairing,omitempty"`
	// Runner measures the machine that ran the load, while it ran; nil in
	// results written before it was recorded.
	Runner *Runner `json:"runner,omitempty"`
}

// Pairing marks one side of an interleaved run (run --baseline-target). The
// candidate's and the baseline's results carry the same ID, and Segments
// lists the first interval of each segment, in the order they ran: segment
// k of one side ran back to back with segment k of the other, so both saw
// the same machine, and the gate compares them pair by pair.
type Pairing struct {
	ID       string `json:"id"`
	Segments []int  `json:"segments"`
}

// PairedWith reports whether r and other are the two sides of one
// interleaved run, with the same number of segments.
func (r *Result) PairedWith(other *Result) bool {
	return r.Pairing != nil && other.Pairing != nil && r.Pairing.ID != "" &&
		r.Pairing.ID == other.Pairing.ID && len(r.Pairing.Segments) == len(other.Pairing.Segments)
}

// SegmentsOf splits an operation's interval histograms (see
// OperationResult.IntervalHistograms) into the segments of an interleaved
// run: segment k holds intervals Segments[k] up to the next segment's first.
func (p *Pairing) SegmentsOf(intervals []*hdrhistogram.PackedHistogram) [][]*hdrhistogram.PackedHistogram {
	out := make([][]*hdrhistogram.PackedHistogram, len(p.Segments))
	for k, from := range p.Segments {
		to := len(intervals)
		if k+1 < len(p.Segments) {
			to = p.Segments[k+1]
		}
		from, to = min(from, len(intervals)), min(to, len(intervals))
		out[k] = intervals[from:to]
	}
	return out
}

// BaselineReference says which result a verdict compared against.
type BaselineReference struct {
	File      string    `json:"file,omitempty"`
	StartedAt time.Time `json:"started_at"`
}

// ComponentResult is one component's measurements and verdicts.
type ComponentResult struct {
	Name string `json:"name"`
	// Target is the URL loaded, secrets redacted.
	Target   string `json:"target"`
	Protocol string `json:"protocol"`
	// Embedded is true when tailgate served the target itself.
	Embedded bool `json:"embedded,omitempty"`
	// Insecure is true when TLS certificate checks were off.
	Insecure     bool                     `json:"insecure_skip_verify,omitempty"`
	AskedRate    float64                  `json:"asked_rate"`
	WorkloadHash string                   `json:"workload_hash"`
	Workload     WorkloadIdentity         `json:"workload"`
	Operations   []OperationResult        `json:"operations"`
	Objectives   []status.ObjectiveResult `json:"objectives"`
	// FirstErrors holds the first message of each error kind and when it
	// happened, relative to the measured window's start.
	FirstErrors map[string]ErrorSample `json:"first_errors,omitempty"`
	// WarmupOperations counts what warmup applied, errors included.
	WarmupOperations int64 `json:"warmup_operations"`
	WarmupErrors     int64 `json:"warmup_errors"`
	// Looks is set when the run could extend itself (defaults.adaptive):
	// how often, and at what measured lengths, its data was looked at.
	Looks *Looks `json:"looks,omitempty"`
	// Nodes is the record of each server of a target made of several (the
	// masters of a Redis Cluster, a Memcached server list), beside the
	// component's operations; nil for a target of one server.
	Nodes []NodeResult `json:"nodes,omitempty"`
}

// NodeResult is the record of one server of a component's target: every
// measured operation it answered or failed on, all operations together.
// The counts of a component's nodes add up to its "all" operation's,
// except for operations that failed before reaching any node (never
// sent, or refused by the client).
type NodeResult struct {
	// Address is the server's host:port, as the cluster announces it or
	// the target lists it.
	Address string `json:"address"`
	// Count is the successful operations measured on it, Errors the
	// failed ones, by kind in ErrorKinds.
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	// AchievedRate is Count per second of the measured window.
	AchievedRate float64 `json:"achieved_rate"`
	// LatencyNS is measured from the intended start, as the operations'
	// are; Histogram is its whole-run HdrHistogram, V2 compressed, base64.
	LatencyNS Percentiles `json:"latency_ns"`
	Histogram string      `json:"histogram"`
}

// WholeHistogram decodes the node's whole-run latency histogram.
func (n *NodeResult) WholeHistogram() (*hdrhistogram.Histogram, error) {
	return decodeOptional(n.Histogram, fmt.Sprintf("node %q: histogram", n.Address))
}

// Node returns the record of the node at address, or nil.
func (c *ComponentResult) Node(address string) *NodeResult {
	return find(c.Nodes, address, func(n *NodeResult) string { return n.Address })
}

// ErrorSample is the first occurrence of one kind of error.
type ErrorSample struct {
	Message string `json:"message"`
	AtNS    int64  `json:"at_ns"`
}

// Percentiles are latencies in nanoseconds.
type Percentiles struct {
	P50   int64 `json:"p50"`
	P90   int64 `json:"p90"`
	P99   int64 `json:"p99"`
	P999  int64 `json:"p99.9"`
	P9999 int64 `json:"p99.99"`
	Max   int64 `json:"max"`
	Min   int64 `json:"min"`
	Mean  int64 `json:"mean"`
}

// At reads a latency metric: a percentile, or max. Any other metric
// (error_rate, throughput, a name tailgate does not know) has no stored
// latency, and is refused rather than read as something it is not.
func (p Percentiles) At(m slo.Metric) (int64, error) {
	// complete.p99 is p99, the latency to the end; a first-message
	// latency is another record (OperationResult.FirstMessageNS).
	switch latency, plain := m.Latency(); latency {
	case slo.LatencyComplete:
		m = plain
	case slo.LatencyFirstMessage:
		return 0, fmt.Errorf("metric %q is a streaming call's latency to its first message, stored apart (first_message_ns)", m)
	}
	switch m {
	case slo.MetricP50:
		return p.P50, nil
	case slo.MetricP90:
		return p.P90, nil
	case slo.MetricP99:
		return p.P99, nil
	case slo.MetricP999:
		return p.P999, nil
	case slo.MetricP9999:
		return p.P9999, nil
	case slo.MetricMax:
		return p.Max, nil
	}
	return 0, fmt.Errorf("metric %q is not a stored latency (want %s, %s, %s, %s, %s or %s)", m,
		slo.MetricP50, slo.MetricP90, slo.MetricP99, slo.MetricP999, slo.MetricP9999, slo.MetricMax)
}

// KindUnsent is the error kind of a measured operation never sent before
// the window closed (see OperationResult.ClientUnsent).
const KindUnsent = "unsent"

// OperationResult is the record of one operation of a component, or of all
// of them ("all").
type OperationResult struct {
	Name string `json:"name"`
	// Count is successful operations measured; Errors the failed ones.
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	// Late counts operations sent more than LateAfter past their intended
	// start (still measured from it).
	Late int64 `json:"late"`
	// ClientUnsent counts the unsent errors (ErrorKinds["unsent"]) that a
	// load generator never late would have sent before the window
	// closed: tailgate's own falling behind left them unsent, not the
	// target's latency. Left out when 0 and in older results.
	ClientUnsent int64 `json:"client_unsent,omitempty"`
	// Hits and Misses count what the measured successes of a read (a
	// Redis GET, a memcached get) found: keys with a value and keys
	// without. Both are left out for operations that do not read, and
	// one of them is when it is 0.
	Hits   int64 `json:"hits,omitempty"`
	Misses int64 `json:"misses,omitempty"`
	// AchievedRate is successful operations per second of the measured
	// window: an operation that failed (an error reply, a timeout) or was
	// never sent did not achieve anything.
	AchievedRate float64 `json:"achieved_rate"`
	// AskedRate is this operation's expected share of the asked rate.
	AskedRate float64 `json:"asked_rate"`
	// LatencyNS is measured from the intended start (corrected for
	// coordinated omission); ServiceNS from the actual send.
	LatencyNS Percentiles `json:"latency_ns"`
	ServiceNS Percentiles `json:"service_ns"`
	// Histogram and ServiceHistogram are whole-run HdrHistograms, V2
	// compressed, base64.
	Histogram        string     `json:"histogram"`
	ServiceHistogram string     `json:"service_histogram"`
	Intervals        []Interval `json:"intervals"`
	// ClientDelayNS is how late the load generator itself was, operation
	// by operation: the send instant less the operation's ideal start,
	// which is its intended start or, when later, the instant its
	// connection's previous operation would have completed had the
	// generator never been late (its own ideal start plus its service time
	// less the runner's recent wake-up delay, the part of it that was
	// tailgate noticing the reply late). Waiting for the target's previous
	// reply is the target's doing and is not counted; a worker that wakes
	// late, or falls behind because it did or because it noticed replies
	// late, is. It is the floor under every latency measured: the run
	// cannot see the target's latency below it. LatencyLessClientNS is
	// each operation's latency less its client delay: its service time and
	// its wait behind the target's earlier replies, what the target itself
	// took as the client-bound rule reads it. Both are nil for a
	// closed-loop run and in results written before they were recorded;
	// results written before the runner's delay was taken out of the ideal
	// timeline have no interval latencies less client delays
	// (HasIntervalLatenciesLessClient), and are judged as they were.
	ClientDelayNS              *Percentiles `json:"client_delay_ns,omitempty"`
	ClientDelayHistogram       string       `json:"client_delay_histogram,omitempty"`
	LatencyLessClientNS        *Percentiles `json:"latency_less_client_ns,omitempty"`
	LatencyLessClientHistogram string       `json:"latency_less_client_histogram,omitempty"`
	// Messages counts the response messages that the measured successes
	// of a streaming call (a gRPC server-streaming, client-streaming or
	// bidirectional method) received; Messages / Count is the messages per
	// stream. FirstMessageNS is the latency of those calls to their first
	// response message, from the intended start like LatencyNS (which is
	// to the end of the stream), and FirstMessageHistogram its whole-run
	// HdrHistogram; a call that ended without a message has none. All are
	// left out for operations that are not streaming calls, and in results
	// written before they were recorded.
	Messages              int64        `json:"messages,omitempty"`
	FirstMessageNS        *Percentiles `json:"first_message_ns,omitempty"`
	FirstMessageHistogram string       `json:"first_message_histogram,omitempty"`
	// Stages is the record of each stage of a workload in stages, in
	// order; left out for a workload of one rate.
	Stages []StageResult `json:"stages,omitempty"`
}

// AddCounts adds the counts of p (operations, errors, late sends, hits,
// misses, messages and errors by kind) into o: the one way a row of several
// operations, or of several shards' operation, totals them. Rates,
// percentiles and histograms are the caller's.
func (o *OperationResult) AddCounts(p *OperationResult) {
	o.Count += p.Count
	o.Errors += p.Errors
	o.Late += p.Late
	o.ClientUnsent += p.ClientUnsent
	o.Hits += p.Hits
	o.Misses += p.Misses
	o.Messages += p.Messages
	for kind, n := range p.ErrorKinds {
		if o.ErrorKinds == nil {
			o.ErrorKinds = map[string]int64{}
		}
		o.ErrorKinds[kind] += n
	}
}

// SetFirstMessage fills the first-message fields from their whole-run
// histogram, and leaves them out when it is nil or empty.
func (o *OperationResult) SetFirstMessage(first *hdrhistogram.Histogram) {
	if first == nil || first.TotalCount() == 0 {
		o.FirstMessageNS, o.FirstMessageHistogram = nil, ""
		return
	}
	p := PercentilesOf(first)
	o.FirstMessageNS, o.FirstMessageHistogram = &p, EncodeHistogram(first)
}

// FirstMessages decodes the first-message histogram; empty when the
// operation has none.
func (o *OperationResult) FirstMessages() (*hdrhistogram.Histogram, error) {
	return decodeOptional(o.FirstMessageHistogram, fmt.Sprintf("operation %q: first message histogram", o.Name))
}

// SetClientDelay fills the client-delay fields from their whole-run
// histograms (the generator's own delay, and latency less it), and leaves
// them out when nothing was recorded.
func (o *OperationResult) SetClientDelay(client, lessClient *hdrhistogram.Histogram) {
	if client.TotalCount() == 0 {
		o.ClientDelayNS, o.ClientDelayHistogram, o.LatencyLessClientNS, o.LatencyLessClientHistogram = nil, "", nil, ""
		return
	}
	cp, lp := PercentilesOf(client), PercentilesOf(lessClient)
	o.ClientDelayNS, o.LatencyLessClientNS = &cp, &lp
	o.ClientDelayHistogram, o.LatencyLessClientHistogram = EncodeHistogram(client), EncodeHistogram(lessClient)
}

// ClientDelays decodes the client-delay histogram; empty when the result
// has none.
func (o *OperationResult) ClientDelays() (*hdrhistogram.Histogram, error) {
	return decodeOptional(o.ClientDelayHistogram, fmt.Sprintf("operation %q: client delay histogram", o.Name))
}

// LatenciesLessClient decodes the histogram of latencies less their
// client delays; empty when the result has none.
func (o *OperationResult) LatenciesLessClient() (*hdrhistogram.Histogram, error) {
	return decodeOptional(o.LatencyLessClientHistogram, fmt.Sprintf("operation %q: latency less client histogram", o.Name))
}

// Interval is one slice of the measured window.
type Interval struct {
	// OffsetNS is the interval's start from the measured window's start.
	OffsetNS  int64  `json:"offset_ns"`
	Count     int64  `json:"count"`
	Errors    int64  `json:"errors"`
	Histogram string `json:"histogram"`
	// ClientDelayHistogram holds the client delays of the interval's
	// successes (see OperationResult.ClientDelayNS), V2 compressed,
	// base64: how late the load generator itself sent during this slice
	// of the run, which p99_window and drift need to tell its delay from
	// the target's. Left out where the operation has no client delays,
	// and in results written before it was recorded.
	ClientDelayHistogram string `json:"client_delay_histogram,omitempty"`
	// LatencyLessClientHistogram holds the latencies of the interval's
	// successes less their client delays (see
	// OperationResult.LatencyLessClientNS), V2 compressed, base64: what
	// the target itself took during this slice of the run, as p99_window
	// and drift read it. Left out where the operation has no client
	// delays, and in results written before it was recorded.
	LatencyLessClientHistogram string `json:"latency_less_client_histogram,omitempty"`
}

// PercentilesOf reads the standard percentiles of a histogram.
//
// The histogram's own Max, Min and Mean each step through every bucket up
// to the highest populated one (tens of thousands in tailgate's geometry),
// which under the race detector costs milliseconds a call, and a run reads
// thousands of histograms. So the extremes come from the scan over the
// counts that finds the percentiles, and the mean from a packed copy, which
// visits the populated buckets only. The values are the same, bit for bit
// (TestPercentilesOfIsWhatTheHistogramSays): the 100th percentile is the
// highest populated bucket's highest equivalent value, as Max; the 0th is
// the lowest populated bucket's lowest, as Min; the packed Mean adds the
// same terms in the same order. A histogram of another geometry, or whose
// counts do not add up to its total, is read through its own methods.
func PercentilesOf(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	v := h.ValueAtPercentilesSlice([]float64{0, 50, 90, 99, 99.9, 99.99, 100})
	p := Percentiles{P50: v[1], P90: v[2], P99: v[3], P999: v[4], P9999: v[5], Max: v[6], Min: v[0]}
	if packed := packedCopy(h); packed != nil {
		p.Mean = int64(packed.Mean())
	} else {
		p.Max, p.Min, p.Mean = h.Max(), h.Min(), int64(h.Mean())
	}
	return p
}

// packedCopy is a packed copy of h when h has tailgate's geometry and its
// counts, none negative, add up to its total; nil otherwise.
func packedCopy(h *hdrhistogram.Histogram) *hdrhistogram.PackedHistogram {
	if h.LowestTrackableValue() != HistogramLowest || h.HighestTrackableValue() != HistogramHighest ||
		h.SignificantFigures() != HistogramDigits {
		return nil
	}
	p := hdrhistogram.NewPacked(HistogramLowest, HistogramHighest, HistogramDigits)
	if p.MergeFrom(h) != 0 || p.TotalCount() != h.TotalCount() {
		return nil
	}
	return p
}

// Component returns the named component's result, or nil.
func (r *Result) Component(name string) *ComponentResult {
	return find(r.Components, name, func(c *ComponentResult) string { return c.Name })
}

// Operation returns the named operation's result, or nil.
func (c *ComponentResult) Operation(name string) *OperationResult {
	return find(c.Operations, name, func(o *OperationResult) string { return o.Name })
}

// find is the first of items whose key is key, or nil: how a result's
// components, operations, nodes and stages are looked up.
func find[T any, K comparable](items []T, key K, keyOf func(*T) K) *T {
	for i := range items {
		if keyOf(&items[i]) == key {
			return &items[i]
		}
	}
	return nil
}

// HitRate is the share of the operation's reads that found their key,
// hits / (hits + misses); ok is false when it read nothing.
func (o *OperationResult) HitRate() (rate float64, ok bool) {
	if o.Hits+o.Misses == 0 {
		return 0, false
	}
	return float64(o.Hits) / float64(o.Hits+o.Misses), true
}

// WholeHistogram decodes the operation's whole-run latency histogram.
func (o *OperationResult) WholeHistogram() (*hdrhistogram.Histogram, error) {
	if o.Histogram == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(o.Histogram))
	if err != nil {
		return nil, fmt.Errorf("operation %q: histogram: %w", o.Name, err)
	}
	return h, nil
}

// IntervalClientDelay decodes the client-delay histogram of the operation's
// i-th interval, packed (see IntervalHistogram); nil when the interval has
// none (an older result, a closed-loop run).
func (o *OperationResult) IntervalClientDelay(i int) (*hdrhistogram.PackedHistogram, error) {
	return o.intervalPacked(i, o.Intervals[i].ClientDelayHistogram, "client delay")
}

// intervalPacked decodes enc, one of interval i's optional histograms
// (what), packed; nil when the interval has none.
func (o *OperationResult) intervalPacked(i int, enc, what string) (*hdrhistogram.PackedHistogram, error) {
	if enc == "" {
		return nil, nil
	}
	h, err := hdrhistogram.DecodePacked([]byte(enc))
	if err != nil {
		return nil, fmt.Errorf("operation %q: interval %d: %s histogram: %w", o.Name, i, what, err)
	}
	return h, nil
}

// ClientDelaysOver is the client delays of the operation's intervals
// [from, to) merged, decoded one at a time; an interval without any adds
// nothing (see HasIntervalClientDelays).
func (o *OperationResult) ClientDelaysOver(from, to int) (*hdrhistogram.Histogram, error) {
	return mergeOver(from, to, o.IntervalClientDelay)
}

// IntervalLatencyLessClient decodes the histogram of the operation's i-th
// interval's latencies less their client delays, packed; nil when the
// interval has none.
func (o *OperationResult) IntervalLatencyLessClient(i int) (*hdrhistogram.PackedHistogram, error) {
	return o.intervalPacked(i, o.Intervals[i].LatencyLessClientHistogram, "latency less client")
}

// LatenciesLessClientOver is the latencies less their client delays of the
// operation's intervals [from, to) merged; nil when one of them has none
// (an older result).
func (o *OperationResult) LatenciesLessClientOver(from, to int) (*hdrhistogram.Histogram, error) {
	if !every(o.Intervals[from:to], lessClientOf) {
		return nil, nil
	}
	return mergeOver(from, to, o.IntervalLatencyLessClient)
}

// HasIntervalLatenciesLessClient reports whether every interval of the
// operation holds its latencies less their client delays, as results do
// whose ideal timeline takes the runner's delay out of each service time
// (see OperationResult.ClientDelayNS); results written before hold none.
func (o *OperationResult) HasIntervalLatenciesLessClient() bool {
	return len(o.Intervals) > 0 && every(o.Intervals, lessClientOf)
}

// HasIntervalClientDelays reports whether every interval of the operation
// holds its client delays.
func (o *OperationResult) HasIntervalClientDelays() bool {
	return len(o.Intervals) > 0 && every(o.Intervals, clientDelayOf)
}

// every reports whether each of intervals holds the histogram enc reads.
func every(intervals []Interval, enc func(*Interval) string) bool {
	for i := range intervals {
		if enc(&intervals[i]) == "" {
			return false
		}
	}
	return true
}

func clientDelayOf(iv *Interval) string { return iv.ClientDelayHistogram }
func lessClientOf(iv *Interval) string  { return iv.LatencyLessClientHistogram }

// IntervalHistogram decodes the latency histogram of the operation's i-th
// interval, packed: only its populated buckets, a few KB where a dense
// histogram of tailgate's range takes 270 KB, so a soak of hours can hold
// all of its intervals at once.
func (o *OperationResult) IntervalHistogram(i int) (*hdrhistogram.PackedHistogram, error) {
	h, err := hdrhistogram.DecodePacked([]byte(o.Intervals[i].Histogram))
	if err != nil {
		return nil, fmt.Errorf("operation %q: interval %d: histogram: %w", o.Name, i, err)
	}
	return h, nil
}

// IntervalHistograms decodes every interval's latency histogram, packed
// (see IntervalHistogram).
func (o *OperationResult) IntervalHistograms() ([]*hdrhistogram.PackedHistogram, error) {
	out := make([]*hdrhistogram.PackedHistogram, len(o.Intervals))
	for i := range o.Intervals {
		h, err := o.IntervalHistogram(i)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}
