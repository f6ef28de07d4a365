package otlp_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/otlp"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	_ "github.com/tailgate-dev/tailgate/workloads/redis"
)

// receiver is an OTLP/gRPC metrics endpoint, as a collector serves it: it
// keeps every export request it is sent.
type receiver struct {
	collmetrics.UnimplementedMetricsServiceServer
	mu       sync.Mutex
	requests []*collmetrics.ExportMetricsServiceRequest
	headers  []metadata.MD
	// hold, if set, keeps every export waiting until it closes; each
	// export arriving is announced on arrived first.
	hold    chan struct{}
	arrived chan struct{}
}

func (r *receiver) Export(ctx context.Context, req *collmetrics.ExportMetricsServiceRequest) (*collmetrics.ExportMetricsServiceResponse, error) {
	if r.hold != nil {
		select {
		case r.arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
	r.headers = append(r.headers, md)
	return &collmetrics.ExportMetricsServiceResponse{}, nil
}

func (r *receiver) snapshot() ([]*collmetrics.ExportMetricsServiceRequest, []metadata.MD) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*collmetrics.ExportMetricsServiceRequest(nil), r.requests...), append([]metadata.MD(nil), r.headers...)
}

// startReceiver serves a receiver on a free loopback port.
func startReceiver(t *testing.T) (*receiver, string) {
	return serveReceiver(t, &receiver{})
}

// serveReceiver serves r on a free loopback port.
func serveReceiver(t *testing.T, r *receiver) (*receiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	collmetrics.RegisterMetricsServiceServer(srv, r)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return r, "http://" + lis.Addr().String()
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[kv.Key] = kv.Value.GetStringValue()
	}
	return out
}

// metricsOf returns the metrics of one request by name.
func metricsOf(req *collmetrics.ExportMetricsServiceRequest) map[string]*metricspb.Metric {
	out := map[string]*metricspb.Metric{}
	for _, rm := range req.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				out[m.Name] = m
			}
		}
	}
	return out
}

