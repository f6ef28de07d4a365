package grpc

import (
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/keepalive"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/h2"
)

// runWithoutErrors runs s and fails t unless every operation succeeded
// (warmup included) and about rate × duration of them were measured.
func runWithoutErrors(t *testing.T, s *workloads.Spec) {
	t.Helper()
	comp := testserver.Run(t, s)
	var total int64
	for _, name := range s.Operations() {
		o := comp.Operation(name)
		total += o.Count + o.Errors
		if o.Errors != 0 {
			t.Errorf("%s: %d ok, %d errors %v; first of each kind: %v", name, o.Count, o.Errors, o.ErrorKinds, comp.FirstErrors)
		}
	}
	if comp.WarmupErrors != 0 {
		t.Errorf("%d errors in the warmup; first of each kind: %v", comp.WarmupErrors, comp.FirstErrors)
	}
	want := s.Component.Workload.Rate * s.Duration.Seconds()
	if float64(total) < 0.75*want || float64(total) > 1.25*want+1 {
		t.Errorf("measured %d operations, want about %.0f", total, want)
	}
}

// idleSpec is a plan of UnaryCalls against target at rate, on conns
// connections, for d.
func idleSpec(target string, rate float64, conns int, d time.Duration) *workloads.Spec {
	s := spec(target, slo.Request{Name: "unary", Method: unaryCall, Body: `{"responseStatus": {"message": "{{key}}"}}`})
	s.Component.Workload.Rate = rate
	s.Component.Workload.Connections = conns
	s.Duration = d
	return s
}

// endingCase is a grpc-go server that ends, drains or pings a connection
// between calls, and a load against it. connections bounds the
// connections the server accepted during the run: a minimum says the
// server ended connections (the event under test happened), a maximum of
// one says it never had to.
type endingCase struct {
	name               string
	server             grpc.ServerOption
	tls                bool
	rate               float64
	conns              int
	duration           time.Duration
	minConns, maxConns int64
}

var (
	retireAt1s    = grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: time.Second, MaxConnectionAgeGrace: 500 * time.Millisecond})
	retireAt2s    = grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 2 * time.Second, MaxConnectionAgeGrace: time.Second})
	retireAt300ms = grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 300 * time.Millisecond, MaxConnectionAgeGrace: 200 * time.Millisecond})
	// The server pings after 1 s without a frame (1 s is the least grpc-go
	// allows) and closes the connection if the PING is not answered within
	// 500 ms.
	pingAfter1s = grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Second, Timeout: 500 * time.Millisecond})
)

// runEndingCase runs tt's load against a server of its own (with cert's
// key when tt is over TLS) and fails t unless every call succeeded and the
// server accepted as many connections as tt allows.
func runEndingCase(t *testing.T, cert *testserver.Certificate, tt endingCase) {
	t.Helper()
	opts, scheme := []grpc.ServerOption{tt.server}, "grpc://"
	if tt.tls {
		opts, scheme = append(opts, grpc.Creds(credentials.NewTLS(cert.Server))), "grpcs://"
	}
	srv := startServer(t, "", reflectionBoth, opts...)
	s := idleSpec(scheme+srv.addr, tt.rate, tt.conns, tt.duration)
	if tt.tls {
		s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
	}
	// A protoset, so that the only connections are the run's.
	s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
	runWithoutErrors(t, s)
	t.Logf("the server accepted %d connections", srv.accepted.Load())
	if got := srv.accepted.Load(); got < tt.minConns || got > tt.maxConns {
		t.Errorf("the server accepted %d connections during the run, want %d to %d", got, tt.minConns, tt.maxConns)
	}
}

