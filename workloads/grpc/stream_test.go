package grpc

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/interop"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// The streaming methods of grpc-go's interop TestService.
const (
	outputCall     = "grpc.testing.TestService/StreamingOutputCall"
	inputCall      = "grpc.testing.TestService/StreamingInputCall"
	fullDuplexCall = "grpc.testing.TestService/FullDuplexCall"
)

// Headers a test request sends to make the interop server's streams
// misbehave (see streamRecorder): after "x-stream-after" response messages,
// "x-stream-then: abort" ends the stream with status ABORTED and
// "x-stream-then: hang" sends nothing more until the client gives up.
const (
	afterHeader = "x-stream-after"
	thenHeader  = "x-stream-then"
)

// streamRecorder watches the streams of the interop TestService: every call's
// request messages and response messages, by method. It also makes a
// stream misbehave when its headers ask (afterHeader, thenHeader).
type streamRecorder struct {
	mu    sync.Mutex
	calls map[string][]recordedCall
}

// recordedCall is what one call carried, in order.
type recordedCall struct {
	requests, responses []proto.Message
}

func (r *streamRecorder) intercept(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ws := &watchedStream{ServerStream: ss, after: -1}
	if md, ok := metadata.FromIncomingContext(ss.Context()); ok {
		if v := md.Get(afterHeader); len(v) == 1 {
			ws.after, _ = strconv.Atoi(v[0])
		}
		if v := md.Get(thenHeader); len(v) == 1 {
			ws.then = v[0]
		}
	}
	err := handler(srv, ws)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string][]recordedCall{}
	}
	r.calls[info.FullMethod] = append(r.calls[info.FullMethod], ws.call)
	return err
}

// of returns the calls of method recorded so far.
func (r *streamRecorder) of(method string) []recordedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedCall(nil), r.calls["/"+method]...)
}

// watchedStream records a stream's messages and misbehaves on request.
type watchedStream struct {
	grpc.ServerStream
	call  recordedCall
	after int
	then  string
}

func (s *watchedStream) SendMsg(m any) error {
	if s.after >= 0 && len(s.call.responses) >= s.after {
		switch s.then {
		case "abort":
			return status.Error(codes.Aborted, "the stream was aborted mid-way")
		case "hang":
			<-s.Context().Done()
			return s.Context().Err()
		}
	}
	s.call.responses = append(s.call.responses, proto.Clone(m.(proto.Message)))
	return s.ServerStream.SendMsg(m)
}

func (s *watchedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.call.requests = append(s.call.requests, proto.Clone(m.(proto.Message)))
	}
	return err
}

// startInteropServer serves grpc-go's interop TestService (with health and
// reflection) on a free loopback port until the test ends.
func startInteropServer(t *testing.T) (addr string, rec *streamRecorder) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec = &streamRecorder{}
	s := grpc.NewServer(grpc.StreamInterceptor(rec.intercept))
	testpb.RegisterTestServiceServer(s, interop.NewTestServer())
	healthpb.RegisterHealthServer(s, health.NewServer())
	reflection.Register(s)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return l.Addr().String(), rec
}

// The three kinds of streaming method of the interop TestService, each
// loaded for a second: every call succeeds, the server got what the plan
// says, and the result holds both latencies and the messages.
func TestStreamingMethodsOfTheInteropTestService(t *testing.T) {
	// One call at a time on a connection, and four calls sharing one (the
	// Mux): per-call stream state lives with each stream either way.
	for _, streams := range []int{1, 4} {
		t.Run(fmt.Sprintf("streams: %d", streams), func(t *testing.T) {
			streamingMethodsOfTheInteropTestService(t, streams)
		})
	}
}

