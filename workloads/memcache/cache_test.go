package memcache_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// Up to 16 commands in flight on a connection carry more than one at a
// time, in closed loop, in each protocol, with every operation answered.
// One connection: at depth 1 it waits a round trip per command, which is
// what pipelining saves, whereas with several the generator's own CPU
// (under -race, on a busy machine) bounds depth 1 and 16 alike.
func TestPipeliningRaisesTheClosedLoopRate(t *testing.T) {
	for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
		t.Run(string(protocol), func(t *testing.T) {
			srv := testserver.Memcached(t)
			counts := map[int]int64{}
			for _, depth := range []int{1, 16} {
				s := everySpec("memcache://"+srv.Addr, protocol)
				s.Component.Workload.Rate, s.Component.Workload.Connections = 0, 1
				s.Duration = 500 * time.Millisecond
				s.Component.Workload.Pipeline = depth
				all := testserver.Run(t, s).Operation("all")
				if all.Errors != 0 {
					t.Errorf("depth %d: %d errors", depth, all.Errors)
				}
				counts[depth] = all.Count
			}
			t.Logf("closed loop, 1 connection, 500 ms: %d operations at pipeline 1, %d at pipeline 16 (%.1fx)",
				counts[1], counts[16], float64(counts[16])/float64(counts[1]))
			if float64(counts[16]) <= 1.5*float64(counts[1]) {
				t.Errorf("16 commands in flight on a connection carried %d operations, 1 carried %d", counts[16], counts[1])
			}
		})
	}
}

// A pipelined text incr that finds no counter creates it, as an
// unpipelined one does, with an add behind the commands in flight whose
// reply is read in its place: memcached counted an add for every miss,
// every incr is an operation of the run, and the counters hold what the
// server says was created and incremented.
func TestPipelinedIncrOverTextCreatesItsCounters(t *testing.T) {
	srv := testserver.Memcached(t)
	s := spec("memcache://" + srv.Addr)
	w := &s.Component.Workload
	w.Rate, w.Pipeline, w.Protocol = 2000, 8, slo.MemcacheText
	w.Keys.Count = 50
	w.Mix = []slo.MixEntry{{Operation: "incr", Weight: 1}}
	incr := testserver.Run(t, s).Operation("incr")
	if incr.Errors != 0 {
		t.Fatalf("%d errors: %v", incr.Errors, incr.ErrorKinds)
	}
	stats := allStats(t, srv.Addr)
	if got := int64(stats["incr_hits"] + stats["incr_misses"]); got != incr.Count {
		t.Errorf("memcached saw %d incr, the run measured %d", got, incr.Count)
	}
	if stats["incr_misses"] == 0 || stats["cmd_set"] != stats["incr_misses"] {
		t.Errorf("%d incr missed their counter and %d adds were sent: want one add for each miss", stats["incr_misses"], stats["cmd_set"])
	}
	var keys []string
	for n := range w.Keys.Count {
		keys = append(keys, "tailgate:n:"+strconv.Itoa(n))
	}
	reply := exchange(t, "tcp", srv.Addr, "get "+strings.Join(keys, " ")+"\r\n", "END")
	lines := strings.Split(reply, "\r\n")
	sum, counters := 0, 0
	for i, line := range lines {
		if strings.HasPrefix(line, "VALUE ") && i+1 < len(lines) {
			v, err := strconv.Atoi(lines[i+1])
			if err != nil {
				t.Fatalf("counter %q holds %q", line, lines[i+1])
			}
			sum += v
			counters++
		}
	}
	// Each counter was created at 1 by one stored add, then incremented
	// by each incr that found it.
	if counters != stats["curr_items"] || sum != counters+stats["incr_hits"] {
		t.Errorf("%d counters summing to %d; memcached holds %d items and counted %d incr hits", counters, sum, stats["curr_items"], stats["incr_hits"])
	}
	t.Logf("%d incr measured: %d hits, %d misses, %d counters", incr.Count, stats["incr_hits"], stats["incr_misses"], counters)
}

