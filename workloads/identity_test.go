package workloads

import (
	"testing"

	"github.com/tailgate-dev/tailgate/slo"
)

// A Memcached workload's protocol and mget's batch change what is
// measured, so they change the identity; writing the defaults does not.
func TestTheMemcachedProtocolAndBatchAreOfTheIdentity(t *testing.T) {
	base := func(change func(*slo.Workload)) string {
		s := testSpec(slo.ArrivalPoisson, 1000)
		s.Component.Workload.Mix = []slo.MixEntry{{Operation: "get", Weight: 9}, {Operation: "mget", Weight: 1}}
		if change != nil {
			change(&s.Component.Workload)
		}
		return s.Identity().Hash()
	}
	plain := base(nil)
	for name, tt := range map[string]struct {
		change func(*slo.Workload)
		same   bool
	}{
		"protocol: text, the default": {func(w *slo.Workload) { w.Protocol = slo.MemcacheText }, true},
		"protocol: meta":              {func(w *slo.Workload) { w.Protocol = slo.MemcacheMeta }, false},
		"batch: 10, the default":      {func(w *slo.Workload) { w.Batch = slo.DefaultBatch }, true},
		"batch: 20":                   {func(w *slo.Workload) { w.Batch = 20 }, false},
	} {
		if got := base(tt.change) == plain; got != tt.same {
			t.Errorf("%s: same identity %v, want %v", name, got, tt.same)
		}
	}
	s := testSpec(slo.ArrivalPoisson, 1000)
	without := s.Identity().Hash()
	s.Component.Workload.Batch = 20
	if s.Identity().Hash() != without {
		t.Error("batch changed the identity of a mix without mget")
	}
}
