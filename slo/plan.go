// Package slo holds tailgate's plan file: the components to load, their
// workloads, and the service-level objectives they are judged against.
//
// A plan is YAML, decoded strictly: unknown keys are errors, and every error
// names file:line:column. All errors of a plan are reported at once.
//
// The accepted value forms, as a small grammar:
//
//	duration   = number unit { number unit } | "0"
//	                                    e.g. 2ms, 1.5s, 250us, 5m, 1m30s
//	number     = digits [ "." digits ]  no sign, no exponent
//	unit       = "ns" | "us" | "µs" | "ms" | "s" | "m" | "h"
//	percentile = "p50" | "p90" | "p99" | "p99.9" | "p99.99" | "max"
//	percent    = number "%"             e.g. 0.1%, 99%
//	relative   = ("+" | "-") number "%" e.g. +10%   (regression and trend tiers, drift)
//	rate       = number "/s"            e.g. 30000/s  (capacity, minimum tier)
//	window     = "{" "window:" duration "," "max:" duration "}"   (p99_window)
//
// Latency metrics (percentiles and max) take a duration in the minimum and
// aspirational tiers; error_rate, throughput and hit_rate take a percent
// (throughput is the achieved rate as a share of the asked rate, hit_rate
// the share of a read's answers that found their key; hit_rate is judged
// in the minimum and aspirational tiers only). The regression tier takes a
// relative change against a baseline run for every metric, and the trend
// tier a relative change over the history of runs (--history) for every
// latency metric.
//
// capacity takes a rate in the minimum tier (30000/s) and a relative change
// in the regression tier (-5%), always on all: tailgate capacity judges it,
// against the highest rate at which the component's minimum objectives
// hold; run and check, which measure one rate, leave it unjudged.
//
// Two metrics judge a soak's course rather than its whole run, in the
// minimum and aspirational tiers: p99_window takes a window and a bar
// ({window: 10s, max: 5ms}: no window of the run has its p99 above the
// bar), and drift a relative change (+20%: the last third of the run's p99
// is at most 20% above the first third's).
package slo

import (
	"strings"
	"time"
)

// Plan is one decoded, validated plan file.
type Plan struct {
	// Version is the plan format version; only 1 exists.
	Version int
	// File is the path the plan was read from, used in messages.
	File string
	// Defaults apply to every component.
	Defaults Defaults
	// Components are the systems under test, in file order.
	Components []Component
	// Secrets are values that must never be printed or written: passwords
	// from target URLs, values of ${ENV} references, secret header values.
	Secrets []string
}

// Defaults are the run settings shared by every component.
type Defaults struct {
	// Duration is the measured soak length.
	Duration time.Duration
	// Warmup is applied before the measured window and excluded from it.
	Warmup time.Duration
	// Seed fixes keys, values and arrival times.
	Seed int64
	// Confirm is how many times a failing run is measured again (same seed)
	// before its failure is believed; 0 turns confirmation off.
	Confirm int
	// Confidence is the confidence level (0..1) of the statistics behind
	// regression verdicts, 0.95 by default.
	Confidence float64
	// Inconclusive is what an inconclusive regression objective does to the
	// verdict: InconclusiveError (the default), InconclusiveFail or
	// InconclusivePass.
	Inconclusive Inconclusive
	// Adaptive lets a run extend itself while a verdict is inconclusive;
	// the zero value turns it off.
	Adaptive Adaptive
}

// Adaptive is the plan's defaults.adaptive: a run whose regression verdicts
// are inconclusive after Duration is measured longer, in steps, until they
// are conclusive or MaxDuration is spent. Every look at the data is
// corrected for (gate/stats.LookConfidence), so extending does not add
// false verdicts.
type Adaptive struct {
	// MaxDuration is the longest measured length a run may extend to, at
	// least Duration; 0 means the run is never extended.
	MaxDuration time.Duration
}

// Enabled reports whether runs may extend themselves.
func (a Adaptive) Enabled() bool { return a.MaxDuration > 0 }

