package memcache_test

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// startList starts n servers with start and returns them and their
// addresses, in the order of the list.
func startList(t *testing.T, n int, start func(t *testing.T) *testserver.Server) ([]*testserver.Server, []string) {
	t.Helper()
	var servers []*testserver.Server
	var addrs []string
	for range n {
		srv := start(t)
		servers, addrs = append(servers, srv), append(addrs, srv.Addr)
	}
	return servers, addrs
}

// ketamaRing is the test's own reading of libmemcached's weighted ketama
// (hosts.cc, update_continuum) for servers of equal weight, apart from
// the driver's: 40 MD5 digests per server of "host:port-k" ("host-k" on
// port 11211), four little-endian points each, sorted; a key goes to the
// first point at or above the first four bytes of its MD5, read
// little-endian, or to the first point. It returns the index in addrs
// of the server of a key.
func ketamaRing(addrs []string) func(key string) int {
	type point struct {
		value  uint32
		server int
	}
	var ring []point
	for s, addr := range addrs {
		host, port, _ := net.SplitHostPort(addr)
		name := host + ":" + port
		if port == "11211" {
			name = host
		}
		for k := range 40 {
			digest := md5.Sum(fmt.Appendf(nil, "%s-%d", name, k))
			for w := range 4 {
				ring = append(ring, point{binary.LittleEndian.Uint32(digest[4*w:]), s})
			}
		}
	}
	sort.Slice(ring, func(i, j int) bool {
		if ring[i].value != ring[j].value {
			return ring[i].value < ring[j].value
		}
		return ring[i].server < ring[j].server
	})
	return func(key string) int {
		digest := md5.Sum([]byte(key))
		hash := binary.LittleEndian.Uint32(digest[:4])
		i := sort.Search(len(ring), func(i int) bool { return ring[i].value >= hash })
		if i == len(ring) {
			i = 0
		}
		return ring[i].server
	}
}

// A list of three memcached servers: a short prefilled run of every
// kind of key (values, mget batches, incr's counters) answers every
// operation; each server is a node of the result, loaded, without
// errors, the nodes adding up to the component; the hits and misses of
// get and mget (split over the servers) are those the servers counted;
// and every key sits on the server an independent ketama gives it, or
// cleanup deleted it.
func TestAServerListSpreadsKeysByKetama(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		protocol slo.WireProtocol
		pipeline int
		cleanup  bool
	}{
		{"text", slo.MemcacheText, 1, false},
		{"meta, pipelined, cleaned up", slo.MemcacheMeta, 8, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, addrs := startList(t, 3, func(t *testing.T) *testserver.Server { return testserver.Memcached(t) })
			s := spec("memcache://" + strings.Join(addrs, ","))
			w := &s.Component.Workload
			w.Rate, w.Protocol, w.Pipeline, w.Batch, w.Cleanup = 1500, tt.protocol, tt.pipeline, 5, tt.cleanup
			w.Keys.Count = 300
			w.Mix = []slo.MixEntry{{Operation: "get", Weight: 40}, {Operation: "mget", Weight: 20}, {Operation: "set", Weight: 20},
				{Operation: "incr", Weight: 10}, {Operation: "delete", Weight: 10}}
			w.Prefill = slo.Prefill{Enabled: true, Rate: 50000}
			s.Duration = 400 * time.Millisecond
			comp := testserver.MeasureEveryOperation(t, s)
			if t.Failed() {
				t.Logf("first errors: %+v", comp.FirstErrors)
			}

			all := comp.Operation(slo.AllOperations)
			if len(comp.Nodes) != len(addrs) {
				t.Fatalf("%d nodes in the result, want %d: %+v", len(comp.Nodes), len(addrs), comp.Nodes)
			}
			var sum int64
			for i, n := range comp.Nodes {
				if n.Address != addrs[i] || n.Count == 0 || n.Errors != 0 || n.LatencyNS.P99 <= 0 {
					t.Errorf("node %d: %s, %d measured, %d errors %v, p99 %d ns; want %s loaded without errors",
						i, n.Address, n.Count, n.Errors, n.ErrorKinds, n.LatencyNS.P99, addrs[i])
				}
				sum += n.Count
			}
			if sum != all.Count {
				t.Errorf("the nodes measured %d operations, the component %d", sum, all.Count)
			}

			get, mget := comp.Operation("get"), comp.Operation("mget")
			stats := map[string]int64{}
			for _, addr := range addrs {
				for k, v := range allStats(t, addr) {
					stats[k] += int64(v)
				}
			}
			// Warmup is 0 and prefill and cleanup read nothing: every
			// read the servers answered was measured.
			if got, want := stats["get_hits"], get.Hits+mget.Hits; got != want {
				t.Errorf("the servers counted %d hits, the run %d", got, want)
			}
			if got, want := stats["get_misses"], get.Misses+mget.Misses; got != want {
				t.Errorf("the servers counted %d misses, the run %d", got, want)
			}
			if mget.Hits+mget.Misses != 5*mget.Count || mget.Hits == 0 {
				t.Errorf("mget: %d hits and %d misses of %d×5 keys", mget.Hits, mget.Misses, mget.Count)
			}

			owner := ketamaRing(addrs)
			held := 0
			for i, addr := range addrs {
				keys := serverKeys(t, "tcp", addr)
				if tt.cleanup {
					if len(keys) != 0 {
						t.Errorf("cleanup left %d keys on %s: %q", len(keys), addr, keys)
					}
					continue
				}
				if len(keys) == 0 {
					t.Errorf("%s holds no key", addr)
				}
				for _, key := range keys {
					if want := owner(key); want != i {
						t.Errorf("key %q is on %s, ketama puts it on %s", key, addr, addrs[want])
					}
				}
				held += len(keys)
			}
			t.Logf("nodes %d+%d+%d = %d operations; mget %d hits, %d misses; %d keys held",
				comp.Nodes[0].Count, comp.Nodes[1].Count, comp.Nodes[2].Count, all.Count, mget.Hits, mget.Misses, held)
			if !tt.cleanup && held < w.Keys.Count/2 {
				t.Errorf("the servers hold %d keys of a prefilled keyspace of %d", held, w.Keys.Count)
			}
		})
	}
}

