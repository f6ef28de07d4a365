// Command fastserver is the HTTP and gRPC target of the side-by-side
// benchmark (bench/run): servers that answer at once, so what the benchmark
// weighs is the load generators. It listens on loopback only, prints
// "http ADDR" and "grpc ADDR" on its standard output, and serves until its
// standard input closes.
//
// HTTP: every request's body is read and answered 200 with "ok\n", over
// HTTP/1.1 or HTTP/2 in the clear with prior knowledge (h2c).
// gRPC: grpc-go's interop grpc.testing.TestService (EmptyCall, and UnaryCall
// answering a payload of the requested size), the health service and server
// reflection, so peers that resolve methods by reflection (ghz) find them.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
)

func main() {
	httpAddr := flag.String("http", "127.0.0.1:0", "loopback address of the HTTP server")
	grpcAddr := flag.String("grpc", "127.0.0.1:0", "loopback address of the gRPC server")
	flag.Parse()
	hl, err := listen(*httpAddr)
	if err != nil {
		fail(err)
	}
	gl, err := listen(*grpcAddr)
	if err != nil {
		fail(err)
	}
	answer := []byte("ok\n")
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{Protocols: protocols, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(answer)
	})}
	go hs.Serve(hl)
	gs := grpc.NewServer()
	testpb.RegisterTestServiceServer(gs, testService{})
	healthpb.RegisterHealthServer(gs, health.NewServer())
	reflection.Register(gs)
	go gs.Serve(gl)
	fmt.Printf("http %s\ngrpc %s\n", hl.Addr(), gl.Addr())
	io.Copy(io.Discard, os.Stdin)
	gs.Stop()
}

// listen listens on addr, which must be a loopback address.
func listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("address %q: only loopback addresses are served", addr)
	}
	return net.Listen("tcp", addr)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "fastserver: %v\n", err)
	os.Exit(1)
}

// testService answers EmptyCall and UnaryCall at once.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func (testService) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (testService) UnaryCall(_ context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}
