package result

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
)

func TestIdentityDiffNamesEveryFieldThatChangesTheHash(t *testing.T) {
	identity := func() WorkloadIdentity {
		return WorkloadIdentity{Seed: 1, Rate: 1000, Arrival: "poisson", Connections: 8, Timeout: "1s",
			Keys: IdentityKeys{Count: 100, Distribution: "uniform", Prefix: "t:"}, ValueSize: 64, Mix: map[string]int{"get": 100}}
	}
	for _, tc := range []struct {
		name   string
		change func(a, b *WorkloadIdentity)
		want   []IdentityField
	}{
		{"the same identity has no differences", func(_, _ *WorkloadIdentity) {}, nil},
		{"an empty mix is no mix, as the hash sees it", func(a, b *WorkloadIdentity) { a.Mix, b.Mix = map[string]int{}, nil }, nil},
		{"a changed rate is named with both values", func(_, b *WorkloadIdentity) { b.Rate = 2000 },
			[]IdentityField{{"rate", 1000.0, 2000.0}}},
		{"streams are compared too", func(_, b *WorkloadIdentity) { b.Streams = 4 },
			[]IdentityField{{"streams", 0, 4}}},
		{"request compression is compared too", func(_, b *WorkloadIdentity) { b.Compression = "gzip" },
			[]IdentityField{{"compression", "", "gzip"}}},
		{"fields are listed in the result file's order", func(_, b *WorkloadIdentity) { b.ValueSize = 128; b.Seed = 2 },
			[]IdentityField{{"seed", int64(1), int64(2)}, {"value_size", 64, 128}}},
		{"a changed key generator field is one difference of keys", func(_, b *WorkloadIdentity) { b.Keys.ZipfS = 1.1 },
			[]IdentityField{{"keys", identity().Keys, IdentityKeys{Count: 100, Distribution: "uniform", Prefix: "t:", ZipfS: 1.1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := identity(), identity()
			tc.change(&a, &b)
			got := a.Diff(b)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Diff = %#v, want %#v", got, tc.want)
			}
			if (len(got) == 0) != (a.Hash() == b.Hash()) {
				t.Errorf("%d differences, but hashes %s and %s", len(got), a.Hash(), b.Hash())
			}
		})
	}
}

// identityComponent is a cache component whose identity the tests change
// one field at a time.
func identityComponent(mix ...slo.MixEntry) *slo.Component {
	return &slo.Component{Name: "c", Target: "redis://127.0.0.1:1", Workload: slo.Workload{
		Rate: 1000, Arrival: slo.ArrivalPoisson, Connections: 2, Timeout: time.Second, ValueSize: 16, MaxErrorRate: 0.5,
		Keys: slo.Keys{Count: 1000, Distribution: slo.DistributionZipf, Prefix: "tg:", ZipfS: 1.1},
		Mix:  mix,
	}}
}

// A Memcached workload's protocol and mget's batch change what is
// measured, so they change the identity; writing the defaults does not.
func TestTheMemcachedProtocolAndBatchAreOfTheIdentity(t *testing.T) {
	hash := func(change func(*slo.Workload)) string {
		c := identityComponent(slo.MixEntry{Operation: "get", Weight: 9}, slo.MixEntry{Operation: "mget", Weight: 1})
		if change != nil {
			change(&c.Workload)
		}
		return IdentityOf(c, 42, nil).Hash()
	}
	plain := hash(nil)
	for name, tt := range map[string]struct {
		change func(*slo.Workload)
		same   bool
	}{
		"protocol: text, the default": {func(w *slo.Workload) { w.Protocol = slo.MemcacheText }, true},
		"protocol: meta":              {func(w *slo.Workload) { w.Protocol = slo.MemcacheMeta }, false},
		"batch: 10, the default":      {func(w *slo.Workload) { w.Batch = slo.DefaultBatch }, true},
		"batch: 20":                   {func(w *slo.Workload) { w.Batch = 20 }, false},
	} {
		if got := hash(tt.change) == plain; got != tt.same {
			t.Errorf("%s: same identity %v, want %v", name, got, tt.same)
		}
	}
	c := identityComponent(slo.MixEntry{Operation: "get", Weight: 90}, slo.MixEntry{Operation: "set", Weight: 10})
	without := IdentityOf(c, 42, nil).Hash()
	c.Workload.Batch = 20
	if IdentityOf(c, 42, nil).Hash() != without {
		t.Error("batch changed the identity of a mix without mget")
	}
}

// TestIdentityOfAnOperationListedTwice: the engine issues an operation
// listed twice by both weights, so its identity is that of the summed mix.
func TestIdentityOfAnOperationListedTwice(t *testing.T) {
	twice := identityComponent(slo.MixEntry{Operation: "get", Weight: 1}, slo.MixEntry{Operation: "set", Weight: 2}, slo.MixEntry{Operation: "get", Weight: 1})
	summed := identityComponent(slo.MixEntry{Operation: "get", Weight: 2}, slo.MixEntry{Operation: "set", Weight: 2})
	if got, want := IdentityOf(twice, 1, nil).Mix, map[string]int{"get": 2, "set": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("mix identity %v, want %v", got, want)
	}
	if IdentityOf(twice, 1, nil).Hash() != IdentityOf(summed, 1, nil).Hash() {
		t.Error("the same issued workload hashes differently")
	}
	if a, b := twice.Share("get"), summed.Share("get"); a != b {
		t.Errorf("share of get %v listed twice, %v summed", a, b)
	}
}

// A request body carries the plan's secrets redacted, as everything in a
// result does; a header's value is never part of the identity.
func TestTheIdentityOfARequestHoldsNoSecret(t *testing.T) {
	c := &slo.Component{Name: "web", Target: "http://127.0.0.1:1", Workload: slo.Workload{
		Rate: 100, Arrival: slo.ArrivalUniform, Connections: 1, Timeout: time.Second,
		Requests: []slo.Request{{Name: "login", Method: "POST", Path: "/login", Weight: 1,
			Body: `{"token":"Sup3rSecret"}`, Headers: map[string]string{"Authorization": "Bearer Sup3rSecret"}}},
	}}
	id := IdentityOf(c, 1, []string{"Sup3rSecret"})
	b, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Sup3rSecret") {
		t.Errorf("identity %s shows the secret", b)
	}
	if got := id.Requests[0]; got.Body != `{"token":"`+slo.Redacted+`"}` || !reflect.DeepEqual(got.Headers, []string{"Authorization"}) {
		t.Errorf("request identity %+v, want the body redacted and the header's name only", got)
	}
	if IdentityOf(c, 1, []string{"Sup3rSecret"}).Hash() != id.Hash() {
		t.Error("the same workload hashes differently")
	}
}