// The hits and misses of get and mget (every key of it) are what the
// server counted, prefilled and cold, pipelined or not.
func TestHitsAndMissesAreWhatTheServerCounted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		protocol slo.WireProtocol
		prefill  bool
		pipeline int
		hot      bool // a hit rate of 99% at least, else below 50%
	}{
		{"a prefilled run hits", slo.MemcacheText, true, 1, true},
		{"a prefilled pipelined run hits, in meta", slo.MemcacheMeta, true, 8, true},
		{"a cold run misses", slo.MemcacheText, false, 1, false},
		{"a cold run misses, in meta", slo.MemcacheMeta, false, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := testserver.Memcached(t)
			s := spec("memcache://" + srv.Addr)
			w := &s.Component.Workload
			w.Rate, w.Protocol, w.Pipeline, w.Batch = 1000, tt.protocol, tt.pipeline, 5
			w.Keys.Count = 5000
			w.Mix = []slo.MixEntry{{Operation: "get", Weight: 80}, {Operation: "mget", Weight: 10}, {Operation: "set", Weight: 10}}
			w.Prefill = slo.Prefill{Enabled: tt.prefill, Rate: 50000}
			before := allStats(t, srv.Addr)
			comp := testserver.Run(t, s)
			after := allStats(t, srv.Addr)
			get, mget := comp.Operation("get"), comp.Operation("mget")
			if get.Errors+mget.Errors != 0 {
				t.Fatalf("%d get and %d mget errors", get.Errors, mget.Errors)
			}
			if get.Hits+get.Misses != get.Count || mget.Hits+mget.Misses != 5*mget.Count {
				t.Errorf("get: %d hits and %d misses of %d; mget: %d and %d of %d×5 keys",
					get.Hits, get.Misses, get.Count, mget.Hits, mget.Misses, mget.Count)
			}
			// Warmup is 0: every read the server answered was measured.
			if got, want := int64(after["get_hits"]-before["get_hits"]), get.Hits+mget.Hits; got != want {
				t.Errorf("the server counted %d hits, the run %d", got, want)
			}
			if got, want := int64(after["get_misses"]-before["get_misses"]), get.Misses+mget.Misses; got != want {
				t.Errorf("the server counted %d misses, the run %d", got, want)
			}
			rate, ok := get.HitRate()
			if !ok {
				t.Fatal("no hit rate")
			}
			t.Logf("get: %d hits, %d misses (%.2f%%); mget: %d hits, %d misses", get.Hits, get.Misses, rate*100, mget.Hits, mget.Misses)
			if tt.hot && rate < 0.99 || !tt.hot && rate >= 0.5 {
				t.Errorf("hit rate %.2f%%", rate*100)
			}
		})
	}
}

// ttlOf reads a key's remaining expiry in seconds (mg's t flag: -1 for
// none), and whether the key exists.
func ttlOf(t *testing.T, addr, key string) (int, bool) {
	t.Helper()
	line := exchange(t, "tcp", addr, "mg "+key+" t\r\n") // one line: HD t<ttl>, or EN
	reply := strings.TrimSpace(line)
	if reply == "EN" {
		return 0, false
	}
	v, ok := strings.CutPrefix(reply, "HD t")
	n, err := strconv.Atoi(v)
	if !ok || err != nil {
		t.Fatalf("mg %s t: %q", key, reply)
	}
	return n, true
}

// Every write carries the ttl, the plan's or one that outlives the run,
// and cleanup deletes the plan's keys, incr's counters too.
func TestWritesExpireAndCleanupDeletesThePlansKeys(t *testing.T) {
	t.Parallel()
	for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
		for _, tt := range []struct {
			name      string
			ttl       time.Duration
			cleanup   bool
			low, high int // bounds of a key's remaining ttl
		}{
			{"a plan's ttl", 60 * time.Second, false, 55, 60},
			{"the default outlives the run by an hour", 0, false, 3595, 3602},
			{"cleanup leaves nothing", 0, true, 0, 0},
		} {
			t.Run(string(protocol)+": "+tt.name, func(t *testing.T) {
				t.Parallel() // a server of its own, a light load
				srv := testserver.Memcached(t)
				s := everySpec("memcache://"+srv.Addr, protocol)
				s.Component.Workload.Keys.Count = 50
				s.Component.Workload.TTL, s.Component.Workload.Cleanup = tt.ttl, tt.cleanup
				testserver.MeasureEveryOperation(t, s)
				keys := serverKeys(t, "tcp", srv.Addr)
				if tt.cleanup {
					if len(keys) != 0 {
						t.Fatalf("cleanup left %d keys: %q", len(keys), keys)
					}
					return
				}
				counters := 0
				for _, key := range keys {
					if strings.HasPrefix(key, "tailgate:n:") {
						counters++
					}
					ttl, ok := ttlOf(t, srv.Addr, key)
					if ok && (ttl < tt.low || ttl > tt.high) {
						t.Errorf("%s expires in %d s, want %d to %d", key, ttl, tt.low, tt.high)
					}
				}
				if counters == 0 || counters == len(keys) {
					t.Errorf("%d counters among %d keys: the case under test did not happen", counters, len(keys))
				}
			})
		}
	}
}