// Inconclusive names what an inconclusive objective (one whose interval
// neither rules its tolerance out nor in) does to the run's verdict.
type Inconclusive string

// The choices of defaults.inconclusive.
const (
	// InconclusiveError: the run cannot be judged (verdict error, exit 3),
	// the default: it neither passes a regression it could not rule out nor
	// blames the candidate for the run's own noise.
	InconclusiveError Inconclusive = "error"
	// InconclusiveFail: treated as a regression (verdict fail, exit 1).
	InconclusiveFail Inconclusive = "fail"
	// InconclusivePass: let through (verdict pass, exit 0), with a warning
	// in every report.
	InconclusivePass Inconclusive = "pass"
)

// Position is a place in the plan file, 1-based.
type Position struct {
	Line   int
	Column int
}

// Component is one system under test with its workload and objectives.
type Component struct {
	Name string
	// Target is the URL to load, with ${ENV} references already expanded.
	Target   string
	Workload Workload
	SLO      SLO
	// Capacity bounds tailgate capacity's search of this component.
	Capacity Capacity
	Pos      Position
	// TargetPos locates the target key, for messages about the target.
	TargetPos Position
}

// Capacity is a component's capacity block: the bounds of tailgate
// capacity's search for the highest rate at which every minimum objective
// holds. A bound left at zero takes DefaultCapacity's (WithDefaults); the
// command's flags override MinRate, MaxRate and Precision.
type Capacity struct {
	// MinRate is the first rate probed; 0 means the workload's rate.
	MinRate float64
	// MaxRate is the highest rate ever probed; 0 means
	// CapacityMaxFactor × MinRate.
	MaxRate float64
	// Precision is the widest bracket the search ends with, as a fraction
	// of the capacity.
	Precision float64
	// MaxProbes is the most probes the search runs, lengthened and
	// repeated ones included.
	MaxProbes int
	// MaxDuration is the most time the search spends.
	MaxDuration time.Duration
	// ProbeDuration is one probe's measured length, ProbeWarmup its
	// warmup; ProbeWarmupSet says the plan wrote probe_warmup, so that
	// probe_warmup: 0s asks for no warmup rather than the default.
	ProbeDuration  time.Duration
	ProbeWarmup    time.Duration
	ProbeWarmupSet bool
}

// DefaultCapacity is the capacity block of a component whose plan writes
// none: 5% precision, at most 20 probes of 10s (after 2s of warmup each)
// and 10 minutes.
var DefaultCapacity = Capacity{
	Precision:     0.05,
	MaxProbes:     20,
	MaxDuration:   10 * time.Minute,
	ProbeDuration: 10 * time.Second,
	ProbeWarmup:   2 * time.Second,
}

// WithDefaults returns c with every bound left at zero (in a plan built in
// code) at DefaultCapacity's; MinRate and MaxRate stay as they are, since
// their defaults depend on the workload.
func (c Capacity) WithDefaults() Capacity {
	d := DefaultCapacity
	if c.Precision == 0 {
		c.Precision = d.Precision
	}
	if c.MaxProbes == 0 {
		c.MaxProbes = d.MaxProbes
	}
	if c.MaxDuration == 0 {
		c.MaxDuration = d.MaxDuration
	}
	if c.ProbeDuration == 0 {
		c.ProbeDuration = d.ProbeDuration
	}
	if c.ProbeWarmup == 0 && !c.ProbeWarmupSet {
		c.ProbeWarmup = d.ProbeWarmup
	}
	return c
}

// CapacityMaxFactor is how far above its lowest rate a capacity search
// goes when the plan sets no max_rate.
const CapacityMaxFactor = 16

// Arrival names an arrival process for open-loop load.
type Arrival string

// The arrival processes.
const (
	ArrivalPoisson Arrival = "poisson"
	ArrivalUniform Arrival = "uniform"
)

// Distribution names how keys are drawn.
type Distribution string

