package grpc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // the servers' gzip
	"google.golang.org/grpc/stats"

	"github.com/tailgate-dev/tailgate/workloads"
)

// requestEncodings is a server stats handler that keeps the grpc-encoding
// of every UnaryCall it receives.
type requestEncodings struct {
	mu  sync.Mutex
	got []string
}

func (h *requestEncodings) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}
func (h *requestEncodings) HandleRPC(_ context.Context, s stats.RPCStats) {
	if in, ok := s.(*stats.InHeader); ok && strings.HasSuffix(in.FullMethod, "/UnaryCall") {
		h.mu.Lock()
		h.got = append(h.got, in.Compression)
		h.mu.Unlock()
	}
}
func (h *requestEncodings) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (h *requestEncodings) HandleConn(context.Context, stats.ConnStats) {}

func (h *requestEncodings) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// A grpc-go server that gzips its replies: every call accepts gzip, so the
// server may (grpc.SetSendCompressor fails for a client that does not,
// with the "client does not support compressor" of the issue), and the
// compressed replies are decompressed and taken. With compression: gzip
// the requests are compressed too, static bodies and templates alike.
func TestAGzipCompressingServer(t *testing.T) {
	for _, tt := range []struct {
		name        string
		compression string
		want        string // the requests' grpc-encoding
	}{
		{"replies compressed, requests not", "", ""},
		{"replies and requests compressed", "gzip", "gzip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			encodings := &requestEncodings{}
			srv := startServer(t, "", reflectionBoth, grpc.StatsHandler(encodings))
			srv.svc.compress = true
			s := spec("grpc://"+srv.addr,
				call("template", unaryCall, `{"responseSize": 100000, "responseStatus": {"message": "{{key}}"}}`),
				call("static", unaryCall, `{"responseSize": 1000, "payload": {"body": "dGFpbGdhdGU="}}`))
			s.Component.Workload.Compression = tt.compression
			conns := []workloads.Conn{connect(t, s)}
			for i := range 3 {
				for _, c := range conns {
					key := "tailgate:" + string(rune('a'+i))
					doEchoed(t, srv, c, key)
					if err := do(c, 1, key); err != nil {
						t.Fatalf("static: %v", err)
					}
					if req, _ := srv.svc.last(t); string(req.GetPayload().GetBody()) != "tailgate" {
						t.Fatalf("the server got %v", req)
					}
				}
			}
			if n := srv.svc.compressErrs.Load(); n != 0 {
				t.Errorf("the server could not compress %d replies: the client did not accept gzip", n)
			}
			if conns[0].(*conn).gunzip == nil {
				t.Error("no reply was decompressed")
			}
			got := encodings.all()
			if len(got) != 6*len(conns) {
				t.Fatalf("the server saw %d calls, want %d", len(got), 6*len(conns))
			}
			for i, e := range got {
				if e != tt.want {
					t.Fatalf("call %d came with grpc-encoding %q, want %q", i, e, tt.want)
				}
			}
		})
	}
}

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// framed is b as a gRPC message with the flag byte given.
func framed(flag byte, b []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{flag}, uint32(len(b))), b...)
}

