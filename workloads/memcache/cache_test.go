package memcache_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
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
