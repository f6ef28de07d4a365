package workloads

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// SplitHostList reads the host part of a target that names several
// servers, "host[:port],host[:port]...", as redis+cluster:// and a
// memcache:// server list write it, into host:port addresses in the
// order given. A server without a port gets defaultPort; with
// defaultPort "" every server must name its port. Each port is a
// decimal from 1 to 65535 (written back without leading zeros), and no
// server may be listed twice.
func SplitHostList(list, defaultPort string) ([]string, error) {
	var addrs []string
	seen := map[string]bool{}
	for entry := range strings.SplitSeq(list, ",") {
		addr, err := hostPort(entry, defaultPort)
		if err != nil {
			return nil, err
		}
		if seen[addr] {
			return nil, fmt.Errorf("%q is listed twice", addr)
		}
		seen[addr] = true
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

// hostPort reads one server of a list (see SplitHostList).
func hostPort(entry, defaultPort string) (string, error) {
	want := "host:port"
	if defaultPort != "" {
		want = "host[:port]"
	}
	if entry == "" {
		return "", fmt.Errorf("an empty server in the list: write it as %s,%s", want, want)
	}
	host, port, err := net.SplitHostPort(entry)
	if err != nil {
		if defaultPort == "" || strings.Contains(entry, ":") {
			return "", fmt.Errorf("%q is not %s", entry, want)
		}
		host, port = entry, defaultPort
	}
	if host == "" {
		return "", fmt.Errorf("%q is not %s: it names no host", entry, want)
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune("/?#@[]", r) }) {
		return "", fmt.Errorf("%q is not %s: host %q holds a character no host name has", entry, want, host)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%q is not %s: port %q is not a number from 1 to 65535", entry, want, port)
	}
	return net.JoinHostPort(host, strconv.FormatUint(n, 10)), nil
}
