package http_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// A server that requires a client certificate takes tailgate's requests
// with tls.cert_file and key_file, and refuses them without.
func TestMutualTLS(t *testing.T) {
	cert := testserver.NewCertificate(t)
	client := cert.Client(t)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusForbidden)
		}
	}))
	hs.TLS = cert.RequireClients()
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	hs.StartTLS()
	defer hs.Close()
	request := func(tls slo.TLS) error {
		s := spec(hs.URL, get("read", "/items/{{key}}"))
		s.Component.Workload.TLS = tls
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d, err := workloads.Open(ctx, s)
		if err != nil {
			return err
		}
		defer d.Close()
		c, err := d.Connect(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return do(c, 0, "tailgate:1")
	}
	if err := request(slo.TLS{CAFile: cert.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	err := request(slo.TLS{CAFile: cert.CAFile})
	if err == nil {
		t.Fatal("a request without a client certificate was taken")
	}
	t.Logf("without a client certificate: %v", err)
}
