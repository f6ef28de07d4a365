package workloads

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// Schema identifies tailgate result files.
const Schema = "tailgate.result/v1"

// Verdicts a result can carry.
const (
	VerdictPass  = "pass"
	VerdictFail  = "fail"
	VerdictError = "error"
)

// Result is one run's measurements: the result file's contents.
type Result struct {
	Schema  string `json:"schema"`
	Tool    string `json:"tool,omitempty"`
	Verdict string `json:"verdict"`
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
func (p *Pairing) SegmentsOf(intervals []*hdrhistogram.Histogram) [][]*hdrhistogram.Histogram {
	out := make([][]*hdrhistogram.Histogram, len(p.Segments))
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
	Insecure     bool              `json:"insecure_skip_verify,omitempty"`
	AskedRate    float64           `json:"asked_rate"`
	WorkloadHash string            `json:"workload_hash"`
	Workload     WorkloadIdentity  `json:"workload"`
	Operations   []OperationResult `json:"operations"`
	Objectives   []ObjectiveResult `json:"objectives"`
	// FirstErrors holds the first message of each error kind and when it
	// happened, relative to the measured window's start.
	FirstErrors map[string]ErrorSample `json:"first_errors,omitempty"`
	// WarmupOperations counts what warmup applied, errors included.
	WarmupOperations int64 `json:"warmup_operations"`
	WarmupErrors     int64 `json:"warmup_errors"`
	// Looks is set when the run could extend itself (defaults.adaptive):
	// how often, and at what measured lengths, its data was looked at.
	Looks *Looks `json:"looks,omitempty"`
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

// At reads a latency metric: a percentile, or max for any other metric.
func (p Percentiles) At(m slo.Metric) int64 {
	switch m {
	case slo.MetricP50:
		return p.P50
	case slo.MetricP90:
		return p.P90
	case slo.MetricP99:
		return p.P99
	case slo.MetricP999:
		return p.P999
	case slo.MetricP9999:
		return p.P9999
	}
	return p.Max
}

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
	// generator never been late (its own ideal start plus its service
	// time). Waiting for a previous reply is the target's doing and is not
	// counted; a worker that wakes late, or falls behind because it did,
	// is. It is the floor under every latency measured: the run cannot
	// see the target's latency below it. LatencyLessClientNS is each
	// operation's latency less its client delay. Both are nil for a
	// closed-loop run and in results written before they were recorded.
	ClientDelayNS              *Percentiles `json:"client_delay_ns,omitempty"`
	ClientDelayHistogram       string       `json:"client_delay_histogram,omitempty"`
	LatencyLessClientNS        *Percentiles `json:"latency_less_client_ns,omitempty"`
	LatencyLessClientHistogram string       `json:"latency_less_client_histogram,omitempty"`
}

// setClientDelay fills the client-delay fields from their histograms, and
// leaves them out when nothing was recorded.
func (o *OperationResult) setClientDelay(client, lessClient *hdrhistogram.Histogram) {
	if client.TotalCount() == 0 {
		o.ClientDelayNS, o.ClientDelayHistogram, o.LatencyLessClientNS, o.LatencyLessClientHistogram = nil, "", nil, ""
		return
	}
	cp, lp := PercentilesOf(client), PercentilesOf(lessClient)
	o.ClientDelayNS, o.LatencyLessClientNS = &cp, &lp
	o.ClientDelayHistogram, o.LatencyLessClientHistogram = encodeHist(client), encodeHist(lessClient)
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
}

// ObjectiveResult is one objective's verdict, as the gate judged it.
type ObjectiveResult struct {
	Tier      string `json:"tier"`
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	// Threshold is the bar as written; ThresholdValue in ns, or a fraction.
	Threshold      string  `json:"threshold"`
	ThresholdValue float64 `json:"threshold_value"`
	// Measured is the value as displayed; MeasuredValue in ns, or a fraction.
	Measured      string  `json:"measured"`
	MeasuredValue float64 `json:"measured_value"`
	// Margin is how far the measured value is from the bar, relative to it:
	// positive is worse than the bar.
	Margin float64 `json:"margin"`
	// Status is the outcome gate gave the objective (see package
	// gate/status for the vocabulary).
	Status status.Status `json:"status"`
	// Baseline fields are set for regression objectives.
	Baseline      string  `json:"baseline,omitempty"`
	BaselineValue float64 `json:"baseline_value,omitempty"`
	// Interval is the confidence interval of the measured value (or of the
	// ratio, for regressions) when statistics were computed.
	IntervalLow  float64 `json:"interval_low,omitempty"`
	IntervalHigh float64 `json:"interval_high,omitempty"`
	PValue       float64 `json:"p_value,omitempty"`
	// FloorNS is the measurement floor of a latency objective, in ns: the
	// operation's client delay plus the runner's wake-up delay, both at the
	// objective's quantile; under it the run cannot see the target's
	// latency. Zero when the result records no client delay.
	FloorNS int64 `json:"floor_ns,omitempty"`
	// Detectable is, for an inconclusive regression objective, the smallest
	// regression (0.25 for +25%) the run could have shown beyond the
	// tolerance.
	Detectable float64 `json:"detectable,omitempty"`
	Detail     string  `json:"detail,omitempty"`
	Line       int     `json:"line,omitempty"`
	Column     int     `json:"column,omitempty"`
}

// objectiveJSON is ObjectiveResult as written: JSON has no infinities or
// NaNs, so a margin above a bar of zero is written as null, an interval
// without an upper bound (errors only in the candidate) has the largest
// float as its upper bound, and statistics that could not be computed are
// left out.
type objectiveJSON struct {
	objectiveFields
	Margin *float64 `json:"margin"`
}

// objectiveFields has ObjectiveResult's fields and none of its methods.
type objectiveFields ObjectiveResult

// MarshalJSON writes the objective with only finite numbers.
func (o ObjectiveResult) MarshalJSON() ([]byte, error) {
	out := objectiveJSON{objectiveFields: objectiveFields(o)}
	if !math.IsInf(o.Margin, 0) && !math.IsNaN(o.Margin) {
		m := o.Margin
		out.Margin = &m
	}
	if math.IsInf(out.IntervalHigh, 1) {
		out.IntervalHigh = math.MaxFloat64
	}
	for _, f := range []*float64{&out.MeasuredValue, &out.ThresholdValue, &out.BaselineValue, &out.IntervalLow, &out.IntervalHigh, &out.PValue, &out.Detectable} {
		if math.IsInf(*f, 0) || math.IsNaN(*f) {
			*f = 0
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads an objective; a null margin is infinitely above a bar
// of zero.
func (o *ObjectiveResult) UnmarshalJSON(data []byte) error {
	var in objectiveJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*o = ObjectiveResult(in.objectiveFields)
	o.Margin = 0
	if in.Margin != nil {
		o.Margin = *in.Margin
	} else if o.MeasuredValue > o.ThresholdValue {
		o.Margin = math.Inf(1)
	}
	if o.IntervalHigh == math.MaxFloat64 {
		o.IntervalHigh = math.Inf(1)
	}
	return nil
}

// encodeHist returns the standard base64 V2-compressed encoding.
func encodeHist(h interface {
	Encode(int32) ([]byte, error)
}) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(fmt.Sprintf("workloads: encoding a histogram: %v", err))
	}
	return string(b)
}

// encodePacked encodes a packed histogram.
func encodePacked(h *hdrhistogram.PackedHistogram) string {
	b, err := h.Encode()
	if err != nil {
		panic(fmt.Sprintf("workloads: encoding a histogram: %v", err))
	}
	return string(b)
}

// PercentilesOf reads the standard percentiles of a histogram.
func PercentilesOf(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	v := h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9, 99.99})
	return Percentiles{P50: v[0], P90: v[1], P99: v[2], P999: v[3], P9999: v[4],
		Max: h.Max(), Min: h.Min(), Mean: int64(h.Mean())}
}