// TestServersThatEndIdleConnectionsCostNoErrors runs the setups where a
// grpc-go server ends, drains or pings a connection between calls, at a
// rate that leaves the connection idle between calls: none may cost a
// call. The cases wait, idle, most of the time, so they run at once;
// TestServersThatEndConnectionsUnderLoadCostNoErrors is the same under
// load.
func TestServersThatEndIdleConnectionsCostNoErrors(t *testing.T) {
	t.Parallel()
	cert := testserver.NewCertificate(t)
	for _, tt := range []endingCase{
		// Connections live 1 s (±10%): calls every second meet GOAWAY
		// between them and, as often, right after one was sent. Calls at
		// 0, 1, 2 and 3 s usually see three connections retired; on a
		// loaded runner the jitter and a late first call can leave one,
		// which still proves the server retired a connection the run went
		// on past.
		{"a maximum connection age of 1s (grace 500ms), a call every second", retireAt1s, false, 1, 1, 4 * time.Second, 2, 5},
		// The same a dozen times over: connections live 300 ms, calls
		// come every 200 ms, after the connection was watched.
		{"a maximum connection age of 300ms (grace 200ms), a call every 200ms", retireAt300ms, false, 5, 1, 3 * time.Second, 6, 16},
		// Answered, the one connection serves the whole run, a PING or
		// two in each pause.
		{"keepalive pings after 1s (timeout 500ms), a call every 2s", pingAfter1s, false, 0.5, 1, 6 * time.Second, 1, 1},
		{"keepalive pings after 1s (timeout 500ms) over TLS, a call every 2s", pingAfter1s, true, 0.5, 1, 6 * time.Second, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runEndingCase(t, cert, tt)
		})
	}
}

// TestServersThatEndConnectionsUnderLoadCostNoErrors is
// TestServersThatEndIdleConnectionsCostNoErrors at 1000 calls a second: a
// connection the server retires by age under load must not cost a call,
// and one it would ping after a second without a frame never idles that
// long. A busy core can stall a connection that long, so these run one at
// a time, with the cores to themselves.
func TestServersThatEndConnectionsUnderLoadCostNoErrors(t *testing.T) {
	for _, tt := range []endingCase{
		{"a maximum connection age of 2s (grace 1s), 1000 calls a second", retireAt2s, false, 1000, 1, 3 * time.Second, 2, 3},
		{"keepalive pings after 1s (timeout 500ms), 1000 calls a second", pingAfter1s, false, 1000, 1, 3 * time.Second, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			runEndingCase(t, nil, tt)
		})
	}
}

// peerSpec is a plan of UnaryCalls against an h2Peer, its messages typed
// by a protoset.
func peerSpec(t *testing.T, p *h2Peer) *workloads.Spec {
	s := idleSpec("grpc://"+p.addr, 10, 1, time.Second)
	s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
	return s
}

func TestCallsTheServerProvablyDidNotProcessGoOnceMoreOnAFreshConnection(t *testing.T) {
	tests := []struct {
		name   string
		answer func(pc *peerConn, stream uint32, nth int)
		// Each call's error kind ("" for none), then the connections the
		// peer accepted and the calls it answered, Connect's included.
		want     []string
		conns    int64
		answered int64
	}{
		{"a stream above GOAWAY's last-stream-id", func(pc *peerConn, stream uint32, nth int) {
			if nth == 1 {
				pc.ok(stream, false)
			} else {
				pc.goAway(stream - 2)
			}
		}, []string{"", "", ""}, 4, 4},
		{"a stream the server refused (REFUSED_STREAM)", func(pc *peerConn, stream uint32, nth int) {
			if nth == 1 {
				pc.ok(stream, false)
			} else {
				pc.refuse(stream)
			}
		}, []string{"", "", ""}, 4, 4},
		{"only once: a retry that is not processed either is an error", func(pc *peerConn, stream uint32, nth int) {
			if pc.id == 1 && nth == 1 {
				pc.ok(stream, false)
			} else {
				pc.goAway(stream - 1)
			}
		}, []string{"grpc Unavailable"}, 2, 1},
		{"not a call lost after it was written: a close", func(pc *peerConn, stream uint32, nth int) {
			if nth == 1 {
				pc.ok(stream, false)
			} else {
				pc.nc.Close()
			}
		}, []string{"grpc Unavailable"}, 1, 1},
		{"not a call lost after it was written: a reset", func(pc *peerConn, stream uint32, nth int) {
			if nth == 1 {
				pc.ok(stream, false)
			} else {
				pc.reset()
			}
		}, []string{"grpc Unavailable"}, 1, 1},
		{"not a call a GOAWAY covers, then a close", func(pc *peerConn, stream uint32, nth int) {
			if nth == 1 {
				pc.ok(stream, false)
			} else {
				pc.goAway(stream)
				pc.nc.Close()
			}
		}, []string{"grpc Unavailable"}, 1, 1},
		{"no retry needed: a GOAWAY during Connect's call retires its connection before the first call", func(pc *peerConn, stream uint32, nth int) {
			if pc.id == 1 {
				pc.goAway(stream)
			}
			pc.ok(stream, false)
		}, []string{"", ""}, 2, 3},
	}
	for _, tt := range tests {
		// The same rules hold for a stream of a shared connection.
		for _, streams := range []bool{false, true} {
			name := tt.name
			if streams {
				name = "on a stream: " + name
			}
			t.Run(name, func(t *testing.T) {
				p := startH2Peer(t, tt.answer)
				var c workloads.Conn
				if streams {
					c = connectStreams(t, peerSpec(t, p), 1)[0]
				} else {
					c = connect(t, peerSpec(t, p))
				}
				for i, want := range tt.want {
					err := do(c, 0, "tailgate:1")
					if got := kindOf(err); got != want {
						t.Errorf("call %d: %v (kind %q), want kind %q", i, err, got, want)
					}
				}
				if got := p.conns.Load(); got != tt.conns {
					t.Errorf("the server accepted %d connections, want %d", got, tt.conns)
				}
				if got := p.answered.Load(); got != tt.answered {
					t.Errorf("the server answered %d calls, want %d", got, tt.answered)
				}
			})
		}
	}
}

