package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Certificate is a self-signed certificate for 127.0.0.1 and tailgate.test,
// written to files for servers and clients that take paths.
type Certificate struct {
	// CAFile holds the certificate in PEM: a client trusts it as its root.
	CAFile string
	// CertFile and KeyFile are the server's certificate and key in PEM.
	CertFile string
	KeyFile  string
	// Server is a TLS configuration serving the certificate.
	Server *tls.Config

	// cert and key sign client certificates (see Client).
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCertificate makes a certificate valid for an hour.
func NewCertificate(t testing.TB) *Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tailgate test"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		// ClientAuth too: as the issuer of Client's certificates, it must
		// allow the use it lends them (OpenSSL checks the whole chain).
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"tailgate.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, key, keyPEM := issue(t, tmpl, nil, nil)
	dir := t.TempDir()
	c := &Certificate{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "cert.pem"),
		KeyFile:  filepath.Join(dir, "key.pem"),
		Server:   &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		key:      key,
	}
	var err error
	if c.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	writeFiles(t, map[string][]byte{c.CAFile: certPEM, c.CertFile: certPEM, c.KeyFile: keyPEM})
	return c
}

// issue makes a P-256 key and the certificate of tmpl for it, valid from
// an hour ago for two hours, signed by parent and parentKey, or self-signed
// when parent is nil. It returns the certificate in DER, the key, and the
// key in PEM.
func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (der []byte, key *ecdsa.PrivateKey, keyPEM []byte) {
	t.Helper()
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	if der, err = x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// writeFiles writes each file's data, readable by the owner only.
func writeFiles(t testing.TB, files map[string][]byte) {
	t.Helper()
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// RedisTLS starts redis-server speaking TLS only, with the certificate.
func RedisTLS(t testing.TB, cert *Certificate, extraArgs ...string) *Server {
	t.Helper()
	port := FreePort(t)
	args := append([]string{"--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", cert.CertFile, "--tls-key-file", cert.KeyFile, "--tls-ca-cert-file", cert.CAFile,
		"--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--daemonize", "no",
		"--loglevel", "warning", "--dir", t.TempDir()}, extraArgs...)
	return start(t, fmt.Sprintf("127.0.0.1:%d", port), "redis-server", args...)
}

// ClientCertificate is a client certificate for mutual TLS, in PEM files.
type ClientCertificate struct {
	CertFile string
	KeyFile  string
}

// Client issues a client certificate signed by c, valid for an hour, so
// that a server trusting c as its client CA (RequireClients, redis-server
// --tls-auth-clients yes, memcached ssl_verify_mode=2) accepts it.
func (c *Certificate) Client(t testing.TB) ClientCertificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "tailgate test client"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, _, keyPEM := issue(t, tmpl, c.cert, c.key)
	dir := t.TempDir()
	cc := ClientCertificate{CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem")}
	writeFiles(t, map[string][]byte{
		cc.CertFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		cc.KeyFile:  keyPEM,
	})
	return cc
}

// RequireClients is a TLS configuration serving the certificate that
// requires every client to present a certificate c signed (see Client).
func (c *Certificate) RequireClients() *tls.Config {
	cfg := c.Server.Clone()
	pool := x509.NewCertPool()
	pool.AddCert(c.cert)
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg
}

// Roots is a pool that trusts the certificate, for a client's RootCAs.
func (c *Certificate) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.cert)
	return pool
}

// MemcachedTLS starts memcached speaking TLS only (-Z), with the
// certificate. Its extra arguments may add -o options of its own, such as
// ssl_verify_mode=2 with ssl_ca_cert to require client certificates
// (MemcachedRequireClients).
func MemcachedTLS(t testing.TB, cert *Certificate, extraArgs ...string) *Server {
	t.Helper()
	return Memcached(t, append([]string{"-Z", "-o", "ssl_chain_cert=" + cert.CertFile + ",ssl_key=" + cert.KeyFile}, extraArgs...)...)
}

// MemcachedAuthFile writes the file of users memcached's text-protocol
// authentication reads (memcached -Y file), holding the one user:password
// given, and returns its path.
func MemcachedAuthFile(t testing.TB, userPassword string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth")
	writeFiles(t, map[string][]byte{path: []byte(userPassword + "\n")})
	return path
}

// MemcachedRequireClients are the arguments that make MemcachedTLS
// require a client certificate signed by cert.
func MemcachedRequireClients(cert *Certificate) []string {
	return []string{"-o", "ssl_verify_mode=2,ssl_ca_cert=" + cert.CAFile}
}
