package grpc

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
)

// A server that requires a client certificate takes tailgate's calls with
// tls.cert_file and key_file, and refuses them without.
func TestMutualTLS(t *testing.T) {
	cert := testserver.NewCertificate(t)
	client := cert.Client(t)
	srv := startServer(t, "", reflectionBoth, grpc.Creds(credentials.NewTLS(cert.RequireClients())))
	run := func(tlsSettings slo.TLS) error {
		s := spec("grpcs://"+srv.addr, call("unary", unaryCall, `{"responseStatus": {"message": "{{key}}"}}`))
		s.Component.Workload.TLS = tlsSettings
		_, err := testserver.DoOnce(t, s)
		return err
	}
	if err := run(slo.TLS{CAFile: cert.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	err := run(slo.TLS{CAFile: cert.CAFile})
	if err == nil {
		t.Fatal("a call without a client certificate was taken")
	}
	t.Logf("without a client certificate: %v", err)
}
