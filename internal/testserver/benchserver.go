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

// ServeBenchmarkChild makes a test binary a benchmark's server process, so
// the benchmark's allocation and CPU figures are the client's alone. Call it
// first in TestMain: when env is set, it listens on a loopback port, starts
// serve on it, prints the address and serves until its standard input
// closes, then returns true and TestMain should return. Otherwise it
// returns false at once.
func ServeBenchmarkChild(env string, serve func(net.Listener) (stop func())) bool {
	if os.Getenv(env) == "" {
		return false
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
	return true
}

// BenchServer starts this test binary as the server process of
// ServeBenchmarkChild and returns its address; it stops when b ends.
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