// A streaming call's messages are part of its workload: runs that sent
// another number of messages per call are not compared. Leaving messages
// out and writing 1 are the same workload, as before messages existed.
func TestIdentityOfAStreamingCallsMessages(t *testing.T) {
	hash := func(messages int) string {
		c := &slo.Component{Name: "rpc", Workload: slo.Workload{Rate: 100,
			Requests: []slo.Request{{Name: "upload", Method: "s.S/Upload", Weight: 1, Messages: messages}}}}
		return IdentityOf(c, 1, nil).Hash()
	}
	if hash(4) == hash(8) {
		t.Error("4 and 8 messages a call hash the same")
	}
	if hash(0) != hash(1) {
		t.Error("messages left out and 1 message hash differently")
	}
}

// A generic command's text is what it sends, so it is of the identity; a
// mix without commands keeps its hash.
func TestAGenericCommandIsOfTheIdentity(t *testing.T) {
	t.Parallel()
	hash := func(text string) string {
		c := identityComponent(slo.MixEntry{Operation: "get", Weight: 9}, slo.MixEntry{Operation: "profile", Weight: 1})
		c.Workload.Commands = map[string]*slo.Command{"profile": {Text: text}}
		return IdentityOf(c, 42, nil).Hash()
	}
	if hash("HSET {{key}} a {{value}}") == hash("HSET {{key}} b {{value}}") {
		t.Error("two commands hash alike")
	}
	if id := IdentityOf(identityComponent(slo.MixEntry{Operation: "get", Weight: 1}), 42, nil); id.Commands != nil {
		t.Errorf("a mix without commands has commands %v in its identity, which would change its hash", id.Commands)
	}
}
