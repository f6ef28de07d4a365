package workloads

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestSplitHostListReadsEachServer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, list, defaultPort string
		want                    []string
		err                     string
	}{
		{"ports given", "10.0.0.1:11211,cache-b:11212", "11211", []string{"10.0.0.1:11211", "cache-b:11212"}, ""},
		{"the default port filled in", "cache-a,cache-b:11212", "11211", []string{"cache-a:11211", "cache-b:11212"}, ""},
		{"an IPv6 server", "[::1]:7000,10.0.0.1", "11211", []string{"[::1]:7000", "10.0.0.1:11211"}, ""},
		{"a port without leading zeros", "a:07000", "", []string{"a:7000"}, ""},
		{"a port required", "a:7000,b", "", nil, `"b" is not host:port`},
		{"an empty port", "a:7000,b:", "", nil, `"b:" is not host:port: port ""`},
		{"an empty server", "a:7000,,b:7001", "11211", nil, "an empty server"},
		{"a trailing comma", "a:7000,", "11211", nil, "an empty server"},
		{"no host", ":7000", "11211", nil, `":7000" is not host[:port]: it names no host`},
		{"port 0", "a:0", "11211", nil, `port "0" is not a number from 1 to 65535`},
		{"a port too large", "a:65536", "11211", nil, `port "65536"`},
		{"a port that is no number", "a:x1", "11211", nil, `port "x1"`},
		{"a server listed twice", "a:7000,b,a:7000", "11211", nil, `"a:7000" is listed twice`},
		{"the same server with and without its default port", "a,a:11211", "11211", nil, `"a:11211" is listed twice`},
		{"a path in a host", "a/b:7000", "11211", nil, "holds a character"},
		{"brackets around no port", "[a]b", "11211", nil, `"[a]b" is not host[:port]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitHostList(tt.list, tt.defaultPort)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("SplitHostList(%q) = %q, %v; want an error with %q", tt.list, got, err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("SplitHostList(%q) = %q, %v; want %q", tt.list, got, err, tt.want)
			}
		})
	}
}

// FuzzSplitHostList holds SplitHostList to its contract for any list:
// no panic, and a list it reads is one server per entry, each a
// host:port with a port from 1 to 65535, none twice, read back the same
// when written out again.
func FuzzSplitHostList(f *testing.F) {
	for _, seed := range []string{"a:1,b:2", "cache-a,cache-b:11212", "[::1]:7000,10.0.0.1", "a:7000,", ",", "a,a:11211", ":1", "a:65536", "[a]b", "a:007"} {
		f.Add(seed, "11211")
		f.Add(seed, "")
	}
	f.Fuzz(func(t *testing.T, list, defaultPort string) {
		addrs, err := SplitHostList(list, defaultPort)
		if err != nil {
			return
		}
		if len(addrs) != strings.Count(list, ",")+1 {
			t.Fatalf("%q: %d servers from %d entries", list, len(addrs), strings.Count(list, ",")+1)
		}
		for i, addr := range addrs {
			host, port, err := net.SplitHostPort(addr)
			if err != nil || host == "" {
				t.Fatalf("%q: server %q is not host:port: %v", list, addr, err)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
				t.Fatalf("%q: server %q has port %q", list, addr, port)
			}
			if slices.Contains(addrs[:i], addr) {
				t.Fatalf("%q: server %q twice", list, addr)
			}
		}
		again, err := SplitHostList(strings.Join(addrs, ","), "")
		if err != nil || !slices.Equal(again, addrs) {
			t.Fatalf("%q: read %q, which reads back as %q, %v", list, addrs, again, err)
		}
	})
}
