// Package otlp exports a run's measurements to an OpenTelemetry collector
// over OTLP/gRPC while the run lasts, so a dashboard shows the soak as it
// happens; the result file stays the record that is judged.
//
// The exporter is fed the engine's progress snapshots (workloads.Progress,
// about once a second) and sends the latest of them from its own goroutine,
// so a slow or absent collector never holds the load back. When the run ends,
// Close sends the final result once more, so the last data points equal the
// result file's counts.
//
// Metrics, all cumulative from the exporter's start, over the measured window
// (warmup excluded):
//
//	tailgate.operation.duration   histogram, s   latency from the intended start to completion
//	                                             (corrected for coordinated omission)
//	tailgate.operation.latency    summary, s     the same latencies as exact HDR quantiles
//	                                             0.5 0.9 0.99 0.999 0.9999 and 1 (max)
//	tailgate.operations           counter        successful operations
//	tailgate.errors               counter        failed operations, by error.type
//	tailgate.throughput           gauge, 1/s     operations completed per second, per component
//
// Attributes: tailgate.component, tailgate.operation (not on throughput),
// tailgate.run.id (the caller's choice: tailgate run uses TAILGATE_RUN_ID when
// set, so the shards of one run share it, else the seed and start time), tailgate.shard
// ("I/N", sharded runs only) and error.type (errors only). The resource
// carries service.name "tailgate" and service.version.
//
// HDR to explicit buckets: every HDR bucket (0.1% wide at tailgate's three
// significant digits) is counted in the explicit bucket holding its highest
// equivalent value. Where an explicit bound cuts an HDR bucket, the HDR
// bucket's values all go to the upper explicit bucket: the exported
// histogram never shows a latency as faster than it was, and is off by at
// most the HDR precision. Count, min, max and sum (mean × count) come from the
// HDR histogram; the summary carries its exact quantiles.
//
// Endpoint and headers: the --otlp-endpoint flag, else
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT (a
// URL: http:// for plaintext, https:// for TLS); headers from
// OTEL_EXPORTER_OTLP_METRICS_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS
// ("k1=v1,k2=v2", values URL-encoded). OTEL_EXPORTER_OTLP_PROTOCOL, when set,
// must be grpc.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// Metric names.
const (
	MetricDuration   = "tailgate.operation.duration"
	MetricLatency    = "tailgate.operation.latency"
	MetricOperations = "tailgate.operations"
	MetricErrors     = "tailgate.errors"
	MetricThroughput = "tailgate.throughput"
)

// Attribute keys.
const (
	AttrComponent = "tailgate.component"
	AttrOperation = "tailgate.operation"
	AttrRunID     = "tailgate.run.id"
	AttrShard     = "tailgate.shard"
	AttrErrorType = "error.type"
)

// Environment variables read by Resolve.
const (
	EnvEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvMetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	EnvHeaders         = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvMetricsHeaders  = "OTEL_EXPORTER_OTLP_METRICS_HEADERS"
	EnvProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
)

// DefaultBounds are the explicit histogram bounds, in seconds: nine per
// decade from 10µs to 10s, then 15s to 60s.
var DefaultBounds = defaultBounds()

func defaultBounds() []float64 {
	var out []float64
	for decade := 1e-5; decade < 10; decade *= 10 {
		for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5} {
			out = append(out, m*decade)
		}
	}
	return append(out, 10, 15, 20, 30, 60)
}

// quantiles exported in the summary; 1 is the maximum.
var quantiles = []float64{0.5, 0.9, 0.99, 0.999, 0.9999, 1}

// ErrConfig marks an unusable endpoint, header or protocol setting.
var ErrConfig = errors.New("OTLP export settings")

