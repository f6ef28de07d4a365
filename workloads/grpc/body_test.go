package grpc

import (
	"strings"
	"testing"

	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// bodyMode names the way a compiled body builds its bytes.
func bodyMode(b *body) string {
	switch {
	case b.static != nil:
		return "static"
	case b.tmpl != nil:
		return "template"
	}
	return "json"
}

// checkBody builds the message for each key the way a Conn does and
// compares it with the message the JSON body gives for that key.
func checkBody(t *testing.T, b *body, jb *jsonBody, keys ...string) {
	t.Helper()
	c := &conn{d: &Driver{}}
	r := &request{body: b}
	for _, key := range keys {
		wire, _, err := c.message(r, []byte(key))
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		got := dynamicpb.NewMessage(jb.desc)
		if err := proto.Unmarshal(wire, got); err != nil {
			t.Fatalf("key %q: the built bytes do not decode: %v", key, err)
		}
		want, err := jb.decode([]byte(key))
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("key %q: built %v, the JSON says %v", key, got, want)
		}
		if b.tmpl != nil && len(wire) != b.tmpl.size(len(key)) {
			t.Fatalf("key %q: built %d bytes, size says %d", key, len(wire), b.tmpl.size(len(key)))
		}
	}
}

func descriptorOf(m proto.Message) protoreflect.MessageDescriptor {
	return m.ProtoReflect().Descriptor()
}

func TestBodiesBuildTheMessageTheJSONDescribes(t *testing.T) {
	types := dynamicpb.NewTypes(protoregistry.GlobalFiles)
	simple := descriptorOf(&testpb.SimpleRequest{})
	tests := []struct {
		name   string
		desc   protoreflect.MessageDescriptor
		body   string
		prefix string
		mode   string
	}{
		{"an empty body is the empty message", simple, "", "tailgate:", "static"},
		{"a body without the key is marshaled once", simple, `{"responseSize": 5, "payload": {"body": "aGk="}}`, "tailgate:", "static"},
		{"the key in a nested string", simple, `{"responseStatus": {"message": "{{key}}"}}`, "tailgate:", "template"},
		{"the key twice in a string among other fields", simple,
			`{"responseStatus": {"code": 3, "message": "a {{key}} b {{key}}"}, "responseSize": 9, "payload": {"body": "aGk="}, "fillUsername": true}`,
			"tailgate:", "template"},
		{"a string longer than one length byte", simple,
			`{"responseStatus": {"message": "` + strings.Repeat("x", 200) + `{{key}}"}}`, "tailgate:", "template"},
		{"a prefix JSON must escape", simple, `{"responseStatus": {"message": "{{key}}"}}`, `say "hi" \ `, "template"},
		{"the key in elements of a repeated message", descriptorOf(&testpb.ClientConfigureRequest{}),
			`{"types": ["UNARY_CALL"], "metadata": [{"type": "UNARY_CALL", "key": "k", "value": "{{key}}"}, {"key": "static", "value": "v"}, {"key": "{{key}}"}], "timeoutSec": 3}`,
			"tailgate:", "template"},
		{"the key as a map key", descriptorOf(&testpb.LoadBalancerStatsResponse{}), `{"rpcsByPeer": {"{{key}}": 1}}`, "tailgate:", "json"},
		{"the key in a number", simple, `{"responseSize": {{key}}}`, "", "json"},
		{"the key in a quoted number", simple, `{"responseSize": "{{key}}"}`, "", "json"},
		{"the key in a google.protobuf.Struct", descriptorOf(&structpb.Struct{}), `{"id": "{{key}}", "n": [1, "{{key}}"]}`, "tailgate:", "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := compileBody(tt.desc, tt.body, tt.prefix, 100, types)
			if err != nil {
				t.Fatal(err)
			}
			if got := bodyMode(b); got != tt.mode {
				t.Errorf("built the %s way, want %s", got, tt.mode)
			}
			checkBody(t, b, b.json, tt.prefix+"0", tt.prefix+"7", tt.prefix+"42", tt.prefix+"99")
		})
	}
}

func FuzzBodyTemplate(f *testing.F) {
	f.Add(`{"responseStatus": {"message": "{{key}}"}}`, "tailgate:")
	f.Add(`{"responseStatus": {"code": 2, "message": "{{key}}-{{key}}"}, "payload": {"body": "aGk="}}`, "p")
	f.Add(`{"responseSize": {{key}}}`, "")
	f.Add(`{"payload": {"type": "COMPRESSABLE"}, "responseStatus": {"message": "`+strings.Repeat("é", 70)+`{{key}}"}}`, "k/")
	types := dynamicpb.NewTypes(protoregistry.GlobalFiles)
	simple := descriptorOf(&testpb.SimpleRequest{})
	f.Fuzz(func(t *testing.T, text, prefix string) {
		b, err := compileBody(simple, text, prefix, 1000, types)
		if err != nil || b.static != nil {
			return
		}
		checkBody(t, b, b.json, prefix+"5", prefix+"50", prefix+"500", prefix+"999")
	})
}