func streamingMethodsOfTheInteropTestService(t *testing.T, streams int) {
	addr, rec := startInteropServer(t)
	s := spec("grpc://"+addr,
		// Three responses of 100, 200 and 300 bytes, the last two 2 ms
		// apart: the first message comes well before the end.
		slo.Request{Name: "output", Method: outputCall,
			Body: `{"responseParameters": [{"size": 100}, {"size": 200, "intervalUs": 2000}, {"size": 300, "intervalUs": 2000}]}`},
		// Four messages of 6 bytes each: the server answers with 24.
		slo.Request{Name: "input", Method: inputCall, Messages: 4, Body: `{"payload": {"body": "dGFpbGdh"}}`},
		// Three messages, each with the operation's key, each answered
		// with two responses.
		slo.Request{Name: "duplex", Method: fullDuplexCall, Messages: 3,
			Body: `{"responseParameters": [{"size": 10}, {"size": 20}], "responseStatus": {"code": 0, "message": "{{key}}"}}`},
	)
	s.Component.Workload.Rate = 150
	s.Component.Workload.Streams = streams
	comp := testserver.Run(t, s)
	for _, tt := range []struct {
		name              string
		messagesPerCall   int64
		firstBeforeTheEnd bool
	}{
		{"output", 3, true},
		{"input", 1, false},
		{"duplex", 6, false},
	} {
		op := comp.Operation(tt.name)
		if op.Count == 0 || op.Errors != 0 {
			t.Fatalf("%s: %d measured, %d errors %v; first errors: %v", tt.name, op.Count, op.Errors, op.ErrorKinds, comp.FirstErrors)
		}
		if op.Messages != tt.messagesPerCall*op.Count {
			t.Errorf("%s: %d messages in %d calls, want %d a call", tt.name, op.Messages, op.Count, tt.messagesPerCall)
		}
		if op.FirstMessageNS == nil {
			t.Fatalf("%s: no first-message latencies", tt.name)
		}
		first, err := op.FirstMessages()
		if err != nil || first.TotalCount() != op.Count {
			t.Errorf("%s: first-message histogram of %d samples (%v), want one a call (%d)", tt.name, first.TotalCount(), err, op.Count)
		}
		if op.FirstMessageNS.Max > op.LatencyNS.Max || op.FirstMessageNS.P50 > op.LatencyNS.P50 {
			t.Errorf("%s: first message p50 %d ns, max %d ns, later than the end's %d, %d", tt.name,
				op.FirstMessageNS.P50, op.FirstMessageNS.Max, op.LatencyNS.P50, op.LatencyNS.Max)
		}
		if tt.firstBeforeTheEnd && op.FirstMessageNS.P50 >= op.LatencyNS.P50 {
			t.Errorf("%s: first message p50 %d ns is not before the end's, %d ns", tt.name, op.FirstMessageNS.P50, op.LatencyNS.P50)
		}
	}
	all := comp.Operation(slo.AllOperations)
	if want := comp.Operation("output").Messages + comp.Operation("input").Messages + comp.Operation("duplex").Messages; all.Messages != want || all.FirstMessageNS == nil {
		t.Errorf("all: %d messages, first message %v; want %d and latencies", all.Messages, all.FirstMessageNS, want)
	}

	// What the server saw, call by call.
	for _, c := range rec.of(outputCall) {
		var sizes []int
		for _, m := range c.responses {
			sizes = append(sizes, len(m.(*testpb.StreamingOutputCallResponse).GetPayload().GetBody()))
		}
		if len(c.requests) != 1 || len(sizes) != 3 || sizes[0] != 100 || sizes[1] != 200 || sizes[2] != 300 {
			t.Fatalf("StreamingOutputCall: %d requests, responses of %v bytes; want 1, [100 200 300]", len(c.requests), sizes)
		}
	}
	for _, c := range rec.of(inputCall) {
		if len(c.requests) != 4 || len(c.responses) != 1 || c.responses[0].(*testpb.StreamingInputCallResponse).GetAggregatedPayloadSize() != 24 {
			t.Fatalf("StreamingInputCall: %d requests, responses %v; want 4, one of 24 bytes", len(c.requests), c.responses)
		}
	}
	duplex := rec.of(fullDuplexCall)
	if len(duplex) == 0 {
		t.Fatal("the server saw no FullDuplexCall")
	}
	for _, c := range duplex {
		if len(c.requests) != 3 || len(c.responses) != 6 {
			t.Fatalf("FullDuplexCall: %d requests, %d responses; want 3, 6", len(c.requests), len(c.responses))
		}
		key := c.requests[0].(*testpb.StreamingOutputCallRequest).GetResponseStatus().GetMessage()
		if !strings.HasPrefix(key, "tailgate:") {
			t.Fatalf("FullDuplexCall: the request's key is %q", key)
		}
		for _, m := range c.requests {
			if got := m.(*testpb.StreamingOutputCallRequest).GetResponseStatus().GetMessage(); got != key {
				t.Fatalf("FullDuplexCall: one call's messages carry keys %q and %q; want the operation's in each", key, got)
			}
		}
	}
}