// A compressed reply is checked: one that does not decompress, or whose
// codec was not offered, or that says it is compressed without a codec,
// fails its call, as it fails grpc-go's client; the connection carries the
// next call.
func TestCompressedRepliesAreChecked(t *testing.T) {
	good := gzipped([]byte("\x0a\x03abc"))
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-5] ^= 0xff // the CRC no longer matches
	replies := map[string]struct {
		encoding string
		body     []byte
	}{
		"/svc.S/Good":          {"gzip", append(framed(1, good), framed(0, []byte("\x0a\x01x"))...)},
		"/svc.S/Corrupt":       {"gzip", framed(1, corrupt)},
		"/svc.S/NotGzip":       {"gzip", framed(1, []byte("tailgate"))},
		"/svc.S/NoEncoding":    {"", framed(1, good)},
		"/svc.S/Brotli":        {"br", framed(1, good)},
		"/svc.S/BadFlag":       {"", framed(2, []byte("x"))},
		"/svc.S/Cut":           {"gzip", framed(1, good)[:8]},
		"/svc.S/Uncompressed":  {"gzip", framed(0, []byte("\x0a\x01x"))},
		"/svc.S/GoodAndBroken": {"gzip", append(framed(1, good), framed(1, corrupt)...)},
	}
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == healthCheck {
			grpcAnswer(w, 0, "")
			return
		}
		if got := r.Header.Get("Grpc-Accept-Encoding"); got != "gzip" {
			grpcAnswer(w, int(codes.InvalidArgument), "grpc-accept-encoding "+got)
			return
		}
		reply := replies[r.URL.Path]
		w.Header().Set("Content-Type", "application/grpc")
		if reply.encoding != "" {
			w.Header().Set("Grpc-Encoding", reply.encoding)
		}
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(http.StatusOK)
		w.Write(reply.body)
		w.Header().Set("Grpc-Status", "0")
	})
	tests := []struct {
		path       string
		wantKind   string
		wantDetail string
	}{
		{"/svc.S/Good", "", ""},
		{"/svc.S/Uncompressed", "", ""},
		{"/svc.S/Corrupt", "grpc Internal", "failed to decompress the received message: gzip: invalid checksum"},
		{"/svc.S/NotGzip", "grpc Internal", "failed to decompress the received message"},
		{"/svc.S/NoEncoding", "grpc Internal", "compressed flag set with identity or empty encoding"},
		{"/svc.S/Brotli", "grpc Unimplemented", `Decompressor is not installed for grpc-encoding "br"`},
		{"/svc.S/BadFlag", "grpc Internal", "unexpected payload format 2"},
		{"/svc.S/Cut", "grpc Internal", "in the middle of a message"},
		{"/svc.S/GoodAndBroken", "grpc Internal", "gzip: invalid checksum"},
	}
	paths := make([]string, len(tests))
	for i, tt := range tests {
		paths[i] = tt.path
	}
	c := newTestConn(t, addr, paths...)
	for i, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/svc.S/"), func(t *testing.T) {
			err := do(c, i, "tailgate:1")
			switch {
			case tt.wantKind == "" && err != nil:
				t.Fatalf("got %v, want success", err)
			case tt.wantKind != "" && !isStatus(err, tt.wantKind, tt.wantDetail):
				t.Fatalf("got %v, want %s %q", err, tt.wantKind, tt.wantDetail)
			}
			if err := do(c, 0, "tailgate:1"); err != nil {
				t.Fatalf("the next call: %v", err)
			}
		})
	}
}

// The message reader follows messages however the DATA frames cut them.
func TestMessagesAcrossFrames(t *testing.T) {
	good := gzipped(bytes.Repeat([]byte("tailgate"), 1000))
	stream := append(append(framed(1, good), framed(0, []byte("plain"))...), framed(0, nil)...)
	for _, size := range []int{1, 2, 5, 7, 100, len(stream)} {
		var m messageReader
		var gz *gunzipper
		for p := stream; len(p) > 0; p = p[min(size, len(p)):] {
			m.data(p[:min(size, len(p))], "gzip", &gz)
		}
		if m.err != nil || m.count != 3 || m.inHead != 0 {
			t.Errorf("frames of %d bytes: %d messages, error %v, %d bytes of a prefix left; want 3, none, 0",
				size, m.count, m.err, m.inHead)
		}
	}
}

func TestCompressionHeadersAreTailgates(t *testing.T) {
	srv := startServer(t, "", reflectionBoth)
	for _, name := range []string{"grpc-encoding", "Grpc-Accept-Encoding"} {
		r := call("r", unaryCall, "")
		r.Headers = map[string]string{name: "gzip"}
		_, err := open(t, spec("grpc://"+srv.addr, r))
		if err == nil || !strings.Contains(err.Error(), "workload.compression") {
			t.Errorf("header %s: got %v, want a pointer to workload.compression", name, err)
		}
	}
	s := spec("grpc://"+srv.addr, call("r", unaryCall, ""))
	s.Component.Workload.Compression = "zstd"
	if _, err := open(t, s); err == nil || !strings.Contains(err.Error(), `workload.compression "zstd" is not supported; allowed: gzip`) {
		t.Errorf("compression zstd: got %v", err)
	}
}
