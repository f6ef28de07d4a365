package slo

import "testing"

// A target's host may be a list of servers, with or without ports; the
// userinfo, path and query around it are read as net/url reads them.
func TestParseTargetReadsAServerList(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		target, scheme, host, user, path, query string
	}{
		{"memcache://a:7000,b", "memcache", "a:7000,b", "", "", ""},
		{"memcaches://gate:p%40ss@a:7000,b,c:7002/", "memcaches", "a:7000,b,c:7002", "gate", "/", ""},
		{"redis+cluster://[::1]:7000,[::1]:7001", "redis+cluster", "[::1]:7000,[::1]:7001", "", "", ""},
		{"memcache://a:1,b?x=1", "memcache", "a:1,b", "", "", "x=1"},
		{"redis://tok@host:6379/2", "redis", "host:6379", "tok", "/2", ""},
	} {
		u, err := ParseTarget(tt.target)
		if err != nil {
			t.Errorf("%s: %v", tt.target, err)
			continue
		}
		if u.Scheme != tt.scheme || u.Host != tt.host || u.User.Username() != tt.user || u.Path != tt.path || u.RawQuery != tt.query {
			t.Errorf("%s: scheme %q host %q user %q path %q query %q", tt.target, u.Scheme, u.Host, u.User.Username(), u.Path, u.RawQuery)
		}
	}
	if secrets := TargetSecrets("memcache://gate:pw-1@a:7000,b"); len(secrets) == 0 || secrets[0] != "pw-1" {
		t.Errorf("the password of a server list is a secret: %q", secrets)
	}
	if _, err := ParseTarget("memcache://a:1,b:2/%zz"); err == nil {
		t.Error("a bad path is an error still")
	}
}