// kindOf is the kind an error is counted as, "" for none.
func kindOf(err error) string {
	if err == nil {
		return ""
	}
	return workloads.ErrorKind(err)
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2s for %s", what)
		}
	}
}

func TestAnIdleConnectionIsWatched(t *testing.T) {
	later := func(f func()) { time.AfterFunc(2*h2.IdleAfter, f) }
	tests := []struct {
		name   string
		answer func(pc *peerConn, stream uint32, nth int)
		// idle waits until what the server did while the client idled
		// shows; conns is what the peer accepted by the end.
		idle  func(p *h2Peer, h *h2.Conn) bool
		conns int64
	}{
		{"a PING is answered at once", func(pc *peerConn, stream uint32, nth int) {
			pc.ok(stream, false)
			later(pc.ping)
		}, func(p *h2Peer, _ *h2.Conn) bool { return p.pingAcks.Load() == 1 }, 1},
		{"a close: the next call goes out on a fresh connection", func(pc *peerConn, stream uint32, nth int) {
			pc.ok(stream, false)
			later(func() { pc.nc.Close() })
		}, func(_ *h2Peer, h *h2.Conn) bool { return h.Dead() != nil }, 2},
		{"a GOAWAY: the client closes the connection, the next call dials another", func(pc *peerConn, stream uint32, nth int) {
			pc.ok(stream, false)
			later(func() { pc.goAway(stream) })
		}, func(p *h2Peer, _ *h2.Conn) bool { return p.ended.Load() == 1 }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startH2Peer(t, tt.answer)
			c := connect(t, peerSpec(t, p))
			h := c.(*conn).H
			waitFor(t, "the client to notice", func() bool { return tt.idle(p, h) })
			if err := do(c, 0, "tailgate:1"); err != nil {
				t.Fatalf("the call after the pause: %v", err)
			}
			if got := p.conns.Load(); got != tt.conns {
				t.Errorf("the server accepted %d connections, want %d", got, tt.conns)
			}
		})
	}
}

func TestAPingReadDuringACallIsAnsweredWhenTheConnectionIdles(t *testing.T) {
	p := startH2Peer(t, func(pc *peerConn, stream uint32, nth int) { pc.ok(stream, true) })
	c := connect(t, peerSpec(t, p))
	for i := range 3 { // back to back: the acknowledgements wait for the next call
		if err := do(c, 0, "tailgate:1"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	waitFor(t, "four PING acknowledgements", func() bool { return p.pingAcks.Load() == 4 })
}

// TestAProxyThatEndsIdleConnectionsCostsNoErrors puts nginx in front of a
// grpc-go server, ending client connections idle for a second with GOAWAY
// and a close: at 20 calls a second over 32 connections, each connection
// idles 1.6 s between calls, and every call after the first on one meets
// a connection nginx ended.
func TestAProxyThatEndsIdleConnectionsCostsNoErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "", reflectionBoth)
	proxy := testserver.Nginx(t, `server {
	listen `+testserver.Listen+` http2;
	keepalive_timeout 1s;
	location / { grpc_pass grpc://`+srv.addr+`; }
}`)
	for _, tt := range []struct {
		name string
		rate float64
	}{
		{"20 calls a second", 20},
		{"1000 calls a second", 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := idleSpec("grpc://"+proxy.Addr, tt.rate, 32, 3*time.Second)
			s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
			runWithoutErrors(t, s)
		})
	}
}
