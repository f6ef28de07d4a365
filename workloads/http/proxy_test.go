package http_test

import (
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// post is a request with a body, which is not safe to repeat: only a
// connection known closed before it was written may carry it again.
var post = slo.Request{Name: "write", Method: "POST", Path: "/items/{{key}}", Body: `{"id":"{{key}}","n":1}`,
	Headers: map[string]string{"Content-Type": "application/json"}}

// nginxIdle1s answers every request and closes a keep-alive connection
// idle for a second, as many deployments do; it ends a connection after
// 100 requests with "Connection: close".
const nginxIdle1s = `keepalive_timeout 1s; keepalive_requests 100;
location / { return 200 "ok\n"; }`

// shape sets a spec's rate, connections and duration.
func shape(s *workloads.Spec, rate float64, connections int, duration time.Duration) *workloads.Spec {
	s.Component.Workload.Rate = rate
	s.Component.Workload.Connections = connections
	s.Duration = duration
	return s
}

// loadCase is one run of a table of runs against servers that end
// connections.
type loadCase struct {
	name string
	spec *workloads.Spec
	// idle runs send little and mostly wait: they run side by side, after
	// the others.
	idle bool
}

// measureEach runs each case and fails it unless every operation was
// measured without an error (see testserver.MeasureEveryOperation): the
// run goes on past any number of errors, to count every one.
func measureEach(t *testing.T, tests []loadCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.idle {
				t.Parallel()
			}
			tt.spec.Component.Workload.MaxErrorRate = 1
			testserver.MeasureEveryOperation(t, tt.spec)
		})
	}
}

// Servers and proxies close a keep-alive connection that sat idle past
// their timeout; the plan's requests, POST included, then go out on a new
// connection and none fails. Under load, connections end after nginx's
// keepalive_requests with "Connection: close" instead.
func TestConnectionsTheServerClosedWhileIdleCostNoErrors(t *testing.T) {
	t.Parallel()
	nginx := testserver.NginxServer(t, nginxIdle1s)
	haproxy := testserver.HAProxy(t, `
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
	timeout http-keep-alive 1s
frontend web
	bind `+testserver.Listen+`
	default_backend nginx
backend nginx
	server n1 `+nginx.Addr)
	measureEach(t, []loadCase{
		// At 20/s over 32 connections each waits about 1.6 s between requests.
		{"nginx keepalive_timeout 1s, 20/s over 32 connections", shape(spec("http://"+nginx.Addr, post), 20, 32, 3*time.Second), true},
		// Requests at 0 s and 2 s: the second finds the connection closed.
		{"haproxy timeout http-keep-alive 1s, 0.5/s on 1 connection", shape(spec("http://"+haproxy.Addr, post), 0.5, 1, 4*time.Second), true},
		{"nginx under load", shape(spec("http://"+nginx.Addr, post), 1000, 8, 2*time.Second), false},
		{"haproxy under load", shape(spec("http://"+haproxy.Addr, post), 1000, 8, 2*time.Second), false},
	})
}
