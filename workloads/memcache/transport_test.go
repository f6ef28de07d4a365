package memcache_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// connectErr opens the driver for s and one connection, and returns the
// error of either.
func connectErr(t *testing.T, s *workloads.Spec) error {
	t.Helper()
	_, _, err := testserver.Dial(t, s)
	return err
}

// measureDescribed opens the driver of s, checks that it describes its
// target as want, and measures every operation of s.
func measureDescribed(t *testing.T, s *workloads.Spec, want string) {
	t.Helper()
	d, err := workloads.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Describe(); got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	testserver.MeasureEveryOperation(t, s)
}

// memcaches:// loads Debian's memcached over TLS (-Z), in each protocol,
// and with a client certificate one that requires it
// (ssl_verify_mode=2), which refuses a connection without.
func TestMemcachedOverTLS(t *testing.T) {
	t.Parallel()
	cert := testserver.NewCertificate(t)
	t.Run("server certificate", func(t *testing.T) {
		srv := testserver.MemcachedTLS(t, cert)
		for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
			s := everySpec("memcaches://"+srv.Addr, protocol)
			s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
			testserver.MeasureEveryOperation(t, s)
		}
		untrusted := spec("memcaches://" + srv.Addr)
		if err := connectErr(t, untrusted); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("a server the system roots do not trust: got %v, want a certificate error", err)
		}
	})
	t.Run("client certificate", func(t *testing.T) {
		client := cert.Client(t)
		srv := testserver.MemcachedTLS(t, cert, testserver.MemcachedRequireClients(cert)...)
		s := spec("memcaches://" + srv.Addr)
		s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile}
		testserver.MeasureEveryOperation(t, s)
		without := spec("memcaches://" + srv.Addr)
		without.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
		err := connectErr(t, without)
		if err == nil {
			t.Fatal("a connection without a client certificate was taken")
		}
		t.Logf("without a client certificate: %v", err)
	})
}

// memcached's text-protocol authentication (-Y): the URL's user and
// password log every connection in, over TCP and TLS; a wrong password is
// refused in the server's words and never shown; and a server without -Y
// is never sent the credentials, which it would store as a value.
func TestTextProtocolAuthentication(t *testing.T) {
	t.Parallel()
	authFile := testserver.MemcachedAuthFile(t, "gate:pw-gate-1")
	cert := testserver.NewCertificate(t)
	for _, tt := range []struct {
		name   string
		scheme string
		srv    func(t *testing.T) *testserver.Server
	}{
		{"over TCP", "memcache", func(t *testing.T) *testserver.Server { return testserver.Memcached(t, "-Y", authFile) }},
		{"over TLS", "memcaches", func(t *testing.T) *testserver.Server { return testserver.MemcachedTLS(t, cert, "-Y", authFile) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.srv(t)
			s := everySpec(tt.scheme+"://gate:pw-gate-1@"+srv.Addr, slo.MemcacheText)
			s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
			s.Secrets = []string{"pw-gate-1"}
			testserver.MeasureEveryOperation(t, s)

			wrong := spec(tt.scheme + "://gate:pw-wrong-2@" + srv.Addr)
			wrong.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
			err := connectErr(t, wrong)
			if err == nil || !strings.Contains(err.Error(), `refused user "gate": memcache CLIENT_ERROR: authentication failure`) {
				t.Fatalf("a wrong password: got %v", err)
			}
			if strings.Contains(err.Error(), "pw-wrong-2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	t.Run("a server that requires none", func(t *testing.T) {
		srv := testserver.Memcached(t)
		s := spec("memcache://gate:pw-gate-1@" + srv.Addr)
		measureDescribed(t, s, "memcache://gate:xxxxx@"+srv.Addr)
		for _, key := range serverKeys(t, "tcp", srv.Addr) {
			if !strings.HasPrefix(key, "tailgate:") {
				t.Errorf("key %q outside the prefix: the credentials were stored", key)
			}
		}
	})
}

// memcache+unix:// loads a memcached listening on a unix socket only.
func TestAUnixSocketTarget(t *testing.T) {
	t.Parallel()
	srv := testserver.MemcachedUnix(t)
	for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
		s := everySpec("memcache+unix://"+srv.Addr, protocol)
		measureDescribed(t, s, "memcache+unix://"+srv.Addr)
	}
	keysUnderThePrefix(t, "unix", srv.Addr)
}
