package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// servers are the targets of the scenarios, all on loopback.
type servers struct {
	http, grpc, redis, memcached, nginx string
	// The servers' process ids, for their CPU accounting.
	fastPID, redisPID, memcachedPID, nginxPID int

	procs []*exec.Cmd
	stdin io.Closer
}

// startFast starts bench/fastserver and reads its addresses.
func (s *servers) startFast(bin string) error {
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting fastserver: %w", err)
	}
	s.procs = append(s.procs, cmd)
	s.stdin = stdin
	s.fastPID = cmd.Process.Pid
	r := bufio.NewReader(stdout)
	for range 2 {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("fastserver did not print its addresses: %w", err)
		}
		proto, addr, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch proto {
		case "http":
			s.http = addr
		case "grpc":
			s.grpc = addr
		}
	}
	return nil
}

// startRedis starts redis-server, persistence off, and preloads the keys
// of both tools.
func (s *servers) startRedis(dir string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := s.start(addr, "redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", "--dir", dir); err != nil {
		return err
	}
	s.redis = addr
	s.redisPID = s.procs[len(s.procs)-1].Process.Pid
	value := strings.Repeat("v", kvValueSize)
	var cmds strings.Builder
	resp := func(args ...string) {
		fmt.Fprintf(&cmds, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&cmds, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	for i := range kvKeys {
		resp("SET", fmt.Sprintf("key:%012d", i), value) // redis-benchmark's keys
		resp("SET", kvPrefix+strconv.Itoa(i), value)    // tailgate's
	}
	return preload(addr, cmds.String(), 2*kvKeys, "+OK\r\n")
}

// startMemcached starts memcached and preloads tailgate's keys (memcaslap
// sets its own).
func (s *servers) startMemcached() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-p", strconv.Itoa(port), "-l", "127.0.0.1", "-U", "0", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	if err := s.start(addr, "memcached", args...); err != nil {
		return err
	}
	s.memcached = addr
	s.memcachedPID = s.procs[len(s.procs)-1].Process.Pid
	value := strings.Repeat("v", kvValueSize)
	var cmds strings.Builder
	for i := range kvKeys {
		fmt.Fprintf(&cmds, "set %s%d 0 0 %d\r\n%s\r\n", kvPrefix, i, len(value), value)
	}
	return preload(addr, cmds.String(), kvKeys, "STORED\r\n")
}

// nginxConfig is nginx answering every request 200 "ok" from its
// configuration, one worker and no master, so the worker is the process
// whose CPU is counted, with no access log: a server cheaper than any
// client, as in the HTTP open-loop goals.
const nginxConfig = `daemon off;
master_process off;
worker_processes 1;
error_log %[1]s/error.log warn;
pid %[1]s/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen %[2]s;
    location / { return 200 "ok\n"; }
  }
}
`

// startNginx starts nginx with nginxConfig in a directory of its own under
// dir.
func (s *servers) startNginx(dir string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	prefix := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return err
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConfig, prefix, addr)), 0o644); err != nil {
		return err
	}
	if err := s.start(addr, "nginx", "-p", prefix, "-e", filepath.Join(prefix, "error.log"), "-c", conf); err != nil {
		return err
	}
	s.nginx = addr
	s.nginxPID = s.procs[len(s.procs)-1].Process.Pid
	return nil
}

// start runs a server binary and waits until addr accepts connections.
func (s *servers) start(addr, bin string, args ...string) error {
	path, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("%s is not installed (scripts/test installs it): %w", bin, err)
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	s.procs = append(s.procs, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s within 10s: %w", bin, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// preload sends pipelined commands and reads n replies, each want.
func preload(addr, cmds string, n int, want string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	errc := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, cmds)
		errc <- err
	}()
	r := bufio.NewReader(c)
	for i := range n {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("preloading %s: reply %d: %w", addr, i, err)
		}
		if line != want {
			return fmt.Errorf("preloading %s: reply %q, want %q", addr, line, want)
		}
	}
	return <-errc
}

// stop ends every server this harness started.
func (s *servers) stop() {
	if s.stdin != nil {
		s.stdin.Close()
	}
	for _, p := range s.procs {
		p.Process.Kill()
		p.Wait()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// processCPU is the CPU time a process has used so far, from /proc, at the
// kernel's clock-tick resolution; zero when unknown.
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
