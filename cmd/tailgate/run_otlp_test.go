package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/grpc"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/otlp"
	"github.com/tailgate-dev/tailgate/result"
)

// otlpReceiver is an OTLP/gRPC metrics endpoint that keeps what it is sent.
type otlpReceiver struct {
	collmetrics.UnimplementedMetricsServiceServer
	mu       sync.Mutex
	requests []*collmetrics.ExportMetricsServiceRequest
}

func (r *otlpReceiver) Export(_ context.Context, req *collmetrics.ExportMetricsServiceRequest) (*collmetrics.ExportMetricsServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
	return &collmetrics.ExportMetricsServiceResponse{}, nil
}

func startOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	r := &otlpReceiver{}
	collmetrics.RegisterMetricsServiceServer(srv, r)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return r, "http://" + lis.Addr().String()
}

// operationsExported sums the last export's tailgate.operations points and
// returns the run ids seen on them.
func (r *otlpReceiver) operationsExported() (total int64, runIDs []string, exports int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		return 0, nil, 0
	}
	last := r.requests[len(r.requests)-1]
	for _, rm := range last.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != otlp.MetricOperations {
					continue
				}
				for _, dp := range m.GetSum().DataPoints {
					total += dp.GetAsInt()
					for _, kv := range dp.Attributes {
						if kv.Key == otlp.AttrRunID {
							runIDs = append(runIDs, kv.Value.GetStringValue())
						}
					}
				}
			}
		}
	}
	return total, runIDs, len(r.requests)
}

func TestRunExportsOverOTLP(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	// 800 ops/s for 2s: enough samples for the plan's p99, light enough for
	// the race detector on a busy machine.
	plan := writePlan(t, strings.NewReplacer("duration: 3s", "duration: 2s", "rate: 2000", "rate: 800").
		Replace(planFor("redis://"+srv.Addr+"/0", "1s")))
	for _, via := range []string{"--otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		t.Run("the endpoint given by "+via, func(t *testing.T) {
			recv, endpoint := startOTLPReceiver(t)
			out := filepath.Join(t.TempDir(), "result.json")
			args := []string{"run", "-c", plan, "--out", out}
			env := map[string]string{}
			if via == "--otlp-endpoint" {
				args = append(args, "--otlp-endpoint", endpoint)
			} else {
				env[via] = endpoint
				env["TAILGATE_RUN_ID"] = "pipeline-42"
			}
			inv := invoke(t, env, args...)
			require.Equal(t, 0, inv.code)
			assert.Contains(t, inv.stderr, "exporting metrics over OTLP to "+endpoint)
			assert.NotContains(t, inv.stderr, "OTLP exports")
			res, err := result.Read(out)
			require.NoError(t, err)
			total, ids, exports := recv.operationsExported()
			assert.GreaterOrEqual(t, exports, 2, "exported while the run lasted, and at its end")
			assert.Equal(t, res.Components[0].Operation("all").Count, total, "the last export holds the result's counts")
			require.NotEmpty(t, ids)
			if via == "--otlp-endpoint" {
				assert.True(t, strings.HasPrefix(ids[0], "seed7-"), "run id %q is the seed and start time", ids[0])
			} else {
				assert.Equal(t, "pipeline-42", ids[0], "TAILGATE_RUN_ID names the run")
			}
		})
	}
	t.Run("a bad endpoint is a usage error before any load", func(t *testing.T) {
		inv := invoke(t, nil, "run", "-c", plan, "--otlp-endpoint", "127.0.0.1:4317")
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "want a URL such as http://127.0.0.1:4317")
	})
}