// A real run against redis-server, exported to a real OTLP/gRPC endpoint:
// data points arrive while the run lasts, and the last ones carry exactly
// the result's counts, with the component, operation and run id attributes.
func TestExportsARunningLoadToAnOTLPReceiver(t *testing.T) {
	srv := testserver.Redis(t)
	recv, endpoint := startReceiver(t)
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{otlp.EnvHeaders: "x-tenant=perf%20team,authorization=Bearer%20t0k"}[k]
		return v, ok
	}
	ep, headers, err := otlp.Resolve(endpoint, lookup)
	require.NoError(t, err)
	var firstErr error
	exp, err := otlp.New(context.Background(), otlp.Config{Endpoint: ep, Headers: headers, RunID: "seed7-test", Shard: "1/1",
		Version: "test", OnError: func(err error) { firstErr = err }})
	require.NoError(t, err)

	spec := &workloads.Spec{
		Component: slo.Component{Name: "cache", Target: "redis://" + srv.Addr + "/0", Workload: slo.Workload{
			Rate: 1000, Arrival: slo.ArrivalPoisson, Connections: 4, Timeout: time.Second, ValueSize: 32, MaxErrorRate: 0.5,
			Keys: slo.Keys{Count: 500, Distribution: slo.DistributionUniform, Prefix: "tailgate:otlp:"},
			Mix:  []slo.MixEntry{{Operation: "get", Weight: 70}, {Operation: "set", Weight: 30}},
		}},
		Duration: 3 * time.Second, Warmup: 300 * time.Millisecond, Seed: 7,
	}
	res, err := workloads.Run(context.Background(), []*workloads.Spec{spec}, workloads.Options{Progress: exp.Observe})
	require.NoError(t, err)
	// Exports are sent from the exporter's own goroutine: give the last
	// progress snapshot a moment to arrive before counting.
	require.Eventually(t, func() bool { reqs, _ := recv.snapshot(); return len(reqs) >= 2 }, 5*time.Second, 20*time.Millisecond)
	during, _ := recv.snapshot()
	require.NoError(t, exp.Close(context.Background(), res))
	assert.NoError(t, firstErr)

	reqs, mds := recv.snapshot()
	t.Logf("%d exports while the run lasted, %d in all", len(during), len(reqs))
	assert.GreaterOrEqual(t, len(during), 2, "data is exported while the run lasts")
	assert.Equal(t, []string{"perf team"}, mds[0].Get("x-tenant"), "headers from OTEL_EXPORTER_OTLP_HEADERS")
	assert.Equal(t, []string{"Bearer t0k"}, mds[0].Get("authorization"))

	last := reqs[len(reqs)-1]
	require.Len(t, last.ResourceMetrics, 1)
	assert.Equal(t, "tailgate", attrs(last.ResourceMetrics[0].Resource.Attributes)["service.name"])
	m := metricsOf(last)
	for _, name := range []string{otlp.MetricDuration, otlp.MetricLatency, otlp.MetricOperations, otlp.MetricThroughput} {
		require.Contains(t, m, name)
	}
	c := res.Components[0]
	hist := m[otlp.MetricDuration].GetHistogram()
	require.NotNil(t, hist)
	assert.Equal(t, metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE, hist.AggregationTemporality)
	require.Len(t, hist.DataPoints, 2, "one series per operation")
	for _, dp := range hist.DataPoints {
		a := attrs(dp.Attributes)
		assert.Equal(t, "cache", a[otlp.AttrComponent])
		assert.Equal(t, "seed7-test", a[otlp.AttrRunID])
		assert.Equal(t, "1/1", a[otlp.AttrShard])
		op := c.Operation(a[otlp.AttrOperation])
		require.NotNil(t, op, "operation %q", a[otlp.AttrOperation])
		assert.EqualValues(t, op.Count, dp.Count, "%s: the histogram counts the result's operations", op.Name)
		var sum uint64
		for _, n := range dp.BucketCounts {
			sum += n
		}
		assert.Equal(t, dp.Count, sum)
		assert.Equal(t, otlp.DefaultBounds, dp.ExplicitBounds)
		assert.InDelta(t, float64(op.LatencyNS.Max)/1e9, dp.GetMax(), 1e-12)
	}
	for _, dp := range m[otlp.MetricOperations].GetSum().DataPoints {
		a := attrs(dp.Attributes)
		assert.Equal(t, c.Operation(a[otlp.AttrOperation]).Count, dp.GetAsInt(), a[otlp.AttrOperation])
	}
	for _, dp := range m[otlp.MetricLatency].GetSummary().DataPoints {
		op := c.Operation(attrs(dp.Attributes)[otlp.AttrOperation])
		for _, qv := range dp.QuantileValues {
			if qv.Quantile == 0.99 {
				assert.InDelta(t, float64(op.LatencyNS.P99)/1e9, qv.Value, 1e-12, "the summary's p99 is the result's")
			}
		}
	}
	tp := m[otlp.MetricThroughput].GetGauge().DataPoints
	require.Len(t, tp, 1)
	assert.InDelta(t, c.Operation("all").AchievedRate, tp[0].GetAsDouble(), 1e-9)

	// While the run lasted, counts only grew.
	var prev int64
	for _, r := range reqs {
		var n int64
		for _, dp := range metricsOf(r)[otlp.MetricOperations].GetSum().DataPoints {
			n += dp.GetAsInt()
		}
		assert.GreaterOrEqual(t, n, prev)
		prev = n
	}
}

// Observe hands the snapshot over and returns, whatever the collector does:
// with the sending goroutine stuck in an export the collector does not
// answer, more snapshots are still taken (the older one dropped).
func TestObserveDoesNotWaitForAStuckExport(t *testing.T) {
	r := &receiver{hold: make(chan struct{}), arrived: make(chan struct{}, 1)}
	_, endpoint := serveReceiver(t, r)
	exp, err := otlp.New(context.Background(), otlp.Config{Endpoint: endpoint, RunID: "r", Timeout: time.Minute})
	require.NoError(t, err)
	progress := workloads.Progress{Components: []workloads.ComponentProgress{{Name: "cache"}}}
	exp.Observe(progress)
	<-r.arrived // the sending goroutine is in the export now, held
	// Were Observe to wait for the export, this would never return.
	for range 5 {
		exp.Observe(progress)
	}
	close(r.hold)
	require.NoError(t, exp.Close(context.Background(), nil))
	reqs, _ := r.snapshot()
	assert.NotEmpty(t, reqs)
	assert.LessOrEqual(t, len(reqs), 2, "the held export and at most the latest snapshot after it: older ones are dropped")
}

