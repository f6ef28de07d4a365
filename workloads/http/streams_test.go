package http_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// streamServer is a Go HTTP/2-only server (h2 over TLS, or h2c; at most
// maxStreams streams per connection when set, idle connections ended
// after idleTimeout when set) whose handler takes delay per request and
// counts, per client connection, the
// requests in progress: the most at once on one connection, and the
// connections seen.
type streamServer struct {
	*httptest.Server
	ca    string
	delay time.Duration

	mu       sync.Mutex
	inFlight map[string]int
	most     int
}

func newStreamServer(t *testing.T, useTLS bool, maxStreams int, delay, idleTimeout time.Duration) *streamServer {
	t.Helper()
	s := &streamServer{delay: delay, inFlight: map[string]int{}}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.inFlight[r.RemoteAddr]++
		s.most = max(s.most, s.inFlight[r.RemoteAddr])
		s.mu.Unlock()
		time.Sleep(s.delay)
		s.mu.Lock()
		s.inFlight[r.RemoteAddr]--
		s.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.Config.Protocols = new(http.Protocols)
	hs.Config.IdleTimeout = idleTimeout
	if maxStreams > 0 {
		hs.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
	}
	s.Server = hs
	if useTLS {
		hs.Config.Protocols.SetHTTP2(true)
		hs.EnableHTTP2 = true
		hs.StartTLS()
		s.ca = writeCA(t, &server{Server: hs})
	} else {
		hs.Config.Protocols.SetUnencryptedHTTP2(true)
		hs.Start()
	}
	t.Cleanup(hs.Close)
	return s
}

// stats returns the connections the server saw and the most requests at
// once on one of them.
func (s *streamServer) stats() (conns, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inFlight), s.most
}

// streamsSpec is a run of GETs and POSTs at rate for d, on one connection
// of n streams.
func streamsSpec(target, ca string, protocol slo.WireProtocol, rate float64, n int, d time.Duration) *workloads.Spec {
	s := h2Spec(target, ca, protocol, get("read", "/items/{{key}}"),
		slo.Request{Name: "write", Method: "POST", Path: "/items/{{key}}", Body: `{"id":"{{key}}"}`})
	s = shape(s, rate, 1, d)
	s.Component.Workload.Streams = n
	return s
}

// streams: 16 on one connection to Go's HTTP/2 servers, over TLS and in
// the clear: no errors, one connection, and the server sees several
// requests at once on it.
func TestHTTP2StreamsShareOneConnection(t *testing.T) {
	for _, useTLS := range []bool{true, false} {
		name, protocol := "h2 over TLS", slo.HTTP2
		if !useTLS {
			name, protocol = "h2c", slo.HTTP2Cleartext
		}
		t.Run(name, func(t *testing.T) {
			srv := newStreamServer(t, useTLS, 0, 20*time.Millisecond, 0)
			// 400 requests a second of 20 ms each: 8 at once on average.
			testserver.MeasureEveryOperation(t, streamsSpec(srv.URL, srv.ca, protocol, 400, 16, time.Second))
			conns, most := srv.stats()
			if conns != 1 {
				t.Errorf("the server saw %d connections, want 1 for the 16 streams", conns)
			}
			if most < 2 || most > 16 {
				t.Errorf("at most %d requests at once on the connection, want 2 to 16", most)
			}
			t.Logf("%d connection, at most %d requests at once on it", conns, most)
		})
	}
}

// A Go server that allows 4 streams per connection: the requests beyond
// them wait for a stream, count as late, and none fails. At 4 streams of
// 20 ms the server serves 200 requests a second; 120 a second, in Poisson
// bursts, often find the 4 taken, but the line does not grow.
func TestHTTP2StreamsBeyondTheServersLimitWait(t *testing.T) {
	srv := newStreamServer(t, false, 4, 20*time.Millisecond, 0)
	s := streamsSpec(srv.URL, "", slo.HTTP2Cleartext, 120, 16, 2*time.Second)
	s.Component.Workload.Arrival = slo.ArrivalPoisson
	comp := testserver.MeasureEveryOperation(t, s)
	var late int64
	for _, name := range s.Operations() {
		late += comp.Operation(name).Late
	}
	if late == 0 {
		t.Error("no request was late: the server's limit of 4 made none wait")
	}
	if conns, most := srv.stats(); conns != 1 || most != 4 {
		t.Errorf("%d connections, at most %d requests at once, want 1 and the server's limit, 4", conns, most)
	}
}

// nginx with http2 over TLS, and a limit of 8 streams per connection, takes
// a run on 16 streams of one connection without an error.
func TestHTTP2StreamsAgainstNginx(t *testing.T) {
	cert := testserver.NewCertificate(t)
	nginx := testserver.Nginx(t, fmt.Sprintf(`server {
	listen %s ssl http2;
	http2_max_concurrent_streams 8;
	ssl_certificate %s;
	ssl_certificate_key %s;
	location / { return 200 "ok\n"; }
}`, testserver.Listen, cert.CertFile, cert.KeyFile))
	testserver.MeasureEveryOperation(t, streamsSpec("https://"+nginx.Addr, cert.CAFile, slo.HTTPAuto, 1000, 16, 2*time.Second))
}

// Streams need HTTP/2: a server that chooses HTTP/1.1 fails
// ConnectStreams with a message that says so.
func TestStreamsOnAnHTTP1ServerFailBeforeLoad(t *testing.T) {
	srv := newServer(t, "", false)
	d, err := workloads.Open(context.Background(), spec(srv.URL, get("read", "/items/{{key}}")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.(workloads.Multiplexer).ConnectStreams(context.Background(), 4)
	if err == nil || !strings.Contains(err.Error(), "workload.streams 4 needs HTTP/2") {
		t.Fatalf("got %v, want an error saying streams need HTTP/2", err)
	}
}

// A Go server that ends connections idle for 300 ms (GOAWAY, then a
// close), with requests every half second or so on 4 streams: the reader
// sees each GOAWAY as it comes, and no request fails.
func TestHTTP2StreamsOnConnectionsTheServerEndsCostNoErrors(t *testing.T) {
	srv := newStreamServer(t, false, 0, 0, 300*time.Millisecond)
	s := streamsSpec(srv.URL, "", slo.HTTP2Cleartext, 2, 4, 3*time.Second)
	s.Component.Workload.Requests = s.Component.Workload.Requests[:1] // a handful of requests, all measured
	testserver.MeasureEveryOperation(t, s)
	if conns, _ := srv.stats(); conns < 3 {
		t.Errorf("the server saw %d connections, want 3 or more: it ended idle ones", conns)
	}
}
