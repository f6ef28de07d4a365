package slo

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMemcachedKeysAndUnixTargetsAreDecoded(t *testing.T) {
	p, _, err := parseTestdata(t, "testdata/memcache.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := p.Component("sessions").Workload
	if w.Protocol != MemcacheMeta || w.Batch != 20 {
		t.Errorf("protocol %q, batch %d; want meta, 20", w.Protocol, w.Batch)
	}
	wantMix := []MixEntry{{"get", 40}, {"mget", 10}, {"set", 20}, {"add", 5}, {"replace", 5}, {"delete", 5}, {"incr", 10}, {"touch", 5}}
	if !reflect.DeepEqual(w.Mix, wantMix) {
		t.Errorf("mix %v, want %v", w.Mix, wantMix)
	}
	// A plan read from a directory finds the client certificate beside it,
	// as it does the CA.
	p2, err := ParseWithEnv([]byte(`version: 1
components:
  - name: mc
    target: memcaches://127.0.0.1:11211
    workload: {rate: 10, tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}}
`), filepath.Join("perf", "plan.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantTLS := TLS{CAFile: filepath.Join("perf", "ca.pem"), CertFile: filepath.Join("perf", "client.pem"), KeyFile: filepath.Join("perf", "client-key.pem")}
	if got := p2.Components[0].Workload.TLS; got != wantTLS {
		t.Errorf("tls %+v, want %+v", got, wantTLS)
	}
	for name, want := range map[string]string{"local-mc": ProtocolMemcache, "local-redis": ProtocolRedis} {
		if got, err := Protocol(p.Component(name).Target); got != want || err != nil {
			t.Errorf("%s: Protocol = %q, %v; want %q", name, got, err, want)
		}
	}
	if w := p.Component("local-mc").Workload; w.Batch != 0 || w.Protocol != MemcacheText {
		t.Errorf("local-mc: batch %d (want 0: the default), protocol %q", w.Batch, w.Protocol)
	}
	if !contains(p.Secrets, "pa55") {
		t.Errorf("the memcaches:// password is not among the secrets %q", p.Secrets)
	}
}

func TestMixOperationsArePerProtocol(t *testing.T) {
	if got := MixOperations(ProtocolMemcache); !reflect.DeepEqual(got, []string{"get", "mget", "set", "add", "replace", "delete", "incr", "touch"}) {
		t.Errorf("memcache: %v", got)
	}
	if got := MixOperations(ProtocolRedis); !contains(got, "del") || contains(got, "touch") {
		t.Errorf("redis: %v", got)
	}
}

func TestUnixTargets(t *testing.T) {
	for _, tt := range []struct{ target, want, err string }{
		{target: "memcache+unix:///tmp/mc.sock", want: ProtocolMemcache},
		{target: "redis+unix:///tmp/redis.sock?db=1", want: ProtocolRedis},
		{target: "redis+cluster://10.0.0.1:7000,10.0.0.2:7000", want: ProtocolRedis},
		{target: "rediss+cluster://u:pw@10.0.0.1:7000", want: ProtocolRedis},
		{target: "redis+cluster:///tmp/x.sock", err: "has no host"},
		{target: "redis+unix://:pw@/tmp/redis.sock", want: ProtocolRedis},
		{target: "memcache+unix://", err: "names no absolute socket path"},
		{target: "memcache+unix:relative.sock", err: "names no absolute socket path"},
		{target: "redis+unix://host:6379/tmp/x.sock", err: "or names a host"},
	} {
		t.Run(tt.target, func(t *testing.T) {
			got, err := Protocol(tt.target)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Protocol = %q, %v; want an error containing %q", got, err, tt.err)
			case tt.err == "" && (err != nil || got != tt.want):
				t.Fatalf("Protocol = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
