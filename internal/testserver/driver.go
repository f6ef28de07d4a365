package testserver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// RequestSpec is a small workload of an HTTP or gRPC component: the given
// requests (weight 1 where none is set) against target at 200 operations a
// second over 2 connections for one second, with 1 s timeouts.
func RequestSpec(component, target string, requests ...slo.Request) *workloads.Spec {
	for i := range requests {
		if requests[i].Weight == 0 {
			requests[i].Weight = 1
		}
	}
	return &workloads.Spec{
		Component: slo.Component{
			Name:   component,
			Target: target,
			Workload: slo.Workload{
				Rate:         200,
				Arrival:      slo.ArrivalUniform,
				Connections:  2,
				Timeout:      time.Second,
				Keys:         slo.Keys{Count: 100, Distribution: slo.DistributionUniform, Prefix: "tailgate:"},
				Requests:     requests,
				MaxErrorRate: 0.5,
			},
		},
		Duration: time.Second,
		Seed:     1,
	}
}

// Dial opens the driver for spec and one connection of it, within 5 s, and
// returns the first error. What it opened is closed with the test; on an
// error of Open the driver is nil, and on one of Connect the connection.
func Dial(t testing.TB, spec *workloads.Spec) (workloads.Driver, workloads.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { d.Close() })
	c, err := d.Connect(ctx)
	if err != nil {
		return d, nil, err
	}
	t.Cleanup(func() { c.Close() })
	return d, c, nil
}

// Connect is Dial that fails the test on an error.
func Connect(t testing.TB, spec *workloads.Spec) (workloads.Driver, workloads.Conn) {
	t.Helper()
	d, c, err := Dial(t, spec)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return d, c
}

// DoOnce dials spec and sends one operation of its first kind, for the key
// "tailgate:1". It returns the driver (nil when Open failed) and the first
// error, so that a test can check how a target refuses.
func DoOnce(t testing.TB, spec *workloads.Spec) (workloads.Driver, error) {
	t.Helper()
	d, c, err := Dial(t, spec)
	if err != nil {
		return d, err
	}
	return d, c.Do(context.Background(), &workloads.Op{Kind: 0, Key: []byte("tailgate:1")})
}

// timesOutWithin is how soon CheckTimesOut's operation must time out: the
// server answers later, and the workload's timeout is shorter.
const timesOutWithin = time.Second

// CheckTimesOut sends one operation of the first kind on c, for the key
// "tailgate:1", to a server that answers it later than timesOutWithin, on a
// workload whose timeout is shorter: it must fail as a timeout, within
// timesOutWithin.
func CheckTimesOut(t *testing.T, c workloads.Conn) {
	t.Helper()
	began := time.Now()
	err := c.Do(context.Background(), &workloads.Op{Kind: 0, Key: []byte("tailgate:1")})
	if kind := workloads.ErrorKind(err); kind != workloads.KindTimeout {
		t.Fatalf("got %v (kind %q), want a timeout", err, kind)
	}
	if took := time.Since(began); took > timesOutWithin {
		t.Errorf("the operation timed out after %s, not within %s: the workload's timeout, shorter than that, did not end it", took, timesOutWithin)
	}
}

// Run runs spec once, bounded at 30 s past its warmup and duration, fails
// the test on an error and returns the component's result.
func Run(t testing.TB, spec *workloads.Spec) *result.ComponentResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), spec.Warmup+spec.Duration+30*time.Second)
	defer cancel()
	res, err := workloads.Run(ctx, []*workloads.Spec{spec}, workloads.Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	comp := res.Component(spec.Component.Name)
	if comp == nil {
		t.Fatalf("no result for component %q", spec.Component.Name)
	}
	return comp
}

// CheckClientCertificates holds a driver to a server that requires a
// client certificate signed by cert (see Certificate.RequireClients): an
// operation with client's certificate and key is taken, and one with the
// CA file alone is refused. try sends one operation with the given
// settings (see DoOnce).
func CheckClientCertificates(t *testing.T, cert *Certificate, client ClientCertificate, try func(t *testing.T, settings slo.TLS) (workloads.Driver, error)) {
	t.Helper()
	if _, err := try(t, slo.TLS{CAFile: cert.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	_, err := try(t, slo.TLS{CAFile: cert.CAFile})
	if err == nil {
		t.Fatal("an operation without a client certificate was taken")
	}
	t.Logf("without a client certificate: %v", err)
}

// CheckTLSSettings holds a driver to the plan's tls settings against a
// server whose certificate is in the file ca and valid for serverName but
// not for the target's host name. try sends one operation with the given
// settings (see DoOnce). Every TLS driver answers the same way: the CA file
// is trusted; a server name is checked instead of the host; the system
// roots do not trust the test certificate; insecure_skip_verify connects and its description says so; and a CA file
// that is missing or holds no certificate is refused.
func CheckTLSSettings(t *testing.T, ca, serverName string, try func(t *testing.T, settings slo.TLS) (workloads.Driver, error)) {
	t.Helper()
	t.Run("a CA file is trusted", func(t *testing.T) {
		if _, err := try(t, slo.TLS{CAFile: ca}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a server name is checked instead of the host", func(t *testing.T) {
		if _, err := try(t, slo.TLS{CAFile: ca, ServerName: serverName}); err != nil {
			t.Fatal(err)
		}
		if _, err := try(t, slo.TLS{CAFile: ca, ServerName: "other.invalid"}); err == nil || !strings.Contains(err.Error(), "not other.invalid") {
			t.Fatalf("got %v, want a certificate name error", err)
		}
	})
	t.Run("the system roots do not trust the test certificate", func(t *testing.T) {
		if _, err := try(t, slo.TLS{}); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("got %v, want a certificate error", err)
		}
	})
	t.Run("insecure_skip_verify connects and says so", func(t *testing.T) {
		d, err := try(t, slo.TLS{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d.Describe(), "certificate checks off") {
			t.Errorf("Describe = %q", d.Describe())
		}
	})
	t.Run("a CA file that is missing or holds no certificate", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "empty.pem")
		writeFiles(t, map[string][]byte{empty: []byte("not a certificate")})
		for _, file := range []string{filepath.Join(t.TempDir(), "absent.pem"), empty} {
			if _, err := try(t, slo.TLS{CAFile: file}); err == nil || !strings.Contains(err.Error(), "ca_file") {
				t.Errorf("%s: got %v, want a ca_file error", filepath.Base(file), err)
			}
		}
	})
}