// Config says where and how to export.
type Config struct {
	// Endpoint is the collector's URL: http://host:4317 (plaintext) or
	// https://host:4317 (TLS).
	Endpoint string
	// Headers are sent with every export (authentication, tenancy).
	Headers map[string]string
	// RunID tells the runs apart: every data point carries it.
	RunID string
	// Shard is "I/N" for a sharded run, empty otherwise.
	Shard string
	// Version is tailgate's version, for the resource.
	Version string
	// Bounds are the explicit histogram bounds in seconds; DefaultBounds
	// if nil.
	Bounds []float64
	// Timeout bounds one export, retries included; 5s if zero.
	Timeout time.Duration
	// OnError, if set, is told of the first failed export while the run
	// lasts (later ones are only counted, and Close reports them).
	OnError func(error)
}

// Resolve finds the endpoint and headers: the flag first, then the standard
// OpenTelemetry variables through lookup. An empty endpoint means export is
// off. Bad values are errors wrapping ErrConfig.
func Resolve(flag string, lookup func(string) (string, bool)) (endpoint string, headers map[string]string, err error) {
	get := func(keys ...string) (string, string) {
		for _, k := range keys {
			if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v), k
			}
		}
		return "", ""
	}
	if p, from := get(EnvMetricsProtocol, EnvProtocol); p != "" && p != "grpc" {
		return "", nil, fmt.Errorf("%w: %s=%q: only grpc is supported", ErrConfig, from, p)
	}
	endpoint, from := flag, "--otlp-endpoint"
	if endpoint == "" {
		endpoint, from = get(EnvMetricsEndpoint, EnvEndpoint)
	}
	if endpoint == "" {
		return "", nil, nil
	}
	u, perr := url.Parse(endpoint)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("%w: %s %q: want a URL such as http://127.0.0.1:4317 (http for plaintext, https for TLS)", ErrConfig, from, endpoint)
	}
	raw, hfrom := get(EnvMetricsHeaders, EnvHeaders)
	if raw != "" {
		if headers, err = parseHeaders(raw); err != nil {
			return "", nil, fmt.Errorf("%w: %s: %w", ErrConfig, hfrom, err)
		}
	}
	return endpoint, headers, nil
}

// parseHeaders reads "k1=v1,k2=v2" with URL-encoded values.
func parseHeaders(raw string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(raw, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			// The value may be a secret: name the key only.
			return nil, fmt.Errorf("header %q: want key=value", k)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("header %q: the value is not URL-encoded correctly", k)
		}
		out[k] = dv
	}
	return out, nil
}

// Exporter sends a run's progress to a collector.
type Exporter struct {
	cfg      Config
	exporter sdkmetric.Exporter
	resource *resource.Resource
	start    time.Time
	common   []attribute.KeyValue

	latest chan workloads.Progress
	stop   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	exports  int
	failures int
	firstErr error
}

// New connects an exporter (gRPC connects lazily: an unreachable collector
// shows as failed exports, not here) and starts its sending goroutine.
func New(ctx context.Context, cfg Config) (*Exporter, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("%w: no endpoint", ErrConfig)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Bounds == nil {
		cfg.Bounds = DefaultBounds
	}
	opts := []otlpmetricgrpc.Option{
		otlpmetricgrpc.WithEndpointURL(cfg.Endpoint),
		otlpmetricgrpc.WithTimeout(cfg.Timeout),
		otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: 200 * time.Millisecond,
			MaxInterval: time.Second, MaxElapsedTime: cfg.Timeout}),
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlpmetricgrpc.WithHeaders(cfg.Headers))
	}
	exp, err := otlpmetricgrpc.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	e := &Exporter{
		cfg: cfg, exporter: exp, start: time.Now(),
		resource: resource.NewSchemaless(attribute.String("service.name", "tailgate"), attribute.String("service.version", cfg.Version)),
		common:   []attribute.KeyValue{attribute.String(AttrRunID, cfg.RunID)},
		latest:   make(chan workloads.Progress, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if cfg.Shard != "" {
		e.common = append(e.common, attribute.String(AttrShard, cfg.Shard))
	}
	go e.loop()
	return e, nil
}

// Observe takes a progress snapshot; it never blocks. Only the latest
// snapshot waits to be sent. Pass it as workloads.Options.Progress, or call
// it from there; it must be called from one goroutine at a time.
func (e *Exporter) Observe(p workloads.Progress) {
	select {
	case e.latest <- p:
		return
	default:
	}
	select {
	case <-e.latest: // drop the older snapshot
	default:
	}
	select {
	case e.latest <- p:
	default:
	}
}

func (e *Exporter) loop() {
	defer close(e.done)
	for {
		select {
		case <-e.stop:
			return
		case p := <-e.latest:
			e.send(e.fromProgress(p, time.Now()))
		}
	}
}

// send exports one batch with the configured timeout and notes the outcome.
func (e *Exporter) send(rm *metricdata.ResourceMetrics) {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Timeout)
	defer cancel()
	err := e.exporter.Export(ctx, rm)
	e.mu.Lock()
	e.exports++
	first := false
	if err != nil {
		e.failures++
		if e.firstErr == nil {
			e.firstErr, first = err, true
		}
	}
	e.mu.Unlock()
	if first && e.cfg.OnError != nil {
		e.cfg.OnError(err)
	}
}

