package workloads

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/tailgate-dev/tailgate/slo"
)

// TLSConfig builds a client's TLS settings from the plan: the system's roots
// unless a CA file is given, the URL's host unless a server name is,
// certificate checks off only when the plan says insecure_skip_verify, and
// the client certificate of cert_file and key_file, when given, for servers
// that ask for one (mutual TLS).
func TLSConfig(t slo.TLS) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %q: no PEM certificate in it", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file %q and key_file %q: %w", t.CertFile, t.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
