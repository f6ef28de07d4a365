package grpc

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/slo"
)

// A request message's JSON comes from its body_file, read before load,
// with {{key}} replaced in it as in an inline body: here a 1 MiB payload
// (under grpc-go's 4 MiB receive limit).
func TestARequestBodyFromAFile(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	payload := strings.Repeat("tailgate", 1<<17)
	body := `{"payload": {"body": "` + base64.StdEncoding.EncodeToString([]byte(payload)) + `"}, "responseStatus": {"message": "{{key}}"}}`
	file := filepath.Join(t.TempDir(), "unary.json")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := connect(t, spec("grpc://"+srv.addr, slo.Request{Name: "big", Method: unaryCall, BodyFile: "unary.json", BodyPath: file}))
	for i := range 2 {
		key := "tailgate:" + strconv.Itoa(i)
		if err := do(c, 0, key); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		req, _ := srv.svc.last(t)
		if string(req.GetPayload().GetBody()) != payload || req.GetResponseStatus().GetMessage() != key {
			t.Fatalf("call %d: the server got %d payload bytes and message %q", i, len(req.GetPayload().GetBody()), req.GetResponseStatus().GetMessage())
		}
	}
}
