package slo

import (
	"path/filepath"
	"testing"
)

func TestFilesAreRelativeToThePlan(t *testing.T) {
	plan := `version: 1
components:
  - name: rpc
    target: grpcs://127.0.0.1:50051
    workload:
      rate: 10
      protoset: api.protoset
      tls: {ca_file: certs/ca.pem}
      requests:
        - {name: get, method: pkg.Service/Get, body_file: bodies/get.json}
`
	tests := []struct {
		name, file, protoset, ca, body string
	}{
		{"a plan in a directory names files beside it", filepath.Join("perf", "plan.yaml"), filepath.Join("perf", "api.protoset"), filepath.Join("perf", "certs", "ca.pem"),
			filepath.Join("perf", "bodies", "get.json")},
		{"a plan in the working directory keeps them as written", "plan.yaml", "api.protoset", filepath.Join("certs", "ca.pem"), filepath.Join("bodies", "get.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseWithEnv([]byte(plan), tt.file, nil)
			if err != nil {
				t.Fatal(err)
			}
			w := p.Components[0].Workload
			if w.Protoset != tt.protoset || w.TLS.CAFile != tt.ca {
				t.Fatalf("protoset %q, ca_file %q; want %q, %q", w.Protoset, w.TLS.CAFile, tt.protoset, tt.ca)
			}
			if r := w.Requests[0]; r.BodyPath != tt.body || r.BodyFile != "bodies/get.json" {
				t.Fatalf("body_file %q read from %q; want it kept as written and read from %q", r.BodyFile, r.BodyPath, tt.body)
			}
		})
	}
	t.Run("a plan given by an absolute path names files beside it", func(t *testing.T) {
		p, err := ParseWithEnv([]byte(plan), "/etc/tailgate/plan.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Components[0].Workload.Protoset; got != "/etc/tailgate/api.protoset" {
			t.Fatalf("protoset %q", got)
		}
	})
}
