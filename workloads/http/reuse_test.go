package http_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// countingServer is a net/http server that counts the connections it
// accepted and the requests it received, and hands each request with the
// number it has on its connection (1 for the first) to handle. It closes
// connections idle for idleTimeout, unless that is 0.
type countingServer struct {
	*httptest.Server
	conns    atomic.Int64
	requests atomic.Int64
}

type connCounter struct{}

func newCountingServer(t *testing.T, useTLS bool, idleTimeout time.Duration, handle func(w http.ResponseWriter, r *http.Request, nth int64)) *countingServer {
	t.Helper()
	s := &countingServer{}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.requests.Add(1)
		handle(w, r, r.Context().Value(connCounter{}).(*atomic.Int64).Add(1))
	}))
	hs.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		s.conns.Add(1)
		return context.WithValue(ctx, connCounter{}, new(atomic.Int64))
	}
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.Config.IdleTimeout = idleTimeout
	startTest(t, hs, useTLS)
	s.Server = hs
	return s
}

func ok(w http.ResponseWriter, _ *http.Request, _ int64) { io.WriteString(w, "ok") }

// connectTo opens one connection of a spec with the requests against srv,
// trusting its certificate when it serves TLS.
func connectTo(t *testing.T, srv *countingServer, requests ...slo.Request) workloads.Conn {
	t.Helper()
	s := spec(srv.URL, requests...)
	if srv.TLS != nil {
		s.Component.Workload.TLS = slo.TLS{CAFile: writeCA(t, &server{Server: srv.Server})}
	}
	_, c := testserver.Connect(t, s)
	return c
}

// A keep-alive connection the server closed while it sat idle is noticed
// before it is reused: even a POST, which may not be sent twice, goes out
// on a new connection and succeeds.
func TestAConnectionClosedWhileIdleIsNotReused(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "TLS"}[useTLS]
		t.Run(name, func(t *testing.T) {
			srv := newCountingServer(t, useTLS, 20*time.Millisecond, ok)
			c := connectTo(t, srv, post)
			before := srv.requests.Load() // the probe
			for i := range 3 {
				time.Sleep(60 * time.Millisecond) // the server closes the idle connection meanwhile
				if err := do(c, 0, "tailgate:1"); err != nil {
					t.Fatalf("POST %d after an idle close: %v", i, err)
				}
			}
			if got := srv.conns.Load(); got != 4 {
				t.Errorf("%d connections for the probe and 3 POSTs each after an idle close, want 4", got)
			}
			if got := srv.requests.Load() - before; got != 3 {
				t.Errorf("the server received %d POSTs, want 3 (none twice)", got)
			}
		})
	}
}

// A server that ends the connection after reading a request, without a
// byte of a response (as one closing it just as the request arrived):
// a request safe to repeat goes once more on a new connection; a POST,
// which the server may have processed, is an error of kind "closed".
func TestARequestCutOffBeforeAnyResponseIsRepeatedOnlyWhenSafe(t *testing.T) {
	tests := []struct {
		name    string
		request slo.Request
		wantErr string // kind, or "" for success
		wantReq int64  // requests the server received for the second Do
	}{
		{"GET is repeated", get("read", "/items/{{key}}"), "", 2},
		{"HEAD is repeated", slo.Request{Name: "head", Method: "HEAD", Path: "/"}, "", 2},
		{"a POST with an Idempotency-Key is repeated",
			slo.Request{Name: "pay", Method: "POST", Path: "/pay", Body: "{}", Headers: map[string]string{"Idempotency-Key": "k1"}}, "", 2},
		{"a POST is not", post, workloads.KindClosed, 1},
		{"a PUT is not", slo.Request{Name: "put", Method: "PUT", Path: "/items/{{key}}", Body: "v"}, workloads.KindClosed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The second request on every connection is read, then the
			// connection is closed unanswered.
			srv := newCountingServer(t, false, 0, func(w http.ResponseWriter, r *http.Request, nth int64) {
				if nth == 2 {
					nc, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						nc.Close()
					}
					return
				}
				io.WriteString(w, "ok")
			})
			c := connectTo(t, srv, tt.request) // the probe is the first request
			before := srv.requests.Load()
			err := do(c, 0, "tailgate:1")
			if kind := workloads.ErrorKind(err); (err == nil) != (tt.wantErr == "") || (err != nil && kind != tt.wantErr) {
				t.Fatalf("got %v (kind %q), want %q", err, kind, tt.wantErr)
			}
			if got := srv.requests.Load() - before; got != tt.wantReq {
				t.Errorf("the server received the request %d times, want %d", got, tt.wantReq)
			}
			if err := do(c, 0, "tailgate:2"); err != nil {
				t.Errorf("the next request: %v", err)
			}
		})
	}
}