func buildResult(runs []*componentRun, start, end time.Time, tool string) *Result {
	res := &Result{Schema: Schema, Tool: tool, Complete: true, StartedAt: start.UTC(), Verdict: VerdictPass}
	for _, c := range runs {
		spec := c.spec
		res.Seed = spec.Seed
		res.WarmupNS = spec.Warmup.Nanoseconds()
		if spec.Shard.Count > 1 {
			sh := spec.Shard
			res.Shard = &sh
		}
		res.IntervalNS = c.interval.Nanoseconds()
		res.MeasuredStart = start.Add(spec.Warmup).UTC()
		res.DurationNS = max(res.DurationNS, spec.Duration.Nanoseconds())
		window := min(spec.Duration, max(end.Sub(start.Add(spec.Warmup)), 0))
		res.MeasuredNS = max(res.MeasuredNS, window.Nanoseconds())
		id := spec.Identity()
		proto, _ := slo.Protocol(spec.Component.Target)
		cr := ComponentResult{
			Name: spec.Component.Name, Target: c.driver.Describe(), Protocol: proto,
			Embedded:  spec.Component.Target == "embedded:redis",
			AskedRate: spec.rate(), WorkloadHash: id.Hash(), Workload: id,
			WarmupOperations: c.warmupOps, WarmupErrors: c.warmupErrors,
			Objectives: []ObjectiveResult{},
		}
		if spec.Component.Workload.TLS.InsecureSkipVerify || strings.Contains(spec.Component.Target, "skip_verify=true") {
			cr.Insecure = true
			res.Warnings = append(res.Warnings, fmt.Sprintf("component %q: TLS certificate checks were off (insecure_skip_verify): the target's identity was not verified", cr.Name))
		}
		if len(c.firstErrors) > 0 {
			cr.FirstErrors = c.firstErrors
		}
		weights := spec.weights()
		totalWeight := 0
		for _, w := range weights {
			totalWeight += w
		}
		all := OperationResult{Name: slo.AllOperations, AskedRate: spec.rate(), ErrorKinds: map[string]int64{}}
		allHist, allService, allClient, allLessClient := NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()
		nIvals := 0
		for k, name := range c.ops {
			op := OperationResult{
				Name: name, Count: c.whole[k].TotalCount(), Errors: c.errors[k], Late: c.late[k],
				LatencyNS: PercentilesOf(c.whole[k]), ServiceNS: PercentilesOf(c.service[k]),
				Histogram: encodeHist(c.whole[k]), ServiceHistogram: encodeHist(c.service[k]),
			}
			op.setClientDelay(c.client[k], c.lessClient[k])
			if totalWeight > 0 {
				op.AskedRate = spec.rate() * float64(weights[k]) / float64(totalWeight)
			}
			if len(c.kinds[k]) > 0 {
				op.ErrorKinds = c.kinds[k]
				for kind, v := range c.kinds[k] {
					all.ErrorKinds[kind] += v
				}
			}
			if window > 0 {
				op.AchievedRate = float64(op.Count) / window.Seconds()
			}
			nIvals = max(nIvals, len(c.ivals[k]))
			for i, iv := range c.ivals[k] {
				if iv.hist == nil {
					iv.hist = hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
				}
				op.Intervals = append(op.Intervals, Interval{
					OffsetNS: int64(i) * c.interval.Nanoseconds(), Count: iv.hist.TotalCount(),
					Errors: iv.errors, Histogram: encodePacked(iv.hist),
				})
			}
			if op.Intervals == nil {
				op.Intervals = []Interval{}
			}
			allHist.Merge(c.whole[k])
			allService.Merge(c.service[k])
			allClient.Merge(c.client[k])
			allLessClient.Merge(c.lessClient[k])
			all.Count += op.Count
			all.Errors += op.Errors
			all.Late += op.Late
			cr.Operations = append(cr.Operations, op)
		}
		all.LatencyNS, all.ServiceNS = PercentilesOf(allHist), PercentilesOf(allService)
		all.Histogram, all.ServiceHistogram = encodeHist(allHist), encodeHist(allService)
		all.setClientDelay(allClient, allLessClient)
		if window > 0 {
			all.AchievedRate = float64(all.Count) / window.Seconds()
		}
		// One interval of all operations at a time, in one scratch
		// histogram: memory stays flat however long the soak.
		all.Intervals = make([]Interval, 0, nIvals)
		scratch := NewHistogram()
		for i := range nIvals {
			scratch.Reset()
			var errs int64
			for k := range c.ops {
				if i < len(c.ivals[k]) {
					iv := c.ivals[k][i]
					if iv.hist != nil {
						iv.hist.MergeInto(scratch)
					}
					errs += iv.errors
				}
			}
			all.Intervals = append(all.Intervals, Interval{
				OffsetNS: int64(i) * c.interval.Nanoseconds(), Count: scratch.TotalCount(),
				Errors: errs, Histogram: encodeHist(scratch),
			})
		}
		if len(all.ErrorKinds) == 0 {
			all.ErrorKinds = nil
		}
		cr.Operations = append(cr.Operations, all)
		res.Components = append(res.Components, cr)
	}
	res.PlanHash = planHash(res)
	return res
}

