package grpc

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

func TestLargeMessagesAndHeadersCrossFramesAndWindows(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	// 300 KiB out and 1 MiB back: past the 64 KiB windows a grpc-go server
	// starts with and the 16 KiB frames; a 40 KiB header needs CONTINUATION.
	body := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("tailgate", 300<<10/8)))
	big := strings.Repeat("h", 40<<10)
	s := spec("grpc://"+srv.addr, slo.Request{Name: "big", Method: unaryCall,
		Body:    `{"responseSize": 1048576, "payload": {"body": "` + body + `"}, "responseStatus": {"message": "{{key}}"}}`,
		Headers: map[string]string{"X-Big": big}})
	c := connect(t, s)
	for i := range 3 {
		key := "tailgate:" + strconv.Itoa(i)
		if err := do(c, 0, key); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		req, md := srv.svc.last(t)
		if len(req.GetPayload().GetBody()) != 300<<10 || req.GetResponseStatus().GetMessage() != key {
			t.Fatalf("call %d: the server got %d payload bytes and message %q", i, len(req.GetPayload().GetBody()), req.GetResponseStatus().GetMessage())
		}
		if got := md.Get("x-big"); len(got) != 1 || got[0] != big {
			t.Fatalf("call %d: the 40 KiB header did not arrive whole", i)
		}
	}
}

// h2cServer is a plain net/http server speaking HTTP/2 without TLS, for
// answers a gRPC server would not give.
func h2cServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// grpcAnswer answers a call with a gRPC status in trailers.
func grpcAnswer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte{0, 0, 0, 0, 0}) // an empty message
	w.Header().Set("Grpc-Status", strconv.Itoa(code))
	w.Header().Set("Grpc-Message", msg)
}

func TestAnswersThatAreNotOK(t *testing.T) {
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case healthCheck:
			grpcAnswer(w, 12, "no health service") // Unimplemented: Connect takes any answer
		case "/svc.S/NotFound":
			http.NotFound(w, r)
		case "/svc.S/NoTrailers":
			w.Header().Set("Content-Type", "application/grpc")
			w.Write([]byte{0, 0, 0, 0, 0})
		case "/svc.S/Reset":
			panic(http.ErrAbortHandler) // the server resets the stream
		case "/svc.S/Escaped":
			grpcAnswer(w, 9, "not now: 100%25 busy")
		default:
			grpcAnswer(w, 0, "")
		}
	})
	c := newTestConn(t, addr, "/svc.S/NotFound", "/svc.S/NoTrailers", "/svc.S/Reset", "/svc.S/Escaped", "/svc.S/Fine")
	tests := []struct {
		kind       int
		wantKind   string
		wantDetail string
	}{
		{0, "grpc Unimplemented", "HTTP status code received from server: 404"},
		{1, "grpc Internal", "without sending trailers"},
		{2, "grpc Internal", "RST_STREAM"},
		{3, "grpc FailedPrecondition", "not now: 100% busy"},
	}
	for _, tt := range tests {
		if err := do(c, tt.kind, "tailgate:1"); !isStatus(err, tt.wantKind, tt.wantDetail) {
			t.Errorf("call %d: got %v, want %s %q", tt.kind, err, tt.wantKind, tt.wantDetail)
		}
		if err := do(c, 4, "tailgate:1"); err != nil {
			t.Errorf("after call %d, the connection does not carry a good call: %v", tt.kind, err)
		}
	}
}

func TestACallOnAClosedConnectionIsUnavailableAndTheNextDialsAgain(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		grpcAnswer(w, 0, "")
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	c := newTestConn(t, strings.TrimPrefix(srv.URL, "http://"), "/svc.S/Fine")
	if err := do(c, 0, "tailgate:1"); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	err := do(c, 0, "tailgate:1")
	if kind := workloads.ErrorKind(err); err != nil && kind != "grpc Unavailable" {
		t.Fatalf("a call on the closed connection: got %v (kind %q), want success or grpc Unavailable", err, kind)
	}
	if err := do(c, 0, "tailgate:1"); err != nil {
		t.Fatalf("the next call did not dial again: %v", err)
	}
}

// newTestConn opens a Conn to addr whose request i calls paths[i], without
// reflection: the paths need not exist in any descriptor.
func newTestConn(t *testing.T, addr string, paths ...string) *conn {
	t.Helper()
	d := &Driver{addr: addr, timeout: 2 * time.Second, describe: "grpc://" + addr}
	for _, p := range paths {
		block, err := d.headerBlock("grpc", p, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.requests = append(d.requests, request{method: p, body: &body{static: &staticMessage{}}, block: block})
	}
	d.probe, _ = d.headerBlock("grpc", healthCheck, nil)
	wc, err := d.Connect(t.Context())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { wc.Close() })
	return wc.(*conn)
}

func TestEncodeTimeout(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                      "0n",
		250 * time.Microsecond: "250000n",
		time.Second:            "1000000u",
		30 * time.Second:       "30000000u",
		5 * time.Minute:        "300000m",
		48 * time.Hour:         "172800S",
	} {
		if got := encodeTimeout(d); got != want {
			t.Errorf("encodeTimeout(%s) = %q, want %q", d, got, want)
		}
	}
}