// A call that sends its messages built per operation, and a compressed one,
// frame every message whole: the server reads each.
func TestEveryMessageOfAClientStreamIsWhole(t *testing.T) {
	addr, rec := startInteropServer(t)
	for _, tt := range []struct {
		name, body, compression string
	}{
		{"a static body", `{"payload": {"body": "dGFpbGdh"}}`, ""},
		{"a static body compressed", `{"payload": {"body": "dGFpbGdh"}}`, encodingGzip},
		{"a body with the key", `{"responseParameters": [{"size": 1}], "responseStatus": {"message": "{{key}}"}}`, ""},
		{"a body with the key compressed", `{"responseParameters": [{"size": 1}], "responseStatus": {"message": "{{key}}"}}`, encodingGzip},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := inputCall
			if strings.Contains(tt.body, "{{key}}") {
				method = fullDuplexCall
			}
			before := len(rec.of(method))
			s := spec("grpc://"+addr, slo.Request{Name: "r", Method: method, Messages: 5, Body: tt.body})
			s.Component.Workload.Compression = tt.compression
			c := connect(t, s)
			for i := range 3 {
				op := &workloads.Op{Key: []byte("tailgate:" + strconv.Itoa(i))}
				if err := c.Do(context.Background(), op); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if op.Messages == 0 || op.FirstMessageLead < 0 {
					t.Errorf("call %d: %d messages, first %v before the end", i, op.Messages, op.FirstMessageLead)
				}
			}
			calls := rec.of(method)[before:]
			if len(calls) != 3 {
				t.Fatalf("the server saw %d calls, want 3", len(calls))
			}
			for i, c := range calls {
				if len(c.requests) != 5 {
					t.Errorf("call %d: the server read %d messages, want 5", i, len(c.requests))
				}
				if method == fullDuplexCall {
					want := "tailgate:" + strconv.Itoa(i)
					for _, m := range c.requests {
						if got := m.(*testpb.StreamingOutputCallRequest).GetResponseStatus().GetMessage(); got != want {
							t.Errorf("call %d: a message carries key %q, want %q", i, got, want)
						}
					}
				}
			}
		})
	}
}

// A stream the server aborts after some messages is an error, never a
// fast latency; a server stream that never ends times out as an error.
func TestStreamsThatDoNotEndWellAreErrors(t *testing.T) {
	addr, _ := startInteropServer(t)
	body := `{"responseParameters": [{"size": 10}, {"size": 10}, {"size": 10}, {"size": 10}]}`
	for _, tt := range []struct {
		name, then string
		wantKind   string
	}{
		{"aborted after two messages", "abort", "grpc Aborted"},
		{"silent after two messages", "hang", workloads.KindTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := slo.Request{Name: "output", Method: outputCall, Body: body,
				Headers: map[string]string{afterHeader: "2", thenHeader: tt.then}}
			s := spec("grpc://"+addr, r)
			s.Component.Workload.Timeout = 200 * time.Millisecond
			c := connect(t, s)
			op := &workloads.Op{Key: []byte("tailgate:1")}
			err := c.Do(context.Background(), op)
			if err == nil || workloads.ErrorKind(err) != tt.wantKind {
				t.Fatalf("got %v (kind %q), want an error of kind %q", err, workloads.ErrorKind(err), tt.wantKind)
			}
			if op.Messages != 0 || op.FirstMessageLead != 0 {
				t.Errorf("a failed call answered %d messages, the first %v before the end", op.Messages, op.FirstMessageLead)
			}
			// The connection goes on: a call that ends well succeeds.
			good := spec("grpc://"+addr, slo.Request{Name: "output", Method: outputCall, Body: body})
			if err := connect(t, good).Do(context.Background(), op); err != nil || op.Messages != 4 {
				t.Errorf("a good call after it: %v, %d messages; want none, 4", err, op.Messages)
			}

			// Under load, every call fails and none is measured.
			// (Connections enough for calls that last the timeout, and
			// no abort for the errors.)
			s.Component.Workload.Rate = 10
			s.Component.Workload.Connections = 4
			s.Component.Workload.MaxErrorRate = 1
			s.Duration = 500 * time.Millisecond
			comp := testserver.Run(t, s)
			op2 := comp.Operation("output")
			if op2.Count != 0 || op2.Errors == 0 || op2.ErrorKinds[tt.wantKind] != op2.Errors || op2.FirstMessageNS != nil || op2.Messages != 0 {
				t.Errorf("%d measured, %d errors %v, first message %v, %d messages; want only errors of kind %q",
					op2.Count, op2.Errors, op2.ErrorKinds, op2.FirstMessageNS, op2.Messages, tt.wantKind)
			}
		})
	}
}