// The key distributions.
const (
	DistributionUniform Distribution = "uniform"
	DistributionZipf    Distribution = "zipf"
)

// Workload is the load applied to one component.
type Workload struct {
	// Rate is operations per second, open loop; 0 means closed loop. A
	// workload in Stages has no rate of its own in the plan: Rate is then
	// the stages' mean rate (their operations over their length), which
	// the whole run's asked rate and throughput are judged against.
	Rate float64
	// Stages, when set, is the load's schedule: one stage after another,
	// each at its rate (or ramping to it) for its duration, open loop.
	// The run's measured length is the stages' total; warmup runs at the
	// first stage's rate before it. Nil for a workload of one rate.
	Stages      []Stage
	Arrival     Arrival
	Connections int
	// Streams is how many operations one connection carries at once
	// (HTTP/2 streams, for HTTP/2 and gRPC targets); 0, the default, is
	// one. The engine runs Connections × Streams workers. The plan writes
	// it as streams or, by its other name, concurrency.
	Streams int
	// Timeout bounds one operation; a timed-out operation is an error.
	Timeout time.Duration
	Keys    Keys
	// ValueSize is the size of every written value when Values is nil.
	ValueSize int
	// Values draws each written value's size from a distribution
	// (value_size written as a mapping); nil for one fixed size.
	Values *Values
	// Pipeline is how many operations one connection may have in flight
	// (Redis, Memcached); 0 and 1 both mean one at a time.
	Pipeline int
	// Prefill writes every key of the keyspace before warmup.
	Prefill Prefill
	// TTL is the expiry of every write; 0 means the run's default, which
	// outlives the run (see workloads.Spec.TTL).
	TTL time.Duration
	// Cleanup deletes every key of the keyspace after the run.
	Cleanup bool
	// Mix weights key-value operations (get, set); empty for request-based protocols.
	Mix []MixEntry
	// Commands holds the generic Redis commands of the mix, by operation
	// name (see ParseCommand); nil when the mix has none. Decoding sets
	// each one's Text, validation the rest.
	Commands map[string]*Command
	// Requests are the named requests of HTTP and gRPC components.
	Requests []Request
	// MaxErrorRate aborts the run as unmeasurable (exit 3) when the share of
	// failed operations in the measured window exceeds it.
	MaxErrorRate float64
	// Protoset names a file of compiled protobuf descriptors
	// (protoc --descriptor_set_out --include_imports) for gRPC targets whose
	// reflection service is off; relative to the plan's directory.
	Protoset string
	// Compression names the codec gRPC request messages are compressed
	// with ("gzip"); empty sends them uncompressed. Compressed replies are
	// taken either way.
	Compression string
	// TLS tunes certificate checks for rediss://, memcaches://, https://
	// and grpcs://, and holds the client certificate for mutual TLS.
	TLS TLS
	// Protocol is the wire protocol: the HTTP version of http:// and
	// https:// targets (empty means HTTPAuto), or the protocol of a
	// Memcached target (empty means MemcacheText).
	Protocol WireProtocol
	// Batch is how many keys one mget asks for; 0 means DefaultBatch.
	Batch int
}

// Stage is one step of a staged workload (workload.stages).
type Stage struct {
	// Rate is operations per second at the end of the stage, and all
	// through it unless it ramps.
	Rate float64
	// Duration is how long the stage lasts.
	Duration time.Duration
	// Ramp is how the rate gets to Rate: RampNone jumps to it at the
	// stage's start, RampLinear ramps linearly from the previous stage's
	// rate (0 for the first stage) over Duration.
	Ramp Ramp
	Pos  Position
}

// Ramp names how a stage's rate changes over the stage.
type Ramp string

// The ramps a stage may have.
const (
	// RampNone holds the stage's rate from its start.
	RampNone Ramp = ""
	// RampLinear ramps linearly from the previous stage's rate.
	RampLinear Ramp = "linear"
)

