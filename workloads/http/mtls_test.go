package http_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

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
	testserver.CheckClientCertificates(t, cert, client, func(t *testing.T, settings slo.TLS) (workloads.Driver, error) {
		s := spec(hs.URL, get("read", "/items/{{key}}"))
		s.Component.Workload.TLS = settings
		return testserver.DoOnce(t, s)
	})
}
