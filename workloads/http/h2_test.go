package http_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// newH2Server starts a recording server (see server) that speaks HTTP/2
// only: over TLS, offering h2 alone by ALPN, or in the clear (h2c with
// prior knowledge). It returns the server and the CA file a client trusts
// it with ("" in the clear).
func newH2Server(t *testing.T, useTLS bool, configure func(*http.Server)) (*server, string) {
	t.Helper()
	s := &server{conns: map[string]bool{}}
	hs := httptest.NewUnstartedServer(s.handler())
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.Config.ConnState = func(c net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.mu.Lock()
			s.conns[c.RemoteAddr().String()] = true
			s.mu.Unlock()
		}
	}
	hs.Config.Protocols = new(http.Protocols)
	if configure != nil {
		configure(hs.Config)
	}
	s.Server = hs
	if useTLS {
		hs.Config.Protocols.SetHTTP2(true)
		hs.EnableHTTP2 = true
		hs.StartTLS()
		t.Cleanup(hs.Close)
		return s, writeCA(t, s)
	}
	hs.Config.Protocols.SetUnencryptedHTTP2(true)
	hs.Start()
	t.Cleanup(hs.Close)
	return s, ""
}

// h2Spec is spec over HTTP/2: protocol h2 over TLS, h2c in the clear.
func h2Spec(target, ca string, protocol slo.WireProtocol, requests ...slo.Request) *workloads.Spec {
	s := spec(target, requests...)
	s.Component.Workload.Protocol = protocol
	s.Component.Workload.TLS = slo.TLS{CAFile: ca}
	return s
}

// The requests of TestRequestsCarryTheKeyTheHeadersAndTheBody arrive the
// same over HTTP/2, whether the plan asks for h2 or ALPN chooses it, and
// over h2c: key, headers, Host as :authority, body and length.
func TestRequestsOverHTTP2CarryTheKeyTheHeadersAndTheBody(t *testing.T) {
	tlsServer, ca := newH2Server(t, true, nil)
	clearServer, _ := newH2Server(t, false, nil)
	tests := []struct {
		name     string
		srv      *server
		ca       string
		protocol slo.WireProtocol
	}{
		{"h2 over TLS, asked for", tlsServer, ca, slo.HTTP2},
		{"h2 over TLS, chosen by ALPN (auto)", tlsServer, ca, slo.HTTPAuto},
		{"h2 over TLS, protocol left out", tlsServer, ca, ""},
		{"h2c, in the clear", clearServer, "", slo.HTTP2Cleartext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.srv.connections()
			_, c := testserver.Connect(t, h2Spec(tt.srv.URL, tt.ca, tt.protocol,
				slo.Request{Name: "read", Method: "GET", Path: "/items/{{key}}?k={{key}}&x=1",
					Headers: map[string]string{"X-Api-Key": "s3cret", "host": "api.example", "Connection": "keep-alive"}},
				slo.Request{Name: "write", Method: "POST", Path: "/items/new", Body: `{"id":"{{key}}","n":1}`,
					Headers: map[string]string{"Content-Type": "application/json"}},
				slo.Request{Name: "fixed", Method: "PUT", Path: "/items/café?q=ü", Body: "same every time"},
				slo.Request{Name: "head", Method: "HEAD", Path: "/items/1"},
			))
			if err := do(c, 0, "tailgate:1/ä b"); err != nil {
				t.Fatal(err)
			}
			got := tt.srv.last(t)
			if got.ProtoMajor != 2 {
				t.Fatalf("protocol HTTP/%d.%d, want HTTP/2", got.ProtoMajor, got.ProtoMinor)
			}
			if want := "/items/tailgate:1%2F%C3%A4%20b?k=tailgate:1%2F%C3%A4%20b&x=1"; got.URI != want {
				t.Errorf("request URI = %q, want %q", got.URI, want)
			}
			if got.Header.Get("X-Api-Key") != "s3cret" || got.Host != "api.example" || got.Header.Get("User-Agent") != "tailgate" {
				t.Errorf("headers %v, host %q: want X-Api-Key, the User-Agent and the Host header as given", got.Header, got.Host)
			}
			for i := range 3 { // a reused body is rendered again for each key
				key := fmt.Sprintf("tailgate:%d", 7+i)
				if err := do(c, 1, key); err != nil {
					t.Fatal(err)
				}
				got = tt.srv.last(t)
				want := `{"id":"` + key + `","n":1}`
				if got.Method != "POST" || got.Body != want || got.URI != "/items/new" {
					t.Errorf("got %s %s %q, want POST /items/new %q", got.Method, got.URI, got.Body, want)
				}
				if got.Header.Get("Content-Type") != "application/json" || got.Header.Get("Content-Length") != fmt.Sprint(len(want)) {
					t.Errorf("Content-Type %q, Content-Length %q", got.Header.Get("Content-Type"), got.Header.Get("Content-Length"))
				}
			}
			if err := do(c, 2, "tailgate:1"); err != nil {
				t.Fatal(err)
			}
			if got = tt.srv.last(t); got.Method != "PUT" || got.Body != "same every time" || got.URI != "/items/caf%C3%A9?q=%C3%BC" {
				t.Errorf("got %s %s %q", got.Method, got.URI, got.Body)
			}
			if err := do(c, 3, "tailgate:1"); err != nil {
				t.Fatal(err)
			}
			if got = tt.srv.last(t); got.Method != "HEAD" {
				t.Errorf("got %s, want HEAD", got.Method)
			}
			if n := tt.srv.connections() - before; n != 1 {
				t.Errorf("%d connections for one Conn's requests, want 1", n)
			}
		})
	}
}

