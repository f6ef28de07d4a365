package workloads

import (
	"reflect"
	"testing"

	"github.com/tailgate-dev/tailgate/slo"
)

// TestIdentityOfAnOperationListedTwice: the engine issues an operation
// listed twice by both weights, so its identity is that of the summed mix.
func TestIdentityOfAnOperationListedTwice(t *testing.T) {
	spec := func(mix ...slo.MixEntry) *Spec {
		return &Spec{Component: slo.Component{Name: "cache", Workload: slo.Workload{Rate: 100, Mix: mix}}, Seed: 1}
	}
	twice := spec(slo.MixEntry{Operation: "get", Weight: 1}, slo.MixEntry{Operation: "set", Weight: 2}, slo.MixEntry{Operation: "get", Weight: 1})
	summed := spec(slo.MixEntry{Operation: "get", Weight: 2}, slo.MixEntry{Operation: "set", Weight: 2})
	if got, want := twice.Identity().Mix, map[string]int{"get": 2, "set": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("mix identity %v, want %v", got, want)
	}
	if twice.Identity().Hash() != summed.Identity().Hash() {
		t.Error("the same issued workload hashes differently")
	}
	if a, b := twice.Component.Share("get"), summed.Component.Share("get"); a != b {
		t.Errorf("share of get %v listed twice, %v summed", a, b)
	}
}

// A streaming call's messages are part of its workload: runs that sent
// another number of messages per call are not compared. Leaving messages
// out and writing 1 are the same workload, as before messages existed.
func TestIdentityOfAStreamingCallsMessages(t *testing.T) {
	spec := func(messages int) *Spec {
		return &Spec{Component: slo.Component{Name: "rpc", Workload: slo.Workload{Rate: 100,
			Requests: []slo.Request{{Name: "upload", Method: "s.S/Upload", Weight: 1, Messages: messages}}}}, Seed: 1}
	}
	if spec(4).Identity().Hash() == spec(8).Identity().Hash() {
		t.Error("4 and 8 messages a call hash the same")
	}
	if spec(0).Identity().Hash() != spec(1).Identity().Hash() {
		t.Error("messages left out and 1 message hash differently")
	}
}
