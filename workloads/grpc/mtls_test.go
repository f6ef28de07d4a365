package grpc

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// A server that requires a client certificate takes tailgate's calls with
// tls.cert_file and key_file, and refuses them without.
func TestMutualTLS(t *testing.T) {
	cert := testserver.NewCertificate(t)
	client := cert.Client(t)
	srv := startServer(t, "", reflectionBoth, grpc.Creds(credentials.NewTLS(cert.RequireClients())))
	testserver.CheckClientCertificates(t, cert, client, func(t *testing.T, settings slo.TLS) (workloads.Driver, error) {
		s := spec("grpcs://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))
		s.Component.Workload.TLS = settings
		return testserver.DoOnce(t, s)
	})
}