// Statuses count over HTTP/2 as over HTTP/1.1, the error's detail the start
// of the body; a timed-out request resets its stream and the connection
// carries the next one.
func TestHTTP2StatusesAndTimeouts(t *testing.T) {
	srv, _ := newH2Server(t, false, nil)
	s := h2Spec(srv.URL, "", slo.HTTP2Cleartext, get("down", "/status/503"),
		slo.Request{Name: "gone", Method: "GET", Path: "/status/404", ExpectStatus: []int{404}},
		get("slow", "/slow"), get("large", "/large"))
	s.Component.Workload.Timeout = 200 * time.Millisecond
	_, c := testserver.Connect(t, s)
	var se *workloads.StatusError
	if err := do(c, 0, "tailgate:1"); !errors.As(err, &se) || se.Kind != "http 503" || se.Detail != "overloaded: retry later" {
		t.Fatalf("a 503: got %#v", err)
	}
	if err := do(c, 1, "tailgate:1"); err != nil {
		t.Fatalf("a listed 404: %v", err)
	}
	start := time.Now()
	if err := do(c, 2, "tailgate:1"); workloads.ErrorKind(err) != workloads.KindTimeout {
		t.Fatalf("a request slower than the timeout: got %v (kind %q), want a timeout", err, workloads.ErrorKind(err))
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("the timed-out request took %s", waited)
	}
	for i := range 3 { // 256 KiB back, in many DATA frames, read to the end
		if err := do(c, 3, "tailgate:1"); err != nil {
			t.Fatalf("large response %d after the timeout: %v", i, err)
		}
	}
	if n := srv.connections(); n != 1 {
		t.Errorf("%d connections, want the one kept after the timeout", n)
	}
}