// MaxStages is the most stages a workload may have.
const MaxStages = 100

// StartRate is the rate stage i of stages starts at: the previous stage's
// rate (0 before the first) when it ramps, its own rate otherwise.
func StartRate(stages []Stage, i int) float64 {
	if stages[i].Ramp != RampLinear {
		return stages[i].Rate
	}
	if i == 0 {
		return 0
	}
	return stages[i-1].Rate
}

// stageMeanRate is stage i's mean rate: the mean of its start and end
// rates, which is its rate when it holds one.
func stageMeanRate(stages []Stage, i int) float64 {
	return (StartRate(stages, i) + stages[i].Rate) / 2
}

// RunLength is how long a run of the component measures: its stages'
// total when it runs in stages, duration (defaults.duration, or --duration)
// otherwise. The run and the sample rule both measure by it.
func (c *Component) RunLength(duration time.Duration) time.Duration {
	if st := c.Workload.Stages; st != nil {
		return StagesDuration(st)
	}
	return duration
}

// StagesDuration is the total length of stages.
func StagesDuration(stages []Stage) time.Duration {
	var d time.Duration
	for _, s := range stages {
		d += s.Duration
	}
	return d
}

// StagesOperations is how many operations stages intend in all: each
// stage's mean rate (stageMeanRate) times its length.
func StagesOperations(stages []Stage) float64 {
	var n float64
	for i, s := range stages {
		n += stageMeanRate(stages, i) * s.Duration.Seconds()
	}
	return n
}

// MeanRate is the rate of a run in stages over its whole length.
func MeanRate(stages []Stage) float64 {
	d := StagesDuration(stages)
	if d <= 0 {
		return 0
	}
	return StagesOperations(stages) / d.Seconds()
}

// SizeDistribution names how value sizes are drawn.
type SizeDistribution string

// The value size distributions.
const (
	// SizeFixed writes every value with Max bytes.
	SizeFixed SizeDistribution = "fixed"
	// SizeUniform draws each size uniformly from Min to Max.
	SizeUniform SizeDistribution = "uniform"
	// SizeZipf draws sizes from Min to Max with small sizes most likely
	// (exponent 1.1), as object sizes in caches tend to be.
	SizeZipf SizeDistribution = "zipf"
)

// Values is the value_size mapping: the distribution of written value
// sizes and how compressible their content is.
type Values struct {
	Distribution SizeDistribution
	// Min and Max bound a value's size in bytes, both included.
	Min, Max int
	// Compressibility is the share (0..1) of each value that is one
	// repeated byte; the rest is seeded random bytes.
	Compressibility float64
}

// Prefill is the workload's prefill setting.
type Prefill struct {
	// Enabled writes every key of the keyspace before warmup.
	Enabled bool
	// Rate caps the prefill writes per second; 0 means DefaultPrefillRate.
	Rate float64
}

// DefaultPrefillRate is how many keys a second prefill writes when the
// plan sets no rate: fast for a keyspace of a million keys (under two
// minutes), gentle enough for a shared cache.
const DefaultPrefillRate = 10_000

// MaxPipeline is the deepest per-connection pipeline a plan may ask for.
const MaxPipeline = 1024

// WireProtocol is workload.protocol: the HTTP version an HTTP target is
// spoken in (HTTPAuto, HTTP1, HTTP2, HTTP2Cleartext), or the protocol a
// Memcached target is spoken in (MemcacheText, MemcacheMeta).
type WireProtocol string

// HTTPProtocol is WireProtocol's former name, from when only HTTP targets
// had a protocol; new code names WireProtocol.
type HTTPProtocol = WireProtocol

// The HTTP protocols.
const (
	// HTTPAuto takes what the server offers by ALPN over TLS (h2 or
	// http/1.1), and HTTP/1.1 in the clear.
	HTTPAuto WireProtocol = "auto"
	// HTTP1 is HTTP/1.1, over TLS or in the clear.
	HTTP1 WireProtocol = "http1"
	// HTTP2 is HTTP/2 over TLS (ALPN h2), required.
	HTTP2 WireProtocol = "h2"
	// HTTP2Cleartext is HTTP/2 in the clear, with prior knowledge (h2c).
	HTTP2Cleartext WireProtocol = "h2c"
)

