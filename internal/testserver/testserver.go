// Package testserver starts real servers (redis-server, memcached, nginx
// and haproxy from the system's packages) on free loopback ports for
// tests, and stops them when the test ends.
package testserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/result"

	"github.com/tailgate-dev/tailgate/workloads"
)

// Server is a running server process.
type Server struct {
	// Addr is host:port on loopback, or the path of a unix socket.
	Addr    string
	network string
	cmd     *exec.Cmd
	t       testing.TB
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the binary with args and waits until addr accepts connections.
func start(t testing.TB, addr, bin string, args ...string) *Server {
	t.Helper()
	return startOn(t, "tcp", addr, bin, args...)
}

// startOn is start for a server listening on network ("unix": a socket
// at path addr).
func startOn(t testing.TB, network, addr, bin string, args ...string) *Server {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s is not installed: run scripts/test, which installs it (%v)", bin, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	s := &Server{Addr: addr, network: network, cmd: cmd, t: t}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 10s: %v", bin, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Redis starts redis-server on a free loopback port, persistence off.
func Redis(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	port := FreePort(t)
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning", "--dir", t.TempDir()}, extraArgs...)
	return start(t, fmt.Sprintf("127.0.0.1:%d", port), "redis-server", args...)
}

// Memcached starts memcached on a free loopback port.
func Memcached(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	port := FreePort(t)
	args := append([]string{"-p", strconv.Itoa(port), "-l", "127.0.0.1", "-U", "0", "-u", "root", "-m", "64"}, extraArgs...)
	return start(t, fmt.Sprintf("127.0.0.1:%d", port), "memcached", args...)
}

// MemcachedUnix starts memcached listening on a unix socket in a
// temporary directory only (memcached -s turns TCP off); Addr is its path.
func MemcachedUnix(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	path := filepath.Join(socketDir(t), "memcached.sock")
	args := append([]string{"-s", path, "-U", "0", "-u", "root", "-m", "64"}, extraArgs...)
	return startOn(t, "unix", path, "memcached", args...)
}

// RedisUnix starts redis-server listening on a unix socket in a temporary
// directory only (no TCP port); Addr is its path.
func RedisUnix(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	dir := socketDir(t)
	path := filepath.Join(dir, "redis.sock")
	args := append([]string{"--port", "0", "--unixsocket", path, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning", "--dir", dir}, extraArgs...)
	return startOn(t, "unix", path, "redis-server", args...)
}

// socketDir is a temporary directory, removed with the test, whose path
// is short enough for a unix socket in it (at most 108 bytes on Linux,
// which a long test name in t.TempDir's path can exceed).
func socketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tailgate-sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Freeze stops the server process (SIGSTOP): it keeps its sockets but
// answers nothing until Thaw.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.signal(syscall.SIGKILL)
	s.cmd.Wait()
}

func (s *Server) signal(sig os.Signal) {
	if s.cmd.Process != nil {
		if err := s.cmd.Process.Signal(sig); err != nil && s.cmd.ProcessState == nil {
			s.t.Logf("signalling %v: %v", sig, err)
		}
	}
}

// Stop ends the server; it is safe to call more than once.
func (s *Server) Stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT)
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// MeasureEveryOperation runs spec once (see Run) and fails t unless
// every operation of its component was measured without an error and the
// operations add up to within a quarter of rate × duration. It returns the
// component's result for further checks.
func MeasureEveryOperation(t testing.TB, spec *workloads.Spec) *result.ComponentResult {
	t.Helper()
	comp := Run(t, spec)
	var total int64
	for _, name := range spec.Operations() {
		o := comp.Operation(name)
		if o == nil {
			t.Fatalf("no result for operation %q", name)
		}
		if o.Count == 0 || o.Errors != 0 {
			t.Errorf("%s: %d measured, %d errors", name, o.Count, o.Errors)
		}
		total += o.Count
	}
	want := spec.Component.Workload.Rate * spec.Duration.Seconds()
	if float64(total) < 0.75*want || float64(total) > 1.25*want {
		t.Errorf("measured %d operations, want about %.0f (%.0f/s for %s)", total, want, spec.Component.Workload.Rate, spec.Duration)
	}
	return comp
}
