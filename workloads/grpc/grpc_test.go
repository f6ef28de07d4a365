package grpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/interop"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	v1alphapb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// The methods of grpc-go's interop TestService.
const (
	unaryCall     = "grpc.testing.TestService/UnaryCall"
	emptyCall     = "grpc.testing.TestService/EmptyCall"
	streamingCall = "grpc.testing.TestService/StreamingOutputCall"
	unimplemented = "grpc.testing.TestService/UnimplementedCall"
)

// testService implements UnaryCall for real: it waits the set delay,
// answers with the status the request asks for, or with a payload of the
// requested size. It records what it received.
type testService struct {
	testpb.UnimplementedTestServiceServer
	delay atomic.Int64 // nanoseconds
	// compress makes replies gzip-compressed; compressErrs counts the
	// replies it could not compress, as the client did not accept gzip.
	compress     bool
	compressErrs atomic.Int64
	// inFlight counts the UnaryCalls in progress, mostInFlight the most
	// at once.
	inFlight, mostInFlight atomic.Int64

	mu       sync.Mutex
	requests []*testpb.SimpleRequest
	metadata []metadata.MD
}

func (s *testService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for most := s.mostInFlight.Load(); n > most && !s.mostInFlight.CompareAndSwap(most, n); most = s.mostInFlight.Load() {
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if s.compress {
		if err := grpc.SetSendCompressor(ctx, "gzip"); err != nil {
			s.compressErrs.Add(1)
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.metadata = append(s.metadata, md)
	s.mu.Unlock()
	if d := time.Duration(s.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if st := req.GetResponseStatus(); st.GetCode() != 0 {
		return nil, status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}

func (s *testService) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (s *testService) last(t *testing.T) (*testpb.SimpleRequest, metadata.MD) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("the server received no UnaryCall")
	}
	return s.requests[len(s.requests)-1], s.metadata[len(s.metadata)-1]
}

// reflectionMode says which reflection services a test server offers.
type reflectionMode int

const (
	reflectionBoth reflectionMode = iota
	reflectionV1AlphaOnly
	reflectionNone
)

// testServer is a real grpc-go server on loopback with the TestService and
// the health service. accepted counts the connections it accepted.
type testServer struct {
	*grpc.Server
	svc      *testService
	addr     string
	accepted *atomic.Int64
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// startServer serves on addr ("" for a free port) until the test ends.
func startServer(t testing.TB, addr string, mode reflectionMode, opts ...grpc.ServerOption) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	var err error
	for range 50 { // the port of a server just stopped may take a moment to free
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	s := &testServer{Server: grpc.NewServer(opts...), svc: &testService{}, addr: l.Addr().String(), accepted: new(atomic.Int64)}
	l = countingListener{Listener: l, accepted: s.accepted}
	testpb.RegisterTestServiceServer(s, s.svc)
	healthpb.RegisterHealthServer(s, health.NewServer())
	switch mode {
	case reflectionBoth:
		reflection.Register(s)
	case reflectionV1AlphaOnly:
		v1alphapb.RegisterServerReflectionServer(s, reflection.NewServer(reflection.ServerOptions{Services: s}))
	}
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return s
}

// spec is a small workload of the given requests against target; a
// request without a name is named for its place.
func spec(target string, requests ...slo.Request) *workloads.Spec {
	for i := range requests {
		if requests[i].Name == "" {
			requests[i].Name = fmt.Sprintf("r%d", i)
		}
	}
	return testserver.RequestSpec("rpc", target, requests...)
}

func call(name, method, body string) slo.Request {
	return slo.Request{Name: name, Method: method, Body: body}
}

// open opens the driver for s, closed with the test.
func open(t *testing.T, s *workloads.Spec) (*Driver, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, s)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { d.Close() })
	return d.(*Driver), nil
}

// connect opens the driver for s and one Conn, closed with the test.
func connect(t *testing.T, s *workloads.Spec) workloads.Conn {
	t.Helper()
	_, c := testserver.Connect(t, s)
	return c
}

func do(c workloads.Conn, kind int, key string) error {
	return c.Do(context.Background(), &workloads.Op{Kind: kind, Key: []byte(key)})
}

// isStatus reports whether err is the status kind, its detail holding
// detail.
func isStatus(err error, kind, detail string) bool {
	var se *workloads.StatusError
	return errors.As(err, &se) && se.Kind == kind && strings.Contains(se.Detail, detail)
}

// doEchoed makes a call of kind 0, whose request message templates the
// key, for key on c, and requires srv to have got it so.
func doEchoed(t *testing.T, srv *testServer, c workloads.Conn, key string) {
	t.Helper()
	if err := do(c, 0, key); err != nil {
		t.Fatalf("call for %s: %v", key, err)
	}
	if req, _ := srv.svc.last(t); req.GetResponseStatus().GetMessage() != key {
		t.Fatalf("the server got %v, want message %q", req, key)
	}
}

func TestUnaryCallsResolvedThroughReflection(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	c := connect(t, spec("grpc://"+srv.addr,
		slo.Request{Name: "unary", Method: unaryCall,
			Body:    `{"responseSize": 64, "payload": {"body": "aGVsbG8="}, "responseStatus": {"message": "key={{key}}"}}`,
			Headers: map[string]string{"X-Tenant": "blue"}},
		call("empty", emptyCall, ""),
		call("health", "grpc.health.v1.Health/Check", `{"service": ""}`),
	))
	for i := range 3 { // the reused buffer is built again for each key
		key := fmt.Sprintf("tailgate:%d", 7+i*100)
		if err := do(c, 0, key); err != nil {
			t.Fatalf("UnaryCall: %v", err)
		}
		req, md := srv.svc.last(t)
		if got := req.GetResponseStatus().GetMessage(); got != "key="+key {
			t.Errorf("the server got message %q, want %q", got, "key="+key)
		}
		if req.GetResponseSize() != 64 || string(req.GetPayload().GetBody()) != "hello" {
			t.Errorf("the server got %v", req)
		}
		if got := md.Get("x-tenant"); len(got) != 1 || got[0] != "blue" {
			t.Errorf("metadata x-tenant = %q", got)
		}
		if got := md.Get("user-agent"); len(got) != 1 || !strings.HasPrefix(got[0], UserAgent) {
			t.Errorf("user-agent = %q", got)
		}
	}
	for kind, name := range []string{"EmptyCall", "health Check"} {
		if err := do(c, kind+1, "tailgate:1"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestReflectionFallsBackToV1Alpha(t *testing.T) {
	srv := startServer(t, "", reflectionV1AlphaOnly)
	c := connect(t, spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`)))
	if err := do(c, 0, "tailgate:5"); err != nil {
		t.Fatal(err)
	}
	if req, _ := srv.svc.last(t); req.GetResponseStatus().GetMessage() != "tailgate:5" {
		t.Fatalf("the server got %v", req)
	}
}

func TestReflectionCarriesTheFirstRequestsHeaders(t *testing.T) {
	authorized := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer t0ken" {
			return status.Error(codes.Unauthenticated, "no token")
		}
		return nil
	}
	srv := startServer(t, "", reflectionBoth,
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := authorized(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := authorized(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}))
	req := call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`)
	if _, err := open(t, spec("grpc://"+srv.addr, req)); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without the token: got %v, want Unauthenticated", err)
	}
	req.Headers = map[string]string{"Authorization": "Bearer t0ken"}
	c := connect(t, spec("grpc://"+srv.addr, req))
	if err := do(c, 0, "tailgate:1"); err != nil {
		t.Fatal(err)
	}
}

// writeProtoset writes the files and everything they import as a
// FileDescriptorSet, as protoc --include_imports would.
func writeProtoset(t *testing.T, files ...protoreflect.FileDescriptor) string {
	t.Helper()
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, fd := range files {
		add(fd)
	}
	data, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "service.protoset")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAProtosetServesAServerWithoutReflection(t *testing.T) {
	srv := startServer(t, "", reflectionNone)
	s := spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))

	_, err := open(t, s)
	if !errors.Is(err, ErrNoReflection) || !strings.Contains(err.Error(), "protoset") {
		t.Fatalf("without a protoset: got %v, want ErrNoReflection saying to use a protoset", err)
	}

	s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
	c := connect(t, s)
	if err := do(c, 0, "tailgate:9"); err != nil {
		t.Fatal(err)
	}
	if req, _ := srv.svc.last(t); req.GetResponseStatus().GetMessage() != "tailgate:9" {
		t.Fatalf("the server got %v", req)
	}
}

func TestStatusCodesAreStatusErrors(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	c := connect(t, spec("grpc://"+srv.addr,
		call("down", unaryCall, `{"responseStatus": {"code": 14, "message": "draining"}}`),
		call("absent", unaryCall, `{"responseStatus": {"code": 5, "message": "no {{key}}"}}`),
		call("unimplemented", unimplemented, `{}`),
	))
	tests := []struct {
		kind       int
		wantKind   string
		wantDetail string
	}{
		{0, "grpc Unavailable", "draining"},
		{1, "grpc NotFound", "no tailgate:3"},
		{2, "grpc Unimplemented", ""},
	}
	for _, tt := range tests {
		if err := do(c, tt.kind, "tailgate:3"); !isStatus(err, tt.wantKind, tt.wantDetail) {
			t.Errorf("request %d: got %#v, want %s %q", tt.kind, err, tt.wantKind, tt.wantDetail)
		}
	}
}

func TestASlowServerTimesOut(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	s := spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))
	s.Component.Workload.Timeout = 100 * time.Millisecond
	c := connect(t, s)
	srv.svc.delay.Store(int64(2 * time.Second))
	testserver.CheckTimesOut(t, c)
	srv.svc.delay.Store(0)
	for i := range 3 { // the buffer of the timed-out call is not reused
		doEchoed(t, srv, c, fmt.Sprintf("tailgate:%d", 10+i))
	}
}