// MaxMessages is the most request messages a streaming call may send.
const MaxMessages = 100_000

// DefaultBatch is how many keys an mget asks for when the plan says not.
const DefaultBatch = 10

// TLS holds the certificate settings of a TLS target.
type TLS struct {
	// CAFile is a PEM bundle of roots to trust instead of the system's;
	// relative to the plan's directory.
	CAFile string
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
	// InsecureSkipVerify turns certificate checks off; reports flag it.
	InsecureSkipVerify bool
	// CertFile and KeyFile are the PEM client certificate (chain) and its
	// private key, presented to servers that ask for one (mutual TLS);
	// both or neither, relative to the plan's directory.
	CertFile string
	KeyFile  string
}

// Keys describes the seeded key generator.
type Keys struct {
	Count        int
	Distribution Distribution
	// Prefix starts every key; tailgate never touches a key outside it.
	Prefix string
	// ZipfS is the Zipf exponent (> 1).
	ZipfS float64
}

// MixEntry is one weighted key-value operation: a built-in operation
// (get, set, hset, ...), or a generic Redis command of
// Workload.Commands, which Operation names in results and objectives.
type MixEntry struct {
	Operation string
	Weight    int
}

// Request is one named HTTP or gRPC request.
type Request struct {
	Name   string
	Method string
	Path   string
	// Headers are sent as given; values may hold secrets.
	Headers map[string]string
	// SecretHeaders names headers whose values are redacted from all output.
	SecretHeaders []string
	Body          string
	// BodyFile names a file whose content is the body, as the plan writes
	// it (relative to the plan's directory); BodyPath is where it is read
	// from. The file is read before load (workloads.Open), not with the
	// plan, so the plan-size limit does not apply to it.
	BodyFile string
	BodyPath string
	Weight   int
	// Messages is how many request messages one call of a gRPC
	// client-streaming or bidirectional method sends, each built from the
	// body; 0 means 1. Unary and server-streaming methods take one.
	Messages int
	// ExpectStatus lists the statuses counted as success (HTTP); empty means 2xx.
	ExpectStatus []int
	Pos          Position
}

// SLO holds a component's objectives by tier.
type SLO struct {
	Minimum      []Objective
	Aspirational []Objective
	Regression   []Objective
	// Trend is judged against the history of earlier runs (--history):
	// a confirmed shift, or the drift since the oldest run, may raise the
	// metric by at most the relative bar.
	Trend []Objective
}

// Tier is an objective's tier.
type Tier string

// The tiers.
const (
	TierMinimum      Tier = "minimum"
	TierAspirational Tier = "aspirational"
	TierRegression   Tier = "regression"
	TierTrend        Tier = "trend"
)

// Metric names what an objective measures.
type Metric string

// The metrics.
const (
	MetricP50        Metric = "p50"
	MetricP90        Metric = "p90"
	MetricP99        Metric = "p99"
	MetricP999       Metric = "p99.9"
	MetricP9999      Metric = "p99.99"
	MetricMax        Metric = "max"
	MetricErrorRate  Metric = "error_rate"
	MetricThroughput Metric = "throughput"
	// MetricHitRate is the share of a read operation's answers that found
	// their key: hits / (hits + misses). Higher is better.
	MetricHitRate Metric = "hit_rate"
	// MetricP99Window is the largest p99 of the run's windows
	// (Threshold.Window long each), judged against Threshold.Latency.
	MetricP99Window Metric = "p99_window"
	// MetricDrift is how much the last third of the run's p99 exceeds
	// the first third's, judged against the relative Threshold.Ratio.
	MetricDrift Metric = "drift"
	// MetricCapacity is the highest rate at which every minimum objective
	// of the component holds, as tailgate capacity finds it: a rate bar
	// (Threshold.Rate, 30000/s) in the minimum tier, a relative change
	// against a baseline capacity file in the regression tier (-5%). Higher
	// is better. run and check do not judge it (they measure one rate).
	MetricCapacity Metric = "capacity"
)

