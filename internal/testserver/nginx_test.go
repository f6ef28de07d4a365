package testserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/testserver"
)

func get(t *testing.T, url string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %q, %v", url, resp.Status, body, err)
	}
	return string(body), resp.Header
}

func TestNginxAndHAProxyServeWhatTheirConfigurationSays(t *testing.T) {
	nginx := testserver.NginxServer(t, `location / { return 200 "from nginx\n"; }`)
	if body, h := get(t, "http://"+nginx.Addr+"/"); body != "from nginx\n" || !strings.HasPrefix(h.Get("Server"), "nginx") {
		t.Fatalf("nginx answered %q, Server %q", body, h.Get("Server"))
	}
	haproxy := testserver.HAProxy(t, `
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend web
	bind `+testserver.Listen+`
	http-response set-header X-Via haproxy
	default_backend nginx
backend nginx
	server n1 `+nginx.Addr)
	if body, h := get(t, "http://"+haproxy.Addr+"/"); body != "from nginx\n" || h.Get("X-Via") != "haproxy" {
		t.Fatalf("haproxy answered %q, X-Via %q", body, h.Get("X-Via"))
	}
}
