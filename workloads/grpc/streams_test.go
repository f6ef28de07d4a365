package grpc

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/keepalive"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// connectStreams opens the driver for s and n streams of one connection,
// closed with the test.
func connectStreams(t *testing.T, s *workloads.Spec, n int) []workloads.Conn {
	t.Helper()
	d, err := open(t, s)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conns, err := d.ConnectStreams(ctx, n)
	if err != nil {
		t.Fatalf("ConnectStreams: %v", err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// Thirty-two calls at once on one connection to a server that allows
// eight streams: eight are served at a time, the others wait for a stream
// (and say when they went out), and none fails.
func TestStreamsBeyondTheServersLimitWait(t *testing.T) {
	srv := startServer(t, "", reflectionBoth, grpc.MaxConcurrentStreams(8))
	s := spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseSize": 8, "responseStatus": {"message": "{{key}}"}}`))
	conns := connectStreams(t, s, 32)
	before := srv.accepted.Load()
	srv.svc.delay.Store(int64(50 * time.Millisecond))
	srv.svc.mostInFlight.Store(0)
	ops := make([]workloads.Op, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops[i] = workloads.Op{Key: []byte("tailgate:1")}
			errs[i] = c.Do(context.Background(), &ops[i])
		}()
	}
	wg.Wait()
	held := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
		if !ops[i].Sent.IsZero() {
			held++
		}
	}
	if most := srv.svc.mostInFlight.Load(); most != 8 {
		t.Errorf("the server served %d calls at once, want its limit, 8", most)
	}
	if held < 32-8 {
		t.Errorf("%d calls said they were held back for a stream, want at least 24", held)
	}
	if n := srv.accepted.Load() - before; n != 0 {
		t.Errorf("%d more connections were opened; the streams share one", n)
	}
}

// The setup through the engine: streams: 32 on one connection to
// a server that allows 8, at a rate that needs more than 8 at times: no
// errors, some calls late for the wait, one connection.
func TestARunWithStreamsAboveTheServersLimit(t *testing.T) {
	srv := startServer(t, "", reflectionBoth, grpc.MaxConcurrentStreams(8))
	srv.svc.delay.Store(int64(10 * time.Millisecond))
	s := spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseSize": 8, "responseStatus": {"message": "{{key}}"}}`))
	s.Component.Workload.Rate, s.Component.Workload.Arrival = 500, slo.ArrivalPoisson
	s.Component.Workload.Connections, s.Component.Workload.Streams = 1, 32
	s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
	comp := testserver.MeasureEveryOperation(t, s)
	all := comp.Operation("all")
	if all.Late == 0 {
		t.Errorf("no call was late: the server's limit made none wait (at most %d in flight)", srv.svc.mostInFlight.Load())
	}
	if most := srv.svc.mostInFlight.Load(); most != 8 {
		t.Errorf("at most %d calls at once on the server, want its limit, 8", most)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1 for the run's 32 streams", n)
	}
	t.Logf("%d calls, %d late, p99 %s", all.Count, all.Late, time.Duration(all.LatencyNS.P99))
}

// A call that times out on a shared connection gives its stream up and
// leaves the connection to the others: the calls after it succeed on it.
func TestAStreamThatTimesOutLeavesTheConnection(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	s := spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))
	s.Component.Workload.Timeout = 100 * time.Millisecond
	conns := connectStreams(t, s, 2)
	before := srv.accepted.Load()
	srv.svc.delay.Store(int64(2 * time.Second))
	testserver.CheckTimesOut(t, conns[0])
	srv.svc.delay.Store(0)
	waitFor(t, "the server to see the stream reset", func() bool { return srv.svc.inFlight.Load() == 0 })
	for i := range 3 {
		for _, c := range conns {
			doEchoed(t, srv, c, "tailgate:"+string(rune('a'+i)))
		}
	}
	if n := srv.accepted.Load() - before; n != 0 {
		t.Errorf("%d connections opened after the timeout; the connection was kept", n)
	}
}

// A Conn closed while its call waits for the server ends that call at
// once; the other streams of the connection go on.
func TestClosingAStreamEndsItsCallOnly(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	s := spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))
	s.Component.Workload.Timeout = 5 * time.Second
	conns := connectStreams(t, s, 2)
	srv.svc.delay.Store(int64(time.Second))
	ended := make(chan error, 1)
	go func() { ended <- do(conns[0], 0, "tailgate:1") }()
	waitFor(t, "the call to reach the server", func() bool { return srv.svc.inFlight.Load() == 1 })
	began := time.Now()
	conns[0].Close()
	if err := <-ended; err == nil {
		t.Fatal("the call on the closed Conn succeeded")
	}
	if took := time.Since(began); took > 500*time.Millisecond {
		t.Errorf("Close took %s to end the call", took)
	}
	srv.svc.delay.Store(0)
	if err := do(conns[1], 0, "tailgate:2"); err != nil {
		t.Fatalf("the other stream: %v", err)
	}
}

// Servers that end connections mid-run (a maximum connection age: GOAWAY,
// then a close after the grace) or ping them cost a run on streams no
// call: the calls above the GOAWAY go out again on a fresh connection, the
// others finish on the old one.
func TestServersThatEndStreamedConnectionsCostNoErrors(t *testing.T) {
	t.Parallel()
	maxAge := grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: time.Second, MaxConnectionAgeGrace: 500 * time.Millisecond})
	shortAge := grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 300 * time.Millisecond, MaxConnectionAgeGrace: 200 * time.Millisecond})
	pings := grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Second, Timeout: 500 * time.Millisecond})
	tests := []struct {
		name               string
		server             grpc.ServerOption
		rate               float64
		duration           time.Duration
		minConns, maxConns int64
	}{
		{"a maximum connection age of 1s (grace 500ms), 1000 calls a second on 8 streams", maxAge, 1000, 3 * time.Second, 2, 5},
		{"a maximum connection age of 300ms (grace 200ms), a call every 200ms on 8 streams", shortAge, 5, 3 * time.Second, 4, 16},
		{"keepalive pings after 1s (timeout 500ms), a call every 2s on 8 streams", pings, 0.5, 4 * time.Second, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, "", reflectionBoth, tt.server)
			s := idleSpec("grpc://"+srv.addr, tt.rate, 1, tt.duration)
			s.Component.Workload.Streams = 8
			s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
			runWithoutErrors(t, s)
			t.Logf("the server accepted %d connections", srv.accepted.Load())
			if got := srv.accepted.Load(); got < tt.minConns || got > tt.maxConns {
				t.Errorf("the server accepted %d connections during the run, want %d to %d", got, tt.minConns, tt.maxConns)
			}
		})
	}
}
