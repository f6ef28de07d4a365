package http_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	httpdriver "github.com/tailgate-dev/tailgate/workloads/http"
)

// serveOnly starts a net/http server speaking only the given protocols,
// over TLS when cert is given; it stops with the test.
func serveOnly(t *testing.T, protocols func(*http.Protocols), cert *testserver.Certificate) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	protocols(&p)
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		Protocols: &p,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	if cert != nil {
		srv.TLSConfig = cert.Server.Clone()
		go srv.ServeTLS(l, "", "")
	} else {
		go srv.Serve(l)
	}
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// A server that speaks only HTTP/2, spoken to in HTTP/1.1, is not
// "unreachable … EOF": Connect says what it speaks, how it showed it, and
// which workload.protocol would speak to it.
func TestAnHTTP2OnlyServerIsNamedAtConnect(t *testing.T) {
	cert := testserver.NewCertificate(t)
	grpcListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcServer := grpc.NewServer()
	go grpcServer.Serve(grpcListener)
	t.Cleanup(grpcServer.Stop)
	tests := []struct {
		name     string
		target   string
		protocol slo.WireProtocol
		want     string
	}{
		{"TLS, h2 alone by ALPN, protocol http1",
			"https://" + serveOnly(t, func(p *http.Protocols) { p.SetHTTP2(true) }, cert), slo.HTTP1,
			"offers h2 by ALPN: set workload.protocol to auto or h2"},
		{"h2c alone, in the clear",
			"http://" + serveOnly(t, func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }, nil), slo.HTTPAuto,
			"without TLS (h2c): it ended the connection on an HTTP/1.1 request and answered the HTTP/2 connection preface with a SETTINGS frame: set workload.protocol to h2c"},
		{"a gRPC server, answering with frames",
			"http://" + grpcListener.Addr().String(), "",
			"answered an HTTP/1.1 request with HTTP/2 frames (SETTINGS first)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(tt.target, get("read", "/"))
			s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
			s.Component.Workload.Protocol = tt.protocol
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d, err := workloads.Open(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, err := d.Connect(ctx)
			if err == nil {
				c.Close()
				t.Fatal("Connect succeeded")
			}
			if !errors.Is(err, httpdriver.ErrHTTP2Only) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "EOF") {
				t.Fatalf("got %q, want ErrHTTP2Only saying %q", err, tt.want)
			}
		})
	}
	t.Run("a server speaking both is used over HTTP/1.1 when the plan says http1", func(t *testing.T) {
		addr := serveOnly(t, func(p *http.Protocols) { p.SetHTTP1(true); p.SetHTTP2(true) }, cert)
		s := spec("https://"+addr, get("read", "/"))
		s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
		s.Component.Workload.Protocol = slo.HTTP1
		_, c := testserver.Connect(t, s)
		if err := do(c, 0, "tailgate:1"); err != nil {
			t.Fatal(err)
		}
	})
}
