package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Listen is replaced, in the configurations given to Nginx, NginxServer
// and HAProxy, by the free loopback address (127.0.0.1:port) the server
// is started on, Server.Addr: write `listen {{listen}};` in nginx and
// `bind {{listen}}` in HAProxy.
const Listen = "{{listen}}"

// Nginx starts nginx from the system's package as the test's own process
// (no daemon, no master process), with httpBlock as the body of its http
// {} block: server blocks with `listen {{listen}}` (see Listen), and any
// directive of the http context. Everything nginx writes (pid, error log,
// temporary files) stays in a directory of the test; access logging is
// off. The configuration is checked first, so a mistake fails the test
// with nginx's own message. It stops when the test ends. Where nginx is
// not installed the test is skipped, except under CI (CI=true), where it
// fails: scripts/test installs it.
func Nginx(t testing.TB, httpBlock string) *Server {
	t.Helper()
	bin := lookPackaged(t, "nginx")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	conf := fmt.Sprintf(`# written by a tailgate test
daemon off;
master_process off;
worker_processes 1;
user root;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, strings.ReplaceAll(httpBlock, Listen, addr))
	if os.Geteuid() != 0 {
		conf = strings.Replace(conf, "user root;\n", "", 1) // only a root master may name a user
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log")}
	checkConfig(t, "nginx", path, exec.Command(bin, append(args, "-t", "-q")...))
	return start(t, addr, bin, args...)
}

// NginxServer starts nginx (see Nginx) with one server block listening on
// the free address: serverBlock is its body, after the listen directive,
// e.g. `keepalive_timeout 1s; location / { return 200 "ok"; }`.
func NginxServer(t testing.TB, serverBlock string) *Server {
	t.Helper()
	return Nginx(t, "server {\n\tlisten "+Listen+";\n"+serverBlock+"\n}")
}

// HAProxy starts haproxy from the system's package as the test's own
// process, in the foreground (-db), with cfg as its configuration after
// the global section: defaults, frontends with `bind {{listen}}` (see
// Listen) and backends. The configuration is checked first (haproxy -c),
// so a mistake fails the test with haproxy's own message. It stops when
// the test ends; like Nginx it is skipped when haproxy is missing, except
// under CI.
func HAProxy(t testing.TB, cfg string) *Server {
	t.Helper()
	bin := lookPackaged(t, "haproxy")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	conf := "# written by a tailgate test\nglobal\n\tmaxconn 4096\n\n" + strings.ReplaceAll(cfg, Listen, addr) + "\n"
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	checkConfig(t, "haproxy", path, exec.Command(bin, "-c", "-f", path))
	return start(t, addr, bin, "-db", "-f", path)
}

// lookPackaged finds a server binary that a Debian package installs in
// /usr/sbin, which a user's PATH may lack. A missing binary skips the
// test on a developer's machine and fails it under CI.
func lookPackaged(t testing.TB, bin string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err == nil {
		return path
	}
	if _, statErr := os.Stat("/usr/sbin/" + bin); statErr == nil {
		return "/usr/sbin/" + bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI must run this test: scripts/test installs it (%v)", bin, err)
	}
	t.Skipf("%s is not installed: run scripts/test, which installs it, or apt-get install %s", bin, bin)
	return ""
}

// checkConfig runs a server's configuration check and fails the test with
// the server's output and the configuration when it does not pass.
func checkConfig(t testing.TB, name, path string, check *exec.Cmd) {
	t.Helper()
	out, err := check.CombinedOutput()
	if err == nil {
		return
	}
	conf, _ := os.ReadFile(path)
	t.Fatalf("%s rejects the test's configuration: %v\n%s\nconfiguration %s:\n%s", name, err, out, path, conf)
}