// A unary call answers no messages: its operation has no first-message
// record.
func TestAUnaryCallIsNotAStream(t *testing.T) {
	addr, _ := startInteropServer(t)
	c := connect(t, spec("grpc://"+addr, call("r", unaryCall, `{"responseSize": 10}`)))
	op := &workloads.Op{Key: []byte("tailgate:1")}
	if err := c.Do(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	if op.Messages != 0 || op.FirstMessageLead != 0 {
		t.Errorf("a unary call answered %d messages, the first %v before the end", op.Messages, op.FirstMessageLead)
	}
}

func TestMessagesAreForMethodsThatStreamRequests(t *testing.T) {
	addr, _ := startInteropServer(t)
	for _, tt := range []struct {
		method, kind string
	}{
		{unaryCall, "unary"},
		{outputCall, "server-streaming"},
	} {
		_, err := open(t, spec("grpc://"+addr, slo.Request{Name: "r", Method: tt.method, Messages: 2}))
		if err == nil || !strings.Contains(err.Error(), "messages 2") || !strings.Contains(err.Error(), tt.kind) {
			t.Errorf("%s with messages 2: %v; want an error naming messages and %q", tt.method, err, tt.kind)
		}
	}
	for _, method := range []string{inputCall, fullDuplexCall} {
		if _, err := open(t, spec("grpc://"+addr, slo.Request{Name: "r", Method: method, Messages: 2})); err != nil {
			t.Errorf("%s with messages 2: %v", method, err)
		}
	}
}

// FuzzMessageReader: however the DATA frames cut a reply, the reader finds
// the same messages, and a streaming call notes its first as it ends: the
// messages counted, the bad one found, the prefix left over are those of
// the reply read whole.
func FuzzMessageReader(f *testing.F) {
	good := gzipped([]byte("tailgate"))
	for _, seed := range [][]byte{
		nil,
		framed(0, nil),
		framed(0, []byte("one")),
		append(framed(0, []byte("one")), framed(0, []byte("two"))...),
		append(framed(1, good), framed(0, []byte("plain"))...),
		framed(1, []byte("not gzip")),
		framed(2, []byte("bad flag")),
		framed(0, []byte("cut short"))[:7],
		{0, 0, 0},
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(3))
	}
	f.Fuzz(func(t *testing.T, reply []byte, cut uint8) {
		read := func(size int) (messageReader, error) {
			var m messageReader
			var gz *gunzipper
			m.reset(true)
			for p := reply; len(p) > 0; p = p[min(size, len(p)):] {
				m.data(p[:min(size, len(p))], encodingGzip, &gz)
			}
			return m, m.outcome()
		}
		whole, wholeErr := read(len(reply) + 1)
		cutUp, cutErr := read(int(cut) + 1)
		if whole.count != cutUp.count || whole.inHead != cutUp.inHead || (wholeErr == nil) != (cutErr == nil) {
			t.Fatalf("read whole: %d messages, %d prefix bytes left, %v; in pieces of %d: %d, %d, %v",
				whole.count, whole.inHead, wholeErr, int(cut)+1, cutUp.count, cutUp.inHead, cutErr)
		}
		for _, m := range []messageReader{whole, cutUp} {
			if (m.count > 0) != !m.first.IsZero() {
				t.Fatalf("%d messages, first noted at %v", m.count, m.first)
			}
			var op workloads.Op
			m.answer(&op)
			if int(op.Messages) != m.count || op.FirstMessageLead < 0 {
				t.Fatalf("answered %d messages, the first %v before the end; read %d", op.Messages, op.FirstMessageLead, m.count)
			}
		}
	})
}

// BenchmarkStreamingDo measures the client's cost of a streaming call: a
// server stream of three messages, a client stream of four static
// messages, a bidirectional call of three messages built per call around
// the key; unary for comparison. None should allocate.
func BenchmarkStreamingDo(b *testing.B) {
	addr := testserver.BenchServer(b, benchServerEnv)
	s := spec("grpc://"+addr,
		call("unary", unaryCall, `{"responseSize": 16}`),
		call("output", outputCall, `{"responseParameters": [{"size": 16}, {"size": 16}, {"size": 16}]}`),
		slo.Request{Name: "input", Method: inputCall, Messages: 4, Body: `{"payload": {"body": "dGFpbGdh"}}`},
		slo.Request{Name: "duplex", Method: fullDuplexCall, Messages: 3,
			Body: `{"responseParameters": [{"size": 16}], "responseStatus": {"message": "{{key}}"}}`},
	)
	s.Component.Workload.Timeout = 10 * time.Second
	dr, c := testserver.Connect(b, s)
	if d := dr.(*Driver); d.requests[3].body.tmpl == nil {
		b.Fatal("the bidirectional body did not compile to a template")
	}
	testserver.BenchmarkOperations(b, c, s, "")
}