// everyOperation is a mix of every operation, in the order of the kinds
// below.
var everyOperation = []slo.MixEntry{
	{Operation: "get", Weight: 30}, {Operation: "mget", Weight: 10}, {Operation: "set", Weight: 20},
	{Operation: "add", Weight: 5}, {Operation: "replace", Weight: 5}, {Operation: "delete", Weight: 10},
	{Operation: "incr", Weight: 10}, {Operation: "touch", Weight: 10},
}

// The kinds of everyOperation.
const (
	allGet = iota
	allMget
	allSet
	allAdd
	allReplace
	allDelete
	allIncr
	allTouch
)

// exchange sends a command line (and data) on a plain connection of its
// own and returns the reply up to a line that ends it: one of ends, or the
// first line when there are none.
func exchange(t *testing.T, network, addr, command string, ends ...string) string {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprint(nc, command); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(nc)
	var reply strings.Builder
	for {
		line, err := r.ReadString('\n')
		reply.WriteString(line)
		if err != nil {
			t.Fatalf("reading the reply to %q: %v (so far %q)", command, err, reply.String())
		}
		if len(ends) == 0 {
			return line
		}
		for _, end := range ends {
			if line == end+"\r\n" {
				return reply.String()
			}
		}
	}
}

// allStats reads every numeric counter of the server's "stats".
func allStats(t *testing.T, addr string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, line := range strings.Split(exchange(t, "tcp", addr, "stats\r\n", "END"), "\r\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "STAT" {
			if n, err := strconv.Atoi(f[2]); err == nil {
				out[f[1]] = n
			}
		}
	}
	return out
}

// serverKeys lists every key the server holds (lru_crawler metadump).
func serverKeys(t *testing.T, network, addr string) []string {
	t.Helper()
	var keys []string
	// metadump ends its lines with a bare LF, and END with CRLF.
	for _, line := range strings.Split(exchange(t, network, addr, "lru_crawler metadump all\r\n", "END"), "\n") {
		if key, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "key="); ok {
			key, _, _ = strings.Cut(key, " ")
			unescaped, err := url.QueryUnescape(key) // metadump escapes keys
			if err != nil {
				t.Fatalf("metadump key %q: %v", key, err)
			}
			keys = append(keys, unescaped)
		}
	}
	return keys
}

// keysUnderThePrefix checks that the server holds keys, every one under
// the plan's prefix.
func keysUnderThePrefix(t *testing.T, network, addr string) {
	t.Helper()
	keys := serverKeys(t, network, addr)
	if len(keys) == 0 {
		t.Fatal("the runs left no key")
	}
	for _, key := range keys {
		if !strings.HasPrefix(key, "tailgate:") {
			t.Errorf("key %q outside the prefix", key)
		}
	}
}

// everySpec is spec with every operation in its mix.
func everySpec(target string, protocol slo.WireProtocol) *workloads.Spec {
	s := spec(target)
	s.Component.Workload.Mix = everyOperation
	s.Component.Workload.Protocol = protocol
	return s
}

