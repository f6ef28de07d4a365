package http_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	httpdriver "github.com/tailgate-dev/tailgate/workloads/http"
)

// seen is one request as the test server received it.
type seen struct {
	Method, URI, Host, Body, Remote string
	Header                          http.Header
	ProtoMajor, ProtoMinor          int
}

// server is a real HTTP server on loopback that records what it receives.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	seen  []seen
	conns map[string]bool
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	item := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item") }
	mux.HandleFunc("/items/", item)
	mux.HandleFunc("/api/v1/items/", item)
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		w.WriteHeader(code)
		io.WriteString(w, "  overloaded:\nretry later  ")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/items/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part")
		w.(http.Flusher).Flush()
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		io.WriteString(w, "second part")
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 256<<10))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, seen{
			Method: r.Method, URI: r.RequestURI, Host: r.Host, Body: string(body), Remote: r.RemoteAddr,
			Header: r.Header.Clone(), ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		})
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

func (s *server) last(t *testing.T) seen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		t.Fatal("the server received nothing")
	}
	return s.seen[len(s.seen)-1]
}

func (s *server) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// newServer starts a recording server on addr ("" for a free port), plain
// or TLS, closed with the test.
func newServer(t *testing.T, addr string, useTLS bool) *server {
	t.Helper()
	s := &server{conns: map[string]bool{}}
	hs := httptest.NewUnstartedServer(s.handler())
	if addr != "" {
		hs.Listener.Close()
		var err error
		for range 50 { // the port of a server just closed may take a moment to free
			if hs.Listener, err = net.Listen("tcp", addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("listening on %s again: %v", addr, err)
		}
	}
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are what some tests want
	hs.Config.ConnState = func(c net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.mu.Lock()
			s.conns[c.RemoteAddr().String()] = true
			s.mu.Unlock()
		}
	}
	startTest(t, hs, useTLS)
	s.Server = hs
	return s
}

// startTest starts hs, over TLS when useTLS, and closes it when the test
// ends.
func startTest(t *testing.T, hs *httptest.Server, useTLS bool) {
	if useTLS {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(hs.Close)
}

// spec is a small workload of the given requests against target.
func spec(target string, requests ...slo.Request) *workloads.Spec {
	return testserver.RequestSpec("api", target, requests...)
}

func get(name, path string) slo.Request {
	return slo.Request{Name: name, Method: "GET", Path: path}
}

func do(c workloads.Conn, kind int, key string) error {
	return c.Do(context.Background(), &workloads.Op{Kind: kind, Key: []byte(key)})
}

func TestRequestsCarryTheKeyTheHeadersAndTheBody(t *testing.T) {
	srv := newServer(t, "", false)
	_, c := testserver.Connect(t, spec(srv.URL,
		slo.Request{Name: "read", Method: "GET", Path: "/items/{{key}}?k={{key}}&x=1",
			Headers: map[string]string{"X-Api-Key": "s3cret", "host": "api.example"}},
		slo.Request{Name: "write", Method: "POST", Path: "/items/new", Body: `{"id":"{{key}}","n":1}`,
			Headers: map[string]string{"Content-Type": "application/json"}},
		slo.Request{Name: "fixed", Method: "PUT", Path: "/items/café?q=ü", Body: "same every time"},
	))
	if err := do(c, 0, "tailgate:1/ä b"); err != nil {
		t.Fatal(err)
	}
	got := srv.last(t)
	if want := "/items/tailgate:1%2F%C3%A4%20b?k=tailgate:1%2F%C3%A4%20b&x=1"; got.URI != want {
		t.Errorf("request URI = %q, want %q", got.URI, want)
	}
	if got.Header.Get("X-Api-Key") != "s3cret" || got.Host != "api.example" {
		t.Errorf("headers %v, host %q: want X-Api-Key and the Host header as given", got.Header, got.Host)
	}
	if got.Header.Get("User-Agent") != httpdriver.UserAgent {
		t.Errorf("User-Agent = %q", got.Header.Get("User-Agent"))
	}
	if got.Header.Get("Accept-Encoding") != "" {
		t.Errorf("Accept-Encoding %q was added to what the plan says", got.Header.Get("Accept-Encoding"))
	}
	if got.ProtoMajor != 1 || got.ProtoMinor != 1 {
		t.Errorf("protocol HTTP/%d.%d, want HTTP/1.1", got.ProtoMajor, got.ProtoMinor)
	}
	for i := range 3 { // a reused body is rendered again for each key
		key := fmt.Sprintf("tailgate:%d", 7+i)
		if err := do(c, 1, key); err != nil {
			t.Fatal(err)
		}
		got = srv.last(t)
		if want := `{"id":"` + key + `","n":1}`; got.Method != "POST" || got.Body != want || got.URI != "/items/new" {
			t.Errorf("got %s %s %q, want POST /items/new %q", got.Method, got.URI, got.Body, want)
		}
		if got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type = %q", got.Header.Get("Content-Type"))
		}
	}
	if err := do(c, 2, "tailgate:1"); err != nil {
		t.Fatal(err)
	}
	if got = srv.last(t); got.Method != "PUT" || got.Body != "same every time" || got.URI != "/items/caf%C3%A9?q=%C3%BC" {
		t.Errorf("got %s %s %q", got.Method, got.URI, got.Body)
	}
}

