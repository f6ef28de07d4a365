package http_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// A 5 MB request body comes from its body_file, read once before load,
// with {{key}} replaced in it: over HTTP/1.1, h2c and h2 over TLS. The
// plan's 1 MiB limit does not apply to it.
func TestA5MBRequestFromAFile(t *testing.T) {
	dir := t.TempDir()
	chunk := strings.Repeat("tailgate", 1<<17) // 1 MiB
	body := `{"id":"{{key}}","blob":"` + strings.Repeat(chunk, 5) + `"}`
	if err := os.WriteFile(filepath.Join(dir, "upload.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	upload := slo.Request{Name: "upload", Method: "POST", Path: "/items/{{key}}", BodyFile: "upload.json", BodyPath: filepath.Join(dir, "upload.json")}
	http1 := newServer(t, "", false)
	h2c, _ := newH2Server(t, false, nil)
	h2tls, ca := newH2Server(t, true, nil)
	for _, tt := range []struct {
		name     string
		srv      *server
		ca       string
		protocol slo.WireProtocol
		major    int
	}{
		{"HTTP/1.1", http1, "", slo.HTTPAuto, 1},
		{"h2c", h2c, "", slo.HTTP2Cleartext, 2},
		{"h2 over TLS", h2tls, ca, slo.HTTP2, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := h2Spec(tt.srv.URL, tt.ca, tt.protocol, upload)
			s.Component.Workload.Timeout = 10 * time.Second
			_, c := testserver.Connect(t, s)
			for _, key := range []string{"tailgate:1", "tailgate:2"} {
				if err := do(c, 0, key); err != nil {
					t.Fatal(err)
				}
				got := tt.srv.last(t)
				want := strings.ReplaceAll(body, "{{key}}", key)
				if got.ProtoMajor != tt.major || got.Body != want || got.URI != "/items/"+key {
					t.Fatalf("the server got HTTP/%d %s, %d bytes (equal: %v); want HTTP/%d, the file's %d with the key", got.ProtoMajor, got.URI,
						len(got.Body), got.Body == want, tt.major, len(want))
				}
			}
		})
	}
	if s := spec(http1.URL, upload); len(s.Component.Workload.Requests[0].Body) != 0 {
		t.Fatal("the plan's request holds the file's body")
	}
}

// A body_file that cannot be read fails Open, naming the request and the
// file as the plan writes it.
func TestABodyFileThatCannotBeRead(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, bytes.Repeat([]byte{'x'}, workloads.MaxBodyFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, file, path, want string
	}{
		{"missing", "missing.json", filepath.Join(dir, "missing.json"), `request "upload": body_file "missing.json": open `},
		{"too large", "big.bin", big, `request "upload": body_file "big.bin": over 67108864 bytes`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("http://127.0.0.1:1", slo.Request{Name: "upload", Method: "POST", Path: "/", BodyFile: tt.file, BodyPath: tt.path})
			if _, err := workloads.Open(t.Context(), s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
