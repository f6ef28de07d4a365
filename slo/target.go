package slo

import (
	"net/url"
	"strings"
)

// ParseTarget parses a target URL as net/url does, and one whose host is
// a list of servers, host[:port],host[:port]... (redis+cluster://, a
// memcache:// server list) too: net/url checks only the port after the
// last colon of a host, which a list with a port on some servers and not
// on the last refuses. The URL's Host is then the list as written, which
// the target's driver reads server by server.
func ParseTarget(target string) (*url.URL, error) {
	i := strings.Index(target, "://")
	if i < 0 {
		return url.Parse(target)
	}
	start := i + len("://")
	end := len(target)
	if j := strings.IndexAny(target[start:], "/?#"); j >= 0 {
		end = start + j
	}
	hosts := target[start:end]
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		start += at + 1
		hosts = hosts[at+1:]
	}
	if !strings.Contains(hosts, ",") {
		return url.Parse(target)
	}
	u, err := url.Parse(target[:start] + "server-list" + target[end:])
	if err != nil {
		return nil, err
	}
	u.Host = hosts
	return u, nil
}