func TestTheStatusDecidesSuccess(t *testing.T) {
	srv := newServer(t, "", false)
	tests := []struct {
		name     string
		request  slo.Request
		wantKind string
	}{
		{"a 2xx without expect_status succeeds", get("ok", "/status/204"), ""},
		{"a 503 is an error", get("down", "/status/503"), "http 503"},
		{"a 404 is an error", get("missing", "/status/404"), "http 404"},
		{"a redirect is not followed", get("moved", "/redirect"), "http 302"},
		{"a listed 404 succeeds", slo.Request{Name: "gone", Method: "GET", Path: "/status/404", ExpectStatus: []int{404, 410}}, ""},
		{"an unlisted 200 fails when statuses are listed", slo.Request{Name: "strict", Method: "GET", Path: "/items/1", ExpectStatus: []int{201}}, "http 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := testserver.Connect(t, spec(srv.URL, tt.request))
			err := do(c, 0, "tailgate:1")
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			var se *workloads.StatusError
			if !errors.As(err, &se) || workloads.ErrorKind(err) != tt.wantKind {
				t.Fatalf("got %v (kind %q), want a StatusError %q", err, workloads.ErrorKind(err), tt.wantKind)
			}
		})
	}
	t.Run("the detail is the start of the body, on one line", func(t *testing.T) {
		_, c := testserver.Connect(t, spec(srv.URL, get("down", "/status/503")))
		var se *workloads.StatusError
		if err := do(c, 0, "tailgate:1"); !errors.As(err, &se) || se.Detail != "overloaded: retry later" {
			t.Fatalf("got %#v", err)
		}
	})
}

func TestASlowServerTimesOut(t *testing.T) {
	srv := newServer(t, "", false)
	for _, path := range []string{"/slow", "/slow-body"} {
		t.Run(path, func(t *testing.T) {
			s := spec(srv.URL, get("slow", path))
			s.Component.Workload.Timeout = 100 * time.Millisecond
			_, c := testserver.Connect(t, s)
			testserver.CheckTimesOut(t, c)
		})
	}
}

func TestConnectionsAreKeptAliveAndReused(t *testing.T) {
	srv := newServer(t, "", false)
	s := spec(srv.URL, get("read", "/items/{{key}}"), get("large", "/large"))
	_, c := testserver.Connect(t, s)
	for i := range 50 {
		if err := do(c, i%2, fmt.Sprintf("tailgate:%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.connections(); n > s.Component.Workload.Connections {
		t.Fatalf("50 requests opened %d connections; want at most %d", n, s.Component.Workload.Connections)
	}
}

func TestAServerThatGoesAwayFailsRequestsUntilItComesBack(t *testing.T) {
	srv := newServer(t, "", false)
	addr := srv.Listener.Addr().String()
	_, c := testserver.Connect(t, spec(srv.URL, get("read", "/items/{{key}}")))
	if err := do(c, 0, "tailgate:1"); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	srv.Close()
	for i := range 3 {
		err := do(c, 0, "tailgate:1")
		switch kind := workloads.ErrorKind(err); kind {
		case workloads.KindRefused, workloads.KindReset, workloads.KindClosed:
		default:
			t.Fatalf("request %d to a closed server: got %v (kind %q), want refused, reset or closed", i, err, kind)
		}
	}
	back := newServer(t, addr, false)
	if err := do(c, 0, "tailgate:2"); err != nil {
		t.Fatalf("the server came back but the request failed: %v", err)
	}
	if got := back.last(t).URI; got != "/items/tailgate:2" {
		t.Errorf("the returned server saw %q", got)
	}
}

func TestConnectAcceptsAnyHTTPResponse(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	_, c := testserver.Connect(t, spec(notFound.URL, get("read", "/x")))
	if err := do(c, 0, "tailgate:1"); workloads.ErrorKind(err) != "http 404" {
		t.Fatalf("got %v", err)
	}
}

func TestConnectFailsWhenNothingListens(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)) // nothing listens
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, spec("http://"+addr, get("read", "/")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Connect(ctx); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want connection refused", err)
	}
}

