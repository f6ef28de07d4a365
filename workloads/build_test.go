package workloads

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// TestNotRunResultIsAResultFile: a run that measured nothing still leaves a
// sound, incomplete result naming every operation, with no secret in it.
func TestNotRunResultIsAResultFile(t *testing.T) {
	p, err := slo.Parse([]byte(`version: 1
components:
  - name: cache
    target: redis://:Sup3rSecretPw@127.0.0.1:1/0
    workload: {rate: 100, mix: {get: 3, set: 1}}
    slo: {minimum: {all: {error_rate: 1%}}}
`), "plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := &Spec{Component: p.Components[0], Duration: time.Second, Seed: 1, Secrets: p.Secrets}
	r := NotRunResult([]*Spec{spec}, time.Unix(0, 0), "target unreachable: redis://:Sup3rSecretPw@127.0.0.1:1/0 refused", "tailgate test")
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := result.Decode(data)
	if err != nil {
		t.Fatalf("the result does not read back: %v", err)
	}
	if back.Complete || back.Verdict != status.VerdictError || back.Incomplete == "" {
		t.Errorf("complete %v verdict %q reason %q", back.Complete, back.Verdict, back.Incomplete)
	}
	c := back.Components[0]
	if len(c.Operations) != 3 || c.Operation("set") == nil || c.Operation(slo.AllOperations) == nil || c.Operation("get").AskedRate != 75 {
		t.Errorf("operations %+v", c.Operations)
	}
	for _, op := range c.Operations {
		if _, err := op.WholeHistogram(); err != nil {
			t.Errorf("%s: %v", op.Name, err)
		}
	}
	if strings.Contains(string(data), "Sup3rSecretPw") {
		t.Errorf("the secret is in the result: %s", data)
	}
	if c.WorkloadHash != spec.Identity().Hash() {
		t.Error("the result carries the workload's identity, so check can judge it against its plan")
	}
}

// TestNotRunResultRedactsEveryFormOfTheTargetsSecret: the reason a run did
// not start may quote the target as written, percent-encoding included; a
// token given as the user alone is a secret in that form too, even when the
// spec lists no secrets of its own.
func TestNotRunResultRedactsEveryFormOfTheTargetsSecret(t *testing.T) {
	for _, target := range []string{
		"redis://T%40KEN@127.0.0.1:1/0",
		"redis://:p%40ss%2Fw0rd@127.0.0.1:1/0",
		"redis://user:p%40ss@127.0.0.1:1/0",
	} {
		t.Run(target, func(t *testing.T) {
			spec := &Spec{Component: slo.Component{Name: "cache", Target: target,
				Workload: slo.Workload{Rate: 10, Mix: []slo.MixEntry{{Operation: "get", Weight: 1}}}}, Duration: time.Second}
			r := NotRunResult([]*Spec{spec}, time.Unix(0, 0), "dialing "+target+" (as given: "+strings.TrimPrefix(target, "redis://")+"): refused", "tailgate test")
			data, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range slo.TargetSecrets(target) {
				if strings.Contains(string(data), secret) {
					t.Errorf("the secret %q is in the result: %s", secret, r.Incomplete)
				}
			}
		})
	}
}