// Each operation sends the command it is documented to send, in each
// protocol: memcached's own counters see every one, hit or miss, and what
// it stored. incr counts on a counter key of its own, created at 1.
func TestEachOperationIsIssuedAndCountedByTheServer(t *testing.T) {
	for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
		t.Run(string(protocol), func(t *testing.T) {
			srv := testserver.Memcached(t)
			c := connect(t, everySpec("memcache://"+srv.Addr, protocol))
			ctx := context.Background()
			mget := func(keys ...string) *workloads.Op {
				o := op(allMget, keys[0], nil)
				for _, k := range keys {
					o.Keys = append(o.Keys, []byte(k))
				}
				return o
			}
			// Meta commands count as their text peers do, but for two:
			// ma's creation of a missing counter counts as neither an
			// incr nor a set, and mg's T flag counts as a touch when it
			// finds the key and as a get miss when it does not.
			text, meta := 1, 0
			if protocol == slo.MemcacheMeta {
				text, meta = 0, 1
			}
			steps := []struct {
				name string
				op   *workloads.Op
				want map[string]int
			}{
				{"get of a missing key", op(allGet, "tailgate:1", nil), map[string]int{"cmd_get": 1, "get_misses": 1}},
				{"set", op(allSet, "tailgate:1", []byte("hello")), map[string]int{"cmd_set": 1, "curr_items": 1}},
				{"get of a stored key", op(allGet, "tailgate:1", nil), map[string]int{"cmd_get": 1, "get_hits": 1}},
				{"mget of two stored keys and a missing one", mget("tailgate:1", "tailgate:2", "tailgate:1"), map[string]int{"cmd_get": 3, "get_hits": 2, "get_misses": 1}},
				{"add of a stored key", op(allAdd, "tailgate:1", []byte("other")), map[string]int{"cmd_set": 1}},
				{"add of a missing key", op(allAdd, "tailgate:3", []byte("three")), map[string]int{"cmd_set": 1, "curr_items": 1}},
				{"replace of a missing key", op(allReplace, "tailgate:4", []byte("four")), map[string]int{"cmd_set": 1}},
				{"replace of a stored key", op(allReplace, "tailgate:3", []byte("3")), map[string]int{"cmd_set": 1}},
				{"touch of a stored key", op(allTouch, "tailgate:3", nil), map[string]int{"cmd_touch": 1, "touch_hits": 1}},
				{"touch of a missing key", op(allTouch, "tailgate:9", nil), map[string]int{"cmd_touch": text, "touch_misses": text, "cmd_get": meta, "get_misses": meta}},
				{"delete of a stored key", op(allDelete, "tailgate:3", nil), map[string]int{"delete_hits": 1, "curr_items": -1}},
				{"delete of a missing key", op(allDelete, "tailgate:3", nil), map[string]int{"delete_misses": 1}},
				{"incr of a counter that does not exist", op(allIncr, "tailgate:5", nil), map[string]int{"incr_misses": text, "cmd_set": text, "curr_items": 1}},
				{"incr of a counter", op(allIncr, "tailgate:5", nil), map[string]int{"incr_hits": 1}},
			}
			counters := []string{"cmd_get", "get_hits", "get_misses", "cmd_set", "curr_items", "cmd_touch", "touch_hits", "touch_misses",
				"delete_hits", "delete_misses", "incr_hits", "incr_misses"}
			for _, step := range steps {
				before := allStats(t, srv.Addr)
				if err := c.Do(ctx, step.op); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				after := allStats(t, srv.Addr)
				for _, name := range counters {
					if got := after[name] - before[name]; got != step.want[name] {
						t.Errorf("%s: %s moved by %d, want %d", step.name, name, got, step.want[name])
					}
				}
			}
			if got := rawGet(t, srv.Addr, "tailgate:n:5"); got != "VALUE tailgate:n:5 0 1\r\n2\r\nEND\r\n" {
				t.Errorf("the counter holds %q, want 2", got)
			}
			if got := rawGet(t, srv.Addr, "tailgate:1"); got != "VALUE tailgate:1 0 5\r\nhello\r\nEND\r\n" {
				t.Errorf("the add of a stored key changed it: %q", got)
			}
		})
	}
}

// A run of every operation, in each protocol, measures each without an
// error, and leaves no key outside the plan's prefix.
func TestARunOfEveryOperationTouchesOnlyKeysUnderThePrefix(t *testing.T) {
	t.Parallel()
	for _, protocol := range []slo.WireProtocol{slo.MemcacheText, slo.MemcacheMeta} {
		t.Run(string(protocol), func(t *testing.T) {
			srv := testserver.Memcached(t)
			s := everySpec("memcache://"+srv.Addr, protocol)
			s.Component.Workload.Batch = 4
			s.Component.Workload.Rate = 400
			before := allStats(t, srv.Addr)
			comp := testserver.MeasureEveryOperation(t, s)
			after := allStats(t, srv.Addr)
			// Every mget asks for 4 keys: the server's gets are the gets
			// and four times the mgets (the spec has no warmup), and in
			// meta the touches that missed.
			gets := comp.Operation("get").Count
			mgets := comp.Operation("mget").Count
			touches := int64(0)
			if protocol == slo.MemcacheMeta {
				touches = comp.Operation("touch").Count
			}
			got, want := int64(after["cmd_get"]-before["cmd_get"]), gets+4*mgets
			if got < want || got > want+touches {
				t.Errorf("the server counted %d gets; want %d (%d gets, %d mgets of 4), and up to %d touches more", got, want, gets, mgets, touches)
			}
			keysUnderThePrefix(t, "tcp", srv.Addr)
		})
	}
}