func TestABasePathAndCredentialsInTheTarget(t *testing.T) {
	srv := newServer(t, "", false)
	target := strings.Replace(srv.URL, "http://", "http://reader:pa55@", 1) + "/api/v1/"
	s := spec(target, get("read", "/items/{{key}}"),
		slo.Request{Name: "own-auth", Method: "GET", Path: "/items/x", Headers: map[string]string{"Authorization": "Bearer t"}})
	d, c := testserver.Connect(t, s)
	if err := do(c, 0, "tailgate:3"); err != nil {
		t.Fatal(err)
	}
	got := srv.last(t)
	if got.URI != "/api/v1/items/tailgate:3" {
		t.Errorf("request URI = %q", got.URI)
	}
	if user, pass, ok := (&http.Request{Header: got.Header}).BasicAuth(); !ok || user != "reader" || pass != "pa55" {
		t.Errorf("Authorization = %q", got.Header.Get("Authorization"))
	}
	if err := do(c, 1, "tailgate:3"); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).Header.Get("Authorization"); got != "Bearer t" {
		t.Errorf("a request's own Authorization was replaced: %q", got)
	}
	if strings.Contains(d.Describe(), "pa55") {
		t.Errorf("Describe shows the password: %q", d.Describe())
	}
}

// writeCA writes the TLS test server's certificate as a PEM CA file.
func writeCA(t *testing.T, srv *server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHTTPS(t *testing.T) {
	srv := newServer(t, "", true)
	ca := writeCA(t, srv)
	open := func(t *testing.T, tls slo.TLS) (workloads.Driver, error) {
		s := spec(srv.URL, get("read", "/items/{{key}}"))
		s.Component.Workload.TLS = tls
		return testserver.DoOnce(t, s)
	}
	testserver.CheckTLSSettings(t, ca, "example.com", open)
	t.Run("a server name the certificate is not for is an x509.HostnameError", func(t *testing.T) {
		var hostErr x509.HostnameError
		if _, err := open(t, slo.TLS{CAFile: ca, ServerName: "other.example"}); !errors.As(err, &hostErr) {
			t.Fatalf("got %v, want a certificate name error", err)
		}
	})
}

func TestOpenRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name    string
		request slo.Request
		want    string
	}{
		{"a path without a leading slash", get("rel", "items"), `request "rel": path "items"`},
		{"a method that is not a token", slo.Request{Name: "bad", Method: "GET X", Path: "/"}, `request "bad": method`},
		{"an expected status out of range", slo.Request{Name: "st", Method: "GET", Path: "/", ExpectStatus: []int{99}}, "expect_status 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workloads.Open(context.Background(), spec("http://127.0.0.1:1", tt.request))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `component "api"`) {
				t.Fatalf("got %v, want an error naming the component and %s", err, tt.want)
			}
		})
	}
}

func TestRunReportsEveryRequest(t *testing.T) {
	srv := newServer(t, "", false)
	s := spec(srv.URL,
		slo.Request{Name: "read", Method: "GET", Path: "/items/{{key}}", Weight: 3},
		slo.Request{Name: "write", Method: "POST", Path: "/items/{{key}}", Body: `{"v":"{{key}}"}`, Weight: 1})
	testserver.MeasureEveryOperation(t, s)
}

// benchServerEnv makes the test binary an HTTP server for benchmarks, so
// their allocation and CPU figures are the client's alone.
const benchServerEnv = "TAILGATE_HTTP_BENCH_SERVER"

func TestMain(m *testing.M) { testserver.BenchmarkMain(m, benchServerEnv, serveForBenchmark) }

// serveForBenchmark answers every request with a small JSON body, over
// HTTP/1.1 and h2c.
func serveForBenchmark(l net.Listener) (stop func()) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ok":true}`)
	}), Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(l)
	return nil
}

// BenchmarkDo measures one request at a time on one connection, over
// HTTP/1.1 (the first names) and over h2c (h2c/...).
func BenchmarkDo(b *testing.B) {
	addr := testserver.BenchServer(b, benchServerEnv)
	for _, protocol := range []slo.WireProtocol{slo.HTTP1, slo.HTTP2Cleartext} {
		s := spec("http://"+addr,
			get("static", "/items/fixed"),
			get("keyed", "/items/{{key}}"),
			slo.Request{Name: "post", Method: "POST", Path: "/items/{{key}}", Body: `{"id":"{{key}}","payload":"` + strings.Repeat("x", 200) + `"}`},
		)
		s.Component.Workload.Timeout = 10 * time.Second
		s.Component.Workload.Protocol = protocol
		_, c := testserver.Connect(b, s)
		prefix := ""
		if protocol == slo.HTTP2Cleartext {
			prefix = "h2c/"
		}
		testserver.BenchmarkOperations(b, c, s, prefix)
	}
}