// A server that dies during the run fails the operations on its keys,
// and only those: they count on its node, by their kinds, while the
// other servers' nodes answer every operation.
func TestAServerListCountsAFailingServersErrorsOnItsNode(t *testing.T) {
	t.Parallel()
	servers, addrs := startList(t, 3, func(t *testing.T) *testserver.Server { return testserver.Memcached(t) })
	s := spec("memcache://" + strings.Join(addrs, ","))
	w := &s.Component.Workload
	w.Rate, w.Batch, w.Keys.Count = 1000, 3, 300
	w.Mix = []slo.MixEntry{{Operation: "get", Weight: 60}, {Operation: "mget", Weight: 20}, {Operation: "set", Weight: 20}}
	s.Duration = 500 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(200 * time.Millisecond) // connected, and loading
		servers[2].Kill()
	}()
	comp := testserver.Run(t, s)
	<-done
	if len(comp.Nodes) != 3 {
		t.Fatalf("%d nodes", len(comp.Nodes))
	}
	var errs int64
	for i, n := range comp.Nodes {
		switch {
		case i < 2 && (n.Errors != 0 || n.Count == 0):
			t.Errorf("node %s: %d measured, %d errors %v; want its operations answered", n.Address, n.Count, n.Errors, n.ErrorKinds)
		case i == 2 && (n.Errors == 0 || n.Count == 0):
			t.Errorf("node %s, killed during the run: %d measured, %d errors", n.Address, n.Count, n.Errors)
		}
		errs += n.Errors
	}
	all := comp.Operation(slo.AllOperations)
	if all.Errors != errs {
		t.Errorf("the component counted %d errors, its nodes %d", all.Errors, errs)
	}
	t.Logf("killed %s: %d errors %v; nodes measured %d, %d, %d", addrs[2], comp.Nodes[2].Errors, comp.Nodes[2].ErrorKinds,
		comp.Nodes[0].Count, comp.Nodes[1].Count, comp.Nodes[2].Count)
}

// A pipelined flush writes only what was queued: a server's connection
// that last sent prefill's set alone does not send it again when another
// server's commands go out (its reply would put the stream out of step).
func TestAPipelinedServerListSendsOnlyWhatIsQueued(t *testing.T) {
	t.Parallel()
	_, addrs := startList(t, 2, func(t *testing.T) *testserver.Server { return testserver.Memcached(t) })
	owner := ketamaRing(addrs)
	keyOn := func(server int) string {
		for n := 0; ; n++ {
			if key := fmt.Sprintf("tailgate:%d", n); owner(key) == server {
				return key
			}
		}
	}
	for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
		s := spec("memcache://" + strings.Join(addrs, ","))
		s.Component.Workload.Pipeline, s.Component.Workload.Protocol = 4, protocol
		c := connect(t, s)
		ctx, deadline := context.Background(), time.Now().Add(5*time.Second)
		before := allStats(t, addrs[0])["cmd_set"]
		if err := c.(workloads.KeyspaceConn).Fill(ctx, op(kindSet, keyOn(0), []byte("v"))); err != nil {
			t.Fatal(err)
		}
		pc := c.(workloads.PipelineConn)
		for _, key := range []string{keyOn(1), keyOn(0)} {
			get := op(kindGet, key, nil)
			if err := pc.Queue(ctx, get, deadline); err != nil {
				t.Fatal(err)
			}
			if err := pc.Flush(ctx, deadline); err != nil {
				t.Fatal(err)
			}
			reply := workloads.Op{Kind: kindGet}
			if err := pc.Receive(ctx, &reply, deadline); err != nil {
				t.Fatalf("%s: get %s: %v", protocol, key, err)
			}
		}
		if got := allStats(t, addrs[0])["cmd_set"] - before; got != 1 {
			t.Errorf("%s: %s was sent %d sets, prefill's one", protocol, addrs[0], got)
		}
	}
}