// Component returns the named component's result, or nil.
func (r *Result) Component(name string) *ComponentResult {
	for i := range r.Components {
		if r.Components[i].Name == name {
			return &r.Components[i]
		}
	}
	return nil
}

// Operation returns the named operation's result, or nil.
func (c *ComponentResult) Operation(name string) *OperationResult {
	for i := range c.Operations {
		if c.Operations[i].Name == name {
			return &c.Operations[i]
		}
	}
	return nil
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

// IntervalHistograms decodes the operation's per-interval histograms.
func (o *OperationResult) IntervalHistograms() ([]*hdrhistogram.Histogram, error) {
	out := make([]*hdrhistogram.Histogram, 0, len(o.Intervals))
	for i, iv := range o.Intervals {
		h, err := hdrhistogram.Decode([]byte(iv.Histogram))
		if err != nil {
			return nil, fmt.Errorf("operation %q: interval %d: histogram: %w", o.Name, i, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// ErrBadResult marks a result file that is unreadable, truncated, corrupt or
// not a tailgate result.
var ErrBadResult = errors.New("not a valid tailgate result")

// maxResultSize bounds what ReadResult will load.
const maxResultSize = 512 << 20

// ReadResult loads and checks a result file.
func ReadResult(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("result %q: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResultSize+1))
	if err != nil {
		return nil, fmt.Errorf("result %q: %w", path, err)
	}
	if len(data) > maxResultSize {
		return nil, fmt.Errorf("result %q: %w: larger than %d MiB", path, ErrBadResult, maxResultSize>>20)
	}
	r, err := DecodeResult(data)
	if err != nil {
		return nil, fmt.Errorf("result %q: %w", path, err)
	}
	return r, nil
}

// DecodeResult parses and checks result JSON: schema, fields and every
// histogram must be sound.
func DecodeResult(data []byte) (*Result, error) {
	var r Result
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%w: schema is %q, want %q", ErrBadResult, r.Schema, Schema)
	}
	switch r.Verdict {
	case VerdictPass, VerdictFail, VerdictError:
	default:
		return nil, fmt.Errorf("%w: verdict %q is not pass, fail or error", ErrBadResult, r.Verdict)
	}
	if len(r.Components) == 0 {
		return nil, fmt.Errorf("%w: no components", ErrBadResult)
	}
	if r.MeasuredNS < 0 || r.WarmupNS < 0 || r.IntervalNS < 0 {
		return nil, fmt.Errorf("%w: negative window length", ErrBadResult)
	}
	if p := r.Pairing; p != nil {
		if p.ID == "" || len(p.Segments) == 0 || p.Segments[0] != 0 {
			return nil, fmt.Errorf("%w: pairing needs an id and segments starting at interval 0", ErrBadResult)
		}
		for k := 1; k < len(p.Segments); k++ {
			if p.Segments[k] < p.Segments[k-1] {
				return nil, fmt.Errorf("%w: pairing segment %d starts at interval %d, before the one before it (%d)", ErrBadResult, k, p.Segments[k], p.Segments[k-1])
			}
		}
	}
	if r.Runner != nil {
		_, err1 := r.Runner.Wakeups()
		_, err2 := r.Runner.CPUProbes()
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadResult, err)
		}
	}
	for ci := range r.Components {
		c := &r.Components[ci]
		if c.Name == "" {
			return nil, fmt.Errorf("%w: component %d has no name", ErrBadResult, ci)
		}
		if c.Looks != nil {
			if err := c.Looks.check(); err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrBadResult, c.Name, err)
			}
		}
		for oi := range c.Operations {
			o := &c.Operations[oi]
			if o.Count < 0 || o.Errors < 0 {
				return nil, fmt.Errorf("%w: component %q operation %q: negative count", ErrBadResult, c.Name, o.Name)
			}
			h, err := o.WholeHistogram()
			if err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrBadResult, c.Name, err)
			}
			if h.TotalCount() != o.Count {
				return nil, fmt.Errorf("%w: component %q operation %q: histogram holds %d samples, count says %d",
					ErrBadResult, c.Name, o.Name, h.TotalCount(), o.Count)
			}
			if _, err := o.IntervalHistograms(); err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrBadResult, c.Name, err)
			}
			cd, err1 := o.ClientDelays()
			lc, err2 := o.LatenciesLessClient()
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrBadResult, c.Name, err)
			}
			if n := cd.TotalCount(); (n != 0 && n != o.Count) || lc.TotalCount() != n {
				return nil, fmt.Errorf("%w: component %q operation %q: client delay histograms hold %d and %d samples, count says %d",
					ErrBadResult, c.Name, o.Name, n, lc.TotalCount(), o.Count)
			}
		}
	}
	return &r, nil
}