// Metrics lists every metric in display order.
var Metrics = []Metric{MetricP50, MetricP90, MetricP99, MetricP999, MetricP9999, MetricMax, MetricErrorRate, MetricThroughput, MetricHitRate, MetricP99Window, MetricDrift, MetricCapacity}

// OverTime reports whether the metric judges the course of the run
// (p99_window, drift) rather than the whole run.
func (m Metric) OverTime() bool { return m == MetricP99Window || m == MetricDrift }

// The latencies of a streaming call (a gRPC streaming method) that an
// objective may name, as the prefix of a latency metric: first_message.p99
// is the p99 of the latency to the first response message, complete.p99
// that of the latency to the end of the stream, which is what p99 alone
// judges. Both run from the call's intended start.
const (
	LatencyFirstMessage = "first_message"
	LatencyComplete     = "complete"
)

// Latency splits a metric that names one of a streaming call's latencies
// (first_message.p99, complete.max) into that latency and the plain
// metric; any other metric comes back whole, with latency "".
func (m Metric) Latency() (latency string, plain Metric) {
	if l, rest, ok := strings.Cut(string(m), "."); ok && (l == LatencyFirstMessage || l == LatencyComplete) {
		return l, Metric(rest)
	}
	return "", m
}

// FirstMessage reports whether the metric judges a streaming call's
// latency to its first message.
func (m Metric) FirstMessage() bool {
	l, _ := m.Latency()
	return l == LatencyFirstMessage
}

// HigherIsBetter reports whether a larger measured value of the metric is
// the better one (throughput, hit_rate).
func (m Metric) HigherIsBetter() bool {
	return m == MetricThroughput || m == MetricHitRate || m == MetricCapacity
}

// Quantile returns the quantile (0..1) a latency percentile names (with or
// without a streaming latency's prefix); ok is false for max and for
// non-latency metrics.
func (m Metric) Quantile() (q float64, ok bool) {
	_, m = m.Latency()
	switch m {
	case MetricP50:
		return 0.50, true
	case MetricP90:
		return 0.90, true
	case MetricP99:
		return 0.99, true
	case MetricP999:
		return 0.999, true
	case MetricP9999:
		return 0.9999, true
	}
	return 0, false
}

// IsLatency reports whether the metric is a latency (a percentile or max).
func (m Metric) IsLatency() bool {
	_, ok := m.Quantile()
	_, plain := m.Latency()
	return ok || plain == MetricMax
}

// AllOperations is the operation name that aggregates every operation of a component.
const AllOperations = "all"

// Objective is one bar: in a tier, on an operation, for a metric.
type Objective struct {
	Tier      Tier
	Operation string
	Metric    Metric
	Threshold Threshold
	// Raw is the threshold as written, for reports.
	Raw string
	Pos Position
	// Stage is the stage of a staged workload the objective judges
	// (1-based, see Workload.Stages), or 0 for the whole run. The plan's
	// stage: all is one objective per stage.
	Stage int
}

// Threshold is an objective's bar. Exactly one of its forms is meaningful,
// chosen by tier and metric.
type Threshold struct {
	// Latency is the bar of a latency metric in the minimum and aspirational tiers.
	Latency time.Duration
	// Ratio is a fraction: 0.001 for 0.1% (error_rate), 0.99 for 99%
	// (throughput), or the allowed relative change in the regression tier
	// (+0.10 for +10%), in the trend tier, and of drift.
	Ratio float64
	// Window is the length of one window of p99_window, whose bar is
	// Latency.
	Window time.Duration
	// Rate is the bar of capacity in the minimum tier, in operations per
	// second.
	Rate float64
}