// Close stops the sending goroutine, sends the final result (if not nil) so
// the last data points match the result file, and shuts the exporter down.
// The error reports failed exports; the run itself is not affected by them.
func (e *Exporter) Close(ctx context.Context, final *result.Result) error {
	close(e.stop)
	<-e.done
	var errs []error
	if final != nil {
		rm, err := e.fromResult(final, time.Now())
		if err != nil {
			errs = append(errs, err)
		} else {
			e.send(rm)
		}
	}
	if err := e.exporter.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting the OTLP exporter down: %w", err))
	}
	e.mu.Lock()
	if e.failures > 0 {
		errs = append([]error{fmt.Errorf("%d of %d OTLP exports to %s failed; the first: %w", e.failures, e.exports, e.cfg.Endpoint, e.firstErr)}, errs...)
	}
	e.mu.Unlock()
	return errors.Join(errs...)
}

// opRecord is what one operation contributes to a batch.
type opRecord struct {
	component, operation string
	count                int64
	errorKinds           map[string]int64
	latency              *hdrhistogram.Histogram
}

func (e *Exporter) fromProgress(p workloads.Progress, now time.Time) *metricdata.ResourceMetrics {
	var ops []opRecord
	rates := map[string]float64{}
	var order []string
	for _, c := range p.Components {
		order = append(order, c.Name)
		rates[c.Name] = c.Rate
		for _, o := range c.Ops {
			ops = append(ops, opRecord{component: c.Name, operation: o.Name, count: o.Count, errorKinds: o.ErrorKinds, latency: o.Latency})
		}
	}
	return e.batch(ops, order, rates, now)
}

func (e *Exporter) fromResult(r *result.Result, now time.Time) (*metricdata.ResourceMetrics, error) {
	var ops []opRecord
	rates := map[string]float64{}
	var order []string
	for _, c := range r.Components {
		order = append(order, c.Name)
		for i := range c.Operations {
			o := &c.Operations[i]
			if o.Name == slo.AllOperations {
				rates[c.Name] = o.AchievedRate
				continue // the backend sums operations; "all" would count twice
			}
			h, err := o.WholeHistogram()
			if err != nil {
				return nil, fmt.Errorf("component %q: %w", c.Name, err)
			}
			ops = append(ops, opRecord{component: c.Name, operation: o.Name, count: o.Count, errorKinds: o.ErrorKinds, latency: h})
		}
	}
	return e.batch(ops, order, rates, now), nil
}

func (e *Exporter) attrs(kv ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append(append([]attribute.KeyValue{}, e.common...), kv...)...)
}

