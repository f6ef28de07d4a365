package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
)

// testService is grpc-go's interop TestService answering UnaryCall with a
// payload of the size asked for.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func (testService) UnaryCall(_ context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}

// startGRPC serves svc as the TestService, with health and reflection, on a
// free loopback port until the test ends.
func startGRPC(t *testing.T, svc testpb.TestServiceServer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	testpb.RegisterTestServiceServer(srv, svc)
	reflection.Register(srv)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func TestOneComponentOfEachProtocol(t *testing.T) {
	t.Parallel()
	redis := testserver.Redis(t)
	memcached := testserver.Memcached(t)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Query().Get("q"), "tailgate:") {
			http.Error(w, "key outside the prefix", http.StatusBadRequest)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer web.Close()
	rpc := startGRPC(t, testService{})
	plan := writePlan(t, `version: 1
defaults: {duration: 2s, warmup: 200ms}
components:
  - name: cache
    target: redis://`+redis.Addr+`
    workload: {rate: 300, arrival: uniform, connections: 2, mix: {get: 50, set: 50}}
    slo: {minimum: {get: {p90: 1s}, all: {error_rate: 0%}}}
  - name: sessions
    target: memcache://`+memcached.Addr+`
    workload: {rate: 300, arrival: uniform, connections: 2, mix: {get: 50, set: 50}}
    slo: {minimum: {set: {p90: 1s}, all: {error_rate: 0%}}}
  - name: web
    target: `+web.URL+`
    workload:
      rate: 300
      arrival: uniform
      connections: 2
      requests:
        - {name: home, method: GET, path: /}
        - {name: search, method: POST, path: "/search?q={{key}}", headers: {Content-Type: application/json}, body: '{"q":"{{key}}"}'}
    slo: {minimum: {home: {p90: 1s}, all: {error_rate: 0%}}}
  - name: rpc
    target: grpc://`+rpc+`
    workload:
      rate: 300
      arrival: uniform
      connections: 2
      requests:
        - {name: health, method: grpc.health.v1.Health/Check, body: '{}'}
        - {name: unary, method: grpc.testing.TestService/UnaryCall, body: '{"responseSize": 64, "payload": {"body": "dGFpbGdhdGU="}}'}
    slo: {minimum: {unary: {p90: 1s}, all: {error_rate: 0%}}}
`)
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	inv := invoke(t, nil, "run", "-c", plan, "--out", out, "--report-dir", filepath.Join(dir, "reports"))
	require.Equal(t, 0, inv.code)
	res, err := result.Read(out)
	require.NoError(t, err)
	want := map[string][]string{
		"cache": {"get", "set", "all"}, "sessions": {"get", "set", "all"},
		"web": {"home", "search", "all"}, "rpc": {"health", "unary", "all"},
	}
	for component, ops := range want {
		c := res.Component(component)
		require.NotNil(t, c, component)
		for _, name := range ops {
			op := c.Operation(name)
			require.NotNil(t, op, "%s %s", component, name)
			assert.Positive(t, op.Count, "%s %s", component, name)
			assert.Zero(t, op.Errors, "%s %s: %v", component, name, op.ErrorKinds)
			assert.Positive(t, op.LatencyNS.P99, "%s %s", component, name)
			if name != "all" {
				assert.Contains(t, inv.stdout, component+strings.Repeat(" ", 11-len(component))+name, "the report has a row for %s %s", component, name)
			}
		}
	}
}