// A collector that cannot be reached fails its exports, which are reported
// once and in Close's error, and the run goes on.
func TestAnUnreachableCollectorDoesNotHoldTheRunBack(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	errs := make(chan error, 1)
	exp, err := otlp.New(context.Background(), otlp.Config{Endpoint: "http://" + addr, RunID: "r", Timeout: 500 * time.Millisecond,
		OnError: func(err error) { errs <- err }})
	require.NoError(t, err)
	for range 5 {
		exp.Observe(workloads.Progress{Components: []workloads.ComponentProgress{{Name: "cache"}}})
	}
	assert.Error(t, <-errs, "the failed export is reported")
	err = exp.Close(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OTLP exports to http://"+addr+" failed")
}

func TestResolve(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name     string
		flag     string
		lookup   func(string) (string, bool)
		endpoint string
		headers  map[string]string
		err      string
	}{
		{name: "nothing set means export is off", lookup: env()},
		{name: "the flag wins over the variables", flag: "http://127.0.0.1:4317",
			lookup: env(otlp.EnvEndpoint, "http://elsewhere:4317"), endpoint: "http://127.0.0.1:4317"},
		{name: "the metrics variable wins over the general one",
			lookup:   env(otlp.EnvEndpoint, "http://a:4317", otlp.EnvMetricsEndpoint, "https://b:4317"),
			endpoint: "https://b:4317"},
		{name: "the general variable applies alone", lookup: env(otlp.EnvEndpoint, "http://a:4317"), endpoint: "http://a:4317"},
		{name: "headers are decoded", lookup: env(otlp.EnvEndpoint, "http://a:4317", otlp.EnvHeaders, "api-key=s%3Dcret, x=1"),
			endpoint: "http://a:4317", headers: map[string]string{"api-key": "s=cret", "x": "1"}},
		{name: "the metrics headers win", lookup: env(otlp.EnvEndpoint, "http://a:4317", otlp.EnvHeaders, "a=1", otlp.EnvMetricsHeaders, "b=2"),
			endpoint: "http://a:4317", headers: map[string]string{"b": "2"}},
		{name: "a bare host:port is refused", flag: "127.0.0.1:4317", lookup: env(), err: `--otlp-endpoint "127.0.0.1:4317": want a URL`},
		{name: "a bad variable is named", lookup: env(otlp.EnvEndpoint, "ftp://a"), err: otlp.EnvEndpoint},
		{name: "a header without a value is refused", lookup: env(otlp.EnvEndpoint, "http://a:4317", otlp.EnvHeaders, "secret"),
			err: `header "secret": want key=value`},
		{name: "http/protobuf is refused", lookup: env(otlp.EnvEndpoint, "http://a:4318", otlp.EnvProtocol, "http/protobuf"),
			err: "only grpc is supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, h, err := otlp.Resolve(tt.flag, tt.lookup)
			if tt.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, otlp.ErrConfig)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.endpoint, ep)
			assert.Equal(t, tt.headers, h)
		})
	}
}

func TestExplicitBucketsNeverShowALatencyFaster(t *testing.T) {
	h := result.NewHistogram()
	for _, ns := range []int64{500_000, 1_000_000, 1_000_000, 1_001_000, 2_500_000, 90_000_000_000} {
		require.NoError(t, h.RecordValue(ns))
	}
	bounds := []float64{0.001, 0.002, 0.005}
	dp := otlp.ExplicitBuckets(h, bounds)
	// 0.5ms lands in (0, 1ms]. 1ms falls in an HDR bucket of 512ns that
	// reaches up to 1.000447ms, so it is counted above the 1ms bound, with
	// 1.001ms: never faster than it was. 90s overflows into (5ms, +Inf).
	assert.Equal(t, []uint64{1, 3, 1, 1}, dp.BucketCounts)
	assert.EqualValues(t, 6, dp.Count)
	maxV, ok := dp.Max.Value()
	require.True(t, ok)
	assert.InDelta(t, float64(h.Max())/1e9, maxV, 1e-12)
	empty := otlp.ExplicitBuckets(result.NewHistogram(), bounds)
	assert.Zero(t, empty.Count)
	assert.Len(t, empty.BucketCounts, 4)
}