// jsonOf is the result file's encoding.
func jsonOf(r *Result) ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding result: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteFile writes the result atomically: a temporary file in the same
// directory, synced, then renamed over path.
func (r *Result) WriteFile(path string) error {
	data, err := jsonOf(r)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to path through a temporary file and a rename,
// so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// NotRunResult is the result of a run that stopped before it measured
// anything (a target unreachable, an interrupt while connecting): every
// component and operation of the specs, with nothing counted, marked
// incomplete with the reason, so the run still leaves a result and reports
// that say what happened. Targets and the reason are redacted.
func NotRunResult(specs []*Spec, start time.Time, reason, tool string) *Result {
	res := &Result{Schema: Schema, Tool: tool, Complete: false, StartedAt: start.UTC(), Verdict: VerdictError}
	empty := encodeHist(NewHistogram())
	for _, spec := range specs {
		res.Seed = spec.Seed
		res.WarmupNS = spec.Warmup.Nanoseconds()
		res.DurationNS = max(res.DurationNS, spec.Duration.Nanoseconds())
		res.IntervalNS = spec.interval().Nanoseconds()
		if spec.Shard.Count > 1 {
			sh := spec.Shard
			res.Shard = &sh
		}
		reason = Redact(reason, append(userinfoOf(spec.Component.Target), spec.Secrets...))
		id := spec.Identity()
		proto, _ := slo.Protocol(spec.Component.Target)
		cr := ComponentResult{
			Name: spec.Component.Name, Target: withoutUserinfo(spec.Component.Target, spec.Secrets), Protocol: proto,
			Embedded:  spec.Component.Target == "embedded:redis",
			AskedRate: spec.rate(), WorkloadHash: id.Hash(), Workload: id, Objectives: []ObjectiveResult{},
		}
		weights := spec.weights()
		total := 0
		for _, w := range weights {
			total += w
		}
		for k, name := range spec.Operations() {
			op := OperationResult{Name: name, Histogram: empty, ServiceHistogram: empty}
			if total > 0 {
				op.AskedRate = spec.rate() * float64(weights[k]) / float64(total)
			}
			cr.Operations = append(cr.Operations, op)
		}
		cr.Operations = append(cr.Operations, OperationResult{Name: slo.AllOperations, AskedRate: spec.rate(), Histogram: empty, ServiceHistogram: empty})
		res.Components = append(res.Components, cr)
	}
	res.Incomplete = reason
	return res
}

// userinfoOf is the secret in a target URL's userinfo: the password, or a
// user given alone (a token, as in redis://TOKEN@host).
func userinfoOf(target string) []string {
	u, err := url.Parse(target)
	if err != nil || u.User == nil {
		return nil
	}
	if pw, ok := u.User.Password(); ok {
		return []string{pw}
	}
	return []string{u.User.Username()}
}

// withoutUserinfo is a target URL as a result may show it: with no userinfo
// at all (a user alone may be a token), and every secret redacted.
func withoutUserinfo(target string, secrets []string) string {
	if u, err := url.Parse(target); err == nil && u.User != nil {
		u.User = nil
		target = u.String()
	}
	return Redact(target, secrets)
}