// batch builds one export: the metrics of every operation and component.
func (e *Exporter) batch(ops []opRecord, components []string, rates map[string]float64, now time.Time) *metricdata.ResourceMetrics {
	hist := metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality}
	summary := metricdata.Summary{}
	counts := metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
	errs := metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
	throughput := metricdata.Gauge[float64]{}
	for _, o := range ops {
		who := []attribute.KeyValue{attribute.String(AttrComponent, o.component), attribute.String(AttrOperation, o.operation)}
		set := e.attrs(who...)
		counts.DataPoints = append(counts.DataPoints, metricdata.DataPoint[int64]{Attributes: set, StartTime: e.start, Time: now, Value: o.count})
		for kind, n := range o.errorKinds {
			errs.DataPoints = append(errs.DataPoints, metricdata.DataPoint[int64]{
				Attributes: e.attrs(append(who, attribute.String(AttrErrorType, kind))...), StartTime: e.start, Time: now, Value: n})
		}
		if o.latency == nil {
			continue
		}
		dp := ExplicitBuckets(o.latency, e.cfg.Bounds)
		dp.Attributes, dp.StartTime, dp.Time = set, e.start, now
		hist.DataPoints = append(hist.DataPoints, dp)
		sp := metricdata.SummaryDataPoint{Attributes: set, StartTime: e.start, Time: now, Count: dp.Count, Sum: dp.Sum}
		if dp.Count > 0 {
			for _, q := range quantiles {
				v := o.latency.Max()
				if q < 1 {
					v = o.latency.ValueAtQuantile(q * 100)
				}
				sp.QuantileValues = append(sp.QuantileValues, metricdata.QuantileValue{Quantile: q, Value: float64(v) / 1e9})
			}
		}
		summary.DataPoints = append(summary.DataPoints, sp)
	}
	for _, c := range components {
		throughput.DataPoints = append(throughput.DataPoints, metricdata.DataPoint[float64]{
			Attributes: e.attrs(attribute.String(AttrComponent, c)), StartTime: e.start, Time: now, Value: rates[c]})
	}
	metrics := []metricdata.Metrics{
		{Name: MetricDuration, Unit: "s", Description: "Latency from the intended start to completion (corrected for coordinated omission), measured window so far", Data: hist},
		{Name: MetricLatency, Unit: "s", Description: "Exact HDR quantiles of the corrected latency, measured window so far", Data: summary},
		{Name: MetricOperations, Unit: "{operation}", Description: "Successful operations in the measured window so far", Data: counts},
		{Name: MetricThroughput, Unit: "{operation}/s", Description: "Operations completed per second, per component", Data: throughput},
	}
	if len(errs.DataPoints) > 0 {
		metrics = append(metrics, metricdata.Metrics{Name: MetricErrors, Unit: "{operation}", Description: "Failed operations in the measured window so far, by error type", Data: errs})
	}
	return &metricdata.ResourceMetrics{
		Resource: e.resource,
		ScopeMetrics: []metricdata.ScopeMetrics{{
			Scope:   instrumentation.Scope{Name: "github.com/tailgate-dev/tailgate/otlp", Version: e.cfg.Version},
			Metrics: metrics,
		}},
	}
}

// ExplicitBuckets converts an HDR histogram of nanoseconds into an
// explicit-bucket data point in seconds: each HDR bucket is counted in the
// explicit bucket (lower bound exclusive, upper inclusive) holding its
// highest equivalent value, so no latency is shown faster than it was.
// Attributes and times are left for the caller.
func ExplicitBuckets(h *hdrhistogram.Histogram, bounds []float64) metricdata.HistogramDataPoint[float64] {
	dp := metricdata.HistogramDataPoint[float64]{Bounds: append([]float64(nil), bounds...), BucketCounts: make([]uint64, len(bounds)+1)}
	total := h.TotalCount()
	if total == 0 {
		return dp
	}
	j := 0
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := float64(bar.To) / 1e9
		for j < len(bounds) && v > bounds[j] {
			j++
		}
		dp.BucketCounts[j] += uint64(bar.Count)
	}
	dp.Count = uint64(total)
	dp.Sum = h.Mean() * float64(total) / 1e9
	dp.Min = metricdata.NewExtrema(float64(h.Min()) / 1e9)
	dp.Max = metricdata.NewExtrema(float64(h.Max()) / 1e9)
	return dp
}