// A plan that asks for HTTP/2 from a server that does not speak it fails
// Connect, saying so; one that asks for HTTP/1.1 of a server that speaks
// both gets it.
func TestTheProtocolThePlanAsksFor(t *testing.T) {
	http1 := newServer(t, "", true) // offers http/1.1 alone by ALPN
	ca := writeCA(t, http1)
	s := spec(http1.URL, get("read", "/items/1"))
	s.Component.Workload.Protocol = slo.HTTP2
	s.Component.Workload.TLS = slo.TLS{CAFile: ca}
	d, err := workloads.Open(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if c, err := d.Connect(t.Context()); err == nil {
		c.Close()
		t.Fatal("h2 from an HTTP/1.1 server: Connect succeeded")
	} else if !strings.Contains(err.Error(), "HTTP/2") {
		t.Fatalf("h2 from an HTTP/1.1 server: got %q, want it to say HTTP/2 was not chosen", err)
	}

	both := &server{conns: map[string]bool{}}
	both.Server = httptest.NewUnstartedServer(both.handler())
	both.EnableHTTP2 = true // http/1.1 and h2 by ALPN
	both.StartTLS()
	t.Cleanup(both.Close)
	ca = writeCA(t, both)
	for _, tt := range []struct {
		protocol slo.WireProtocol
		major    int
	}{{slo.HTTP1, 1}, {slo.HTTPAuto, 2}} {
		s := spec(both.URL, get("read", "/items/1"))
		s.Component.Workload.Protocol = tt.protocol
		s.Component.Workload.TLS = slo.TLS{CAFile: ca}
		_, c := testserver.Connect(t, s)
		if err := do(c, 0, "tailgate:1"); err != nil {
			t.Fatal(err)
		}
		if got := both.last(t); got.ProtoMajor != tt.major {
			t.Errorf("protocol %q: the server got HTTP/%d, want HTTP/%d", tt.protocol, got.ProtoMajor, tt.major)
		}
	}

	for _, tt := range []struct {
		target   string
		protocol slo.WireProtocol
	}{{"http://127.0.0.1:1", slo.HTTP2}, {"https://127.0.0.1:1", slo.HTTP2Cleartext}} {
		s := spec(tt.target, get("read", "/"))
		s.Component.Workload.Protocol = tt.protocol
		if _, err := workloads.Open(t.Context(), s); err == nil || !strings.Contains(err.Error(), string(tt.protocol)) {
			t.Errorf("%s with protocol %s: got %v, want an error naming it", tt.target, tt.protocol, err)
		}
	}
}

// Load against HTTP/2-only servers measures every request: a Go server
// speaking h2 alone over TLS, the same in the clear (h2c), and nginx with
// http2 over TLS (listen … ssl http2, as nginx before 1.25 writes it). The Go servers end connections idle for 300 ms, so a
// slow run meets GOAWAYs between its requests.
func TestHTTP2ServersUnderLoadCostNoErrors(t *testing.T) {
	idle := func(s *http.Server) { s.IdleTimeout = 300 * time.Millisecond }
	tlsServer, ca := newH2Server(t, true, idle)
	clearServer, _ := newH2Server(t, false, idle)
	cert := testserver.NewCertificate(t)
	nginx := testserver.Nginx(t, fmt.Sprintf(`server {
	listen %s ssl http2;
	ssl_certificate %s;
	ssl_certificate_key %s;
	keepalive_timeout 1s;
	location / { return 200 "ok\n"; }
}`, testserver.Listen, cert.CertFile, cert.KeyFile))
	write := slo.Request{Name: "write", Method: "POST", Path: "/items/{{key}}", Body: `{"id":"{{key}}"}`}
	measureEach(t, []loadCase{
		{"Go, h2 over TLS, 1000/s", shape(h2Spec(tlsServer.URL, ca, slo.HTTPAuto, get("read", "/items/{{key}}"), write), 1000, 4, 2*time.Second), false},
		{"Go, h2c, 1000/s", shape(h2Spec(clearServer.URL, "", slo.HTTP2Cleartext, get("read", "/items/{{key}}"), write), 1000, 4, 2*time.Second), false},
		{"nginx http2 over TLS, 1000/s", shape(h2Spec("https://"+nginx.Addr, cert.CAFile, slo.HTTP2,
			get("read", "/items/{{key}}"), write), 1000, 4, 2*time.Second), false},
		// About 0.5 s between requests on each connection: every one
		// after the first finds its connection ended by the server.
		{"Go, h2c, idle timeout 300 ms, 8/s over 4 connections", shape(h2Spec(clearServer.URL, "", slo.HTTP2Cleartext, write), 8, 4, 3*time.Second), true},
		{"nginx http2, keepalive_timeout 1s, 2/s over 4 connections", shape(h2Spec("https://"+nginx.Addr, cert.CAFile, slo.HTTPAuto,
			write), 2, 4, 3*time.Second), true},
	})
}