// "Connection: close" on a response ends the connection once the response
// is read: the next request, a POST right after, dials instead of failing
// on a closed connection.
func TestConnectionCloseOnAResponseIsHonoured(t *testing.T) {
	srv := newCountingServer(t, false, 0, func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "ok")
	})
	c := connectTo(t, srv, post)
	for i := range 5 {
		if err := do(c, 0, "tailgate:1"); err != nil {
			t.Fatalf("POST %d: %v", i, err)
		}
	}
	if got := srv.conns.Load(); got != 6 {
		t.Errorf("%d connections for the probe and 5 POSTs, want 6", got)
	}
}

// A connection idle for most of the timeout its server announces
// ("Keep-Alive: timeout=1") is not reused; one used again at once is.
func TestTheServersKeepAliveTimeoutIsRespected(t *testing.T) {
	srv := newCountingServer(t, false, 0, func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.Header().Set("Keep-Alive", "timeout=1, max=100")
		io.WriteString(w, "ok")
	})
	c := connectTo(t, srv, post)
	for range 3 {
		if err := do(c, 0, "tailgate:1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.conns.Load(); got != 1 {
		t.Fatalf("%d connections for requests at once, want 1", got)
	}
	time.Sleep(950 * time.Millisecond) // past nine tenths of a second
	if err := do(c, 0, "tailgate:1"); err != nil {
		t.Fatal(err)
	}
	if got := srv.conns.Load(); got != 2 {
		t.Errorf("%d connections after an idle gap near the announced timeout, want 2", got)
	}
}

// A connection the server reset just after a response, used again before
// the idle check would look at it: the POST meets the reset when it is
// written, not one byte of it goes out, and so it goes out again on a new
// connection. The test resets each connection itself once the driver has
// read the response on it, so the order (response read, reset, next POST)
// does not hang on how soon a busy machine runs the server.
func TestARequestNotWrittenAtAllGoesOutAgain(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "TLS"}[useTLS]
		t.Run(name, func(t *testing.T) {
			answered := make(chan net.Conn, 8)
			srv := newCountingServer(t, useTLS, 0, func(w http.ResponseWriter, r *http.Request, _ int64) {
				w.Header().Set("Content-Length", "2") // not chunked: the response is whole before the hijack
				io.WriteString(w, "ok")
				w.(http.Flusher).Flush()
				nc, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				if tc, ok := nc.(interface{ NetConn() net.Conn }); ok {
					nc = tc.NetConn()
				}
				answered <- nc
			})
			// reset closes the connection the last response came on with
			// a reset, as a server that drops a connection does.
			reset := func() {
				select {
				case nc := <-answered:
					nc.(*net.TCPConn).SetLinger(0)
					nc.Close()
				case <-time.After(5 * time.Second):
					t.Fatal("the server answered no request in 5s")
				}
			}
			c := connectTo(t, srv, post)
			before := srv.requests.Load()
			for i := range 3 {
				if i > 0 || before > 0 { // the connection has answered a request
					reset()
				}
				if err := do(c, 0, "tailgate:1"); err != nil {
					t.Fatalf("POST %d: %v", i, err)
				}
			}
			reset()
			if got := srv.requests.Load() - before; got != 3 {
				t.Errorf("the server received %d POSTs, want 3 (each once)", got)
			}
		})
	}
}
