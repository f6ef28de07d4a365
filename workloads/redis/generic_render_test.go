package redis

import (
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// resp renders words as a RESP command, for expectations.
func resp(words ...string) string {
	args := make([][]byte, len(words)-1)
	for i, w := range words[1:] {
		args[i] = []byte(w)
	}
	return string(appendCommand(nil, words[0], args...))
}

func TestAGenericCommandRendersItsKeysValueAndExpiryWithoutAllocating(t *testing.T) {
	spec := &workloads.Spec{Duration: time.Second, Component: slo.Component{Name: "c", Workload: slo.Workload{
		Keys: slo.Keys{Count: 45, Prefix: "p:"},
		Mix:  []slo.MixEntry{{Operation: "get", Weight: 1}, {Operation: "move", Weight: 1}, {Operation: "note", Weight: 1}},
		Commands: map[string]*slo.Command{
			"move": {Text: "SMOVE {{key}} {{key}} m1"},
			"note": {Text: `SET {{key}} "a b" EX 30`},
		},
	}}}
	ttl := "3601" // the run's second and an hour
	op := &workloads.Op{Kind: 1, Key: []byte("p:42"), KeyIndex: 42, Keys: [][]byte{[]byte("p:42"), []byte("p:17")}, Value: []byte("vv")}
	tests := []struct {
		name    string
		cluster bool
		kind    int
		want    string
	}{
		{"two keys of a set, each followed by its EXPIRE", false, 1,
			resp("SMOVE", "p:42:s", "p:17:s", "m1") + resp("EXPIRE", "p:42:s", ttl) + resp("EXPIRE", "p:17:s", ttl)},
		// Key 42's tag holds keys 40 to 44 (keys.count is 45): 17 is taken as 40 + 17 % 5.
		{"on a cluster, the second key within the first's hash tag", true, 1,
			resp("SMOVE", "p:{4}42:s", "p:{4}42:s", "m1") + resp("EXPIRE", "p:{4}42:s", ttl) + resp("EXPIRE", "p:{4}42:s", ttl)},
		{"a command with its own expiry gets no EXPIRE", false, 2, resp("SET", "p:42", "a b", "EX", "30")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newDriver(&goredis.Options{Addr: "127.0.0.1:1"}, spec, "")
			if err != nil {
				t.Fatal(err)
			}
			d.cluster = tt.cluster
			c := d.newConn(d.addr)
			kind := d.ops[tt.kind]
			got := string(c.render(nil, kind, op))
			if got != tt.want {
				t.Errorf("rendered\n\t%q\nwant\n\t%q", got, tt.want)
			}
			if got, want := d.repliesOf(kind), strings.Count(tt.want, "*"); got != want {
				t.Errorf("%d replies expected, want %d (one per command)", got, want)
			}
			buf := make([]byte, 0, 1024)
			if allocs := testing.AllocsPerRun(100, func() { buf = c.render(buf[:0], kind, op) }); allocs != 0 {
				t.Errorf("%v allocations per render", allocs)
			}
		})
	}
	// The cluster's second key when the tag is full: 17 % 10 = 7.
	spec.Component.Workload.Keys.Count = 100
	d, err := newDriver(&goredis.Options{Addr: "127.0.0.1:1"}, spec, "")
	if err != nil {
		t.Fatal(err)
	}
	d.cluster = true
	c := d.newConn(d.addr)
	got := string(c.render(nil, d.ops[1], op))
	if want := resp("SMOVE", "p:{4}42:s", "p:{4}47:s", "m1"); !strings.HasPrefix(got, want) {
		t.Errorf("rendered\n\t%q\nwant it to start\n\t%q", got, want)
	}
	if keySlot([]byte("p:{4}42:s")) != keySlot([]byte("p:{4}47:s")) {
		t.Error("the two keys are in different slots")
	}
	if d.KeysPerOp(1) != 2 || d.KeysPerOp(0) != 1 {
		t.Errorf("KeysPerOp: %d for the two-key command, %d for get; want 2 and 1", d.KeysPerOp(1), d.KeysPerOp(0))
	}
}
