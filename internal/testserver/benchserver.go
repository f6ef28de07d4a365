package testserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// BenchmarkMain is the TestMain of a package whose benchmarks run against
// a server in another process (see BenchServer), so that their allocation
// and CPU figures are the client's alone. When env is set, the test binary
// is that server: it listens on a loopback port, starts serve on it,
// prints the address and serves until its standard input closes.
// Otherwise it runs the tests and exits with their code.
func BenchmarkMain(m *testing.M, env string, serve func(net.Listener) (stop func())) {
	if os.Getenv(env) == "" {
		os.Exit(m.Run())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stop := serve(l)
	fmt.Println(l.Addr())
	io.Copy(io.Discard, os.Stdin)
	if stop != nil {
		stop()
	}
}

// BenchServer starts this test binary as the server process of
// BenchmarkMain and returns its address; it stops when b ends.
func BenchServer(b *testing.B, env string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), env+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the benchmark server did not start: %v", err)
	}
	return strings.TrimSpace(addr)
}