// memcaches:// with a list: each server is dialed over TLS, checked
// against its own address, and logged in with the URL's user.
func TestAServerListOverTLSWithAuthentication(t *testing.T) {
	t.Parallel()
	authFile := testserver.MemcachedAuthFile(t, "gate:pw-gate-1")
	cert := testserver.NewCertificate(t)
	_, addrs := startList(t, 2, func(t *testing.T) *testserver.Server { return testserver.MemcachedTLS(t, cert, "-Y", authFile) })
	s := spec("memcaches://gate:pw-gate-1@" + strings.Join(addrs, ","))
	s.Component.Workload.TLS = slo.TLS{CAFile: cert.CAFile}
	s.Component.Workload.Rate, s.Duration = 500, 300*time.Millisecond
	s.Secrets = []string{"pw-gate-1"}
	comp := testserver.MeasureEveryOperation(t, s)
	for i, n := range comp.Nodes {
		if n.Address != addrs[i] || n.Count == 0 {
			t.Errorf("node %d: %s measured %d", i, n.Address, n.Count)
		}
	}
	if len(comp.Nodes) != 2 {
		t.Errorf("%d nodes", len(comp.Nodes))
	}
}

// A server list is read as a single server's target is, each server
// checked; a mixed list with a unix socket, a query, an empty or a
// repeated server are refused, saying which.
func TestServerListTargets(t *testing.T) {
	t.Parallel()
	open := func(target string) (workloads.Driver, error) {
		return workloads.Open(context.Background(), spec(target))
	}
	d, err := open("memcaches://gate:pw-gate-1@127.0.0.1:7000,cache-b")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Describe(), "memcaches://gate:xxxxx@127.0.0.1:7000,cache-b:11211 (ketama)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	nr, ok := d.(workloads.NodeReporter)
	if !ok || !slices.Equal(nr.Nodes(), []string{"127.0.0.1:7000", "cache-b:11211"}) {
		t.Errorf("a server list is a NodeReporter of its servers; got %T", d)
	} else if _, ok := d.(workloads.MultiKey); !ok {
		t.Errorf("%T is no MultiKey", d)
	}
	for _, tt := range []struct{ target, err string }{
		{"memcache://127.0.0.1:7000,,127.0.0.1:7001", "server an empty server in the list"},
		{"memcache://127.0.0.1:7000,127.0.0.1:7000", `server "127.0.0.1:7000" is listed twice`},
		{"memcache://127.0.0.1:7000,127.0.0.1:0", `server "127.0.0.1:0" is not host[:port]: port "0"`},
		{"memcache://127.0.0.1:7000,127.0.0.1:7001?timeout=1s", "takes no path or query"},
		{"memcache://127.0.0.1:7000,/tmp/memcached.sock", "a unix socket is a memcache+unix:// target of its own"},
		{"memcache://gate@127.0.0.1:7000,127.0.0.1:7001", "takes a user and a password"},
	} {
		if _, err := open(tt.target); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: got %v, want an error with %q", tt.target, err, tt.err)
		}
	}
}

// BenchmarkPipelinedServerList sends gets pipelined 16 at a time to a
// list of two servers, the keys spread over both by ketama.
func BenchmarkPipelinedServerList(b *testing.B) {
	addrs := []string{testserver.Memcached(b).Addr, testserver.Memcached(b).Addr}
	s := spec("memcache://" + strings.Join(addrs, ","))
	s.Component.Workload.Pipeline = 16
	batch := make([]workloads.Op, 16)
	for i := range batch {
		batch[i] = *op(kindGet, fmt.Sprintf("tailgate:%d", i), nil)
	}
	testserver.BenchmarkPipelined(b, connect(b, s), batch)
}