func TestAServerThatGoesAwayFailsCallsUntilItComesBack(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	c := connect(t, spec("grpc://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`)))
	if err := do(c, 0, "tailgate:1"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for i := range 3 {
		err := do(c, 0, "tailgate:1")
		if kind := workloads.ErrorKind(err); kind != "grpc Unavailable" {
			t.Fatalf("call %d to a stopped server: got %v (kind %q), want grpc Unavailable", i, err, kind)
		}
	}
	back := startServer(t, srv.addr, reflectionNone)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := do(c, 0, "tailgate:2")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server came back but calls still fail: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if req, _ := back.svc.last(t); req.GetResponseStatus().GetMessage() != "tailgate:2" {
		t.Fatalf("the returned server got %v", req)
	}
}

func TestOpenRejectsBadRequests(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	protoset := writeProtoset(t, testpb.File_grpc_testing_test_proto)
	tests := []struct {
		name     string
		request  slo.Request
		protoset string
		want     []string
	}{
		{"an unknown service lists the offered ones",
			call("r", "grpc.testing.Nope/UnaryCall", ""), "",
			[]string{`offers no service "grpc.testing.Nope"`, "grpc.testing.TestService", "grpc.health.v1.Health"}},
		{"an unknown service in a protoset lists its services",
			call("r", "grpc.testing.Nope/UnaryCall", ""), protoset,
			[]string{"protoset", `offers no service "grpc.testing.Nope"`, "grpc.testing.TestService"}},
		{"an unknown method lists the service's methods",
			call("r", "grpc.testing.TestService/Nope", ""), "",
			[]string{`has no method "Nope"`, "EmptyCall", "UnaryCall"}},
		{"several messages for a server-streaming method", slo.Request{Name: "r", Method: streamingCall, Messages: 3}, "", []string{"messages 3", "server-streaming"}},
		{"a method name without a service", call("r", "UnaryCall", ""), "", []string{"full gRPC method name"}},
		{"a body that is not JSON", call("r", unaryCall, `{responseSize: 1}`), "", []string{"not JSON"}},
		{"a body with a key that is not JSON", call("r", unaryCall, `{"responseStatus": {"message": {{key}}}}`), "", []string{"not JSON"}},
		{"a body with an unknown field", call("r", unaryCall, `{"nope": 1}`), "", []string{"does not match message grpc.testing.SimpleRequest", `unknown field "nope"`}},
		{"a key in an unknown field", call("r", unaryCall, `{"nope": "{{key}}"}`), "", []string{"does not match", "nope"}},
		{"a field of the wrong type", call("r", unaryCall, `{"responseSize": "many"}`), "", []string{"does not match", "responseSize"}},
		{"a protoset that does not exist", call("r", unaryCall, ""), filepath.Join(t.TempDir(), "absent.protoset"), []string{"protoset", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("grpc://"+srv.addr, tt.request)
			s.Component.Workload.Protoset = tt.protoset
			_, err := open(t, s)
			if err == nil {
				t.Fatal("Open accepted it")
			}
			for _, want := range append(tt.want, `component "rpc"`) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestAnUnreachableServer(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)) // nothing listens
	s := spec("grpc://"+addr, call("unary", unaryCall, ""))
	t.Run("fails Open when reflection is needed", func(t *testing.T) {
		if _, err := open(t, s); !errors.Is(err, workloads.ErrUnreachable) {
			t.Fatalf("got %v, want ErrUnreachable", err)
		}
	})
	t.Run("fails Connect with a protoset", func(t *testing.T) {
		s.Component.Workload.Protoset = writeProtoset(t, testpb.File_grpc_testing_test_proto)
		d, err := open(t, s)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := d.Connect(ctx); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("got %v, want Unavailable: connection refused", err)
		}
	})
}

func TestGRPCS(t *testing.T) {
	cert := testserver.NewCertificate(t)
	ca := cert.CAFile
	srv := startServer(t, "", reflectionBoth, grpc.Creds(credentials.NewTLS(cert.Server)))
	run := func(t *testing.T, tlsSettings slo.TLS) (workloads.Driver, error) {
		s := spec("grpcs://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))
		s.Component.Workload.TLS = tlsSettings
		return testserver.DoOnce(t, s)
	}
	testserver.CheckTLSSettings(t, ca, "tailgate.test", run)
	t.Run("a server the system roots do not trust is unreachable", func(t *testing.T) {
		if _, err := run(t, slo.TLS{}); !errors.Is(err, workloads.ErrUnreachable) {
			t.Fatalf("got %v, want an unreachable target", err)
		}
	})
}

func TestOpenRejectsTargetsItCannotUse(t *testing.T) {
	tests := []struct{ target, want string }{
		{"grpc://user:pw@127.0.0.1:1", "no user or password"},
		{"grpc://127.0.0.1:1/svc", "no path"},
	}
	for _, tt := range tests {
		_, err := open(t, spec(tt.target, call("r", unaryCall, "")))
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: got %v, want %q without the password", tt.target, err, tt.want)
		}
	}
}

func TestRunReportsEveryRequest(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	s := spec("grpc://"+srv.addr,
		slo.Request{Name: "unary", Method: unaryCall, Body: `{"responseSize": 32, "responseStatus": {"message": "{{key}}"}}`, Weight: 3},
		slo.Request{Name: "empty", Method: emptyCall, Weight: 1})
	testserver.MeasureEveryOperation(t, s)
}

// benchServerEnv makes the test binary a gRPC server for benchmarks, so
// their allocation and CPU figures are the client's alone.
const benchServerEnv = "TAILGATE_GRPC_BENCH_SERVER"

func TestMain(m *testing.M) { testserver.BenchmarkMain(m, benchServerEnv, serveForBenchmark) }

// serveForBenchmark serves the interop TestService, health and reflection.
func serveForBenchmark(l net.Listener) (stop func()) {
	s := grpc.NewServer()
	testpb.RegisterTestServiceServer(s, benchService{TestServiceServer: interop.NewTestServer(), unary: &testService{}})
	healthpb.RegisterHealthServer(s, health.NewServer())
	reflection.Register(s)
	go s.Serve(l)
	return s.Stop
}

// benchService is the interop TestService, for its streaming methods, with
// the unary calls of testService.
type benchService struct {
	testpb.TestServiceServer
	unary *testService
}

func (s benchService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return s.unary.UnaryCall(ctx, req)
}

func (s benchService) EmptyCall(ctx context.Context, e *testpb.Empty) (*testpb.Empty, error) {
	return s.unary.EmptyCall(ctx, e)
}

func BenchmarkDo(b *testing.B) {
	addr := testserver.BenchServer(b, benchServerEnv)
	payload := `"payload": {"body": "` + strings.Repeat("QUJD", 50) + `"}`
	s := spec("grpc://"+addr,
		call("empty", emptyCall, ""),
		call("static", unaryCall, `{"responseSize": 16, `+payload+`}`),
		call("template", unaryCall, `{"responseSize": 16, "responseStatus": {"message": "{{key}}"}, `+payload+`}`),
		call("json", unaryCall, `{"responseSize": 16, "responseStatus": {"message": "{{key}}"}, `+payload+`}`),
	)
	s.Component.Workload.Timeout = 10 * time.Second
	dr, c := testserver.Connect(b, s)
	d := dr.(*Driver)
	if d.requests[2].body.tmpl == nil {
		b.Fatal("the template body did not compile to a template")
	}
	d.requests[3].body.tmpl = nil // measure the JSON way it replaces (read at each call)
	testserver.BenchmarkOperations(b, c, s, "")
}
