package http_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
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
		_, err := testserver.DoOnce(t, s)
		return err
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
