package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// infoStat reads one counter of INFO stats.
func infoStat(t *testing.T, client *goredis.Client, name string) int64 {
	t.Helper()
	info, err := client.Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("INFO stats has no %s", name)
	return 0
}

// keysUnder counts the server's keys under prefix.
func keysUnder(t *testing.T, client *goredis.Client, prefix string) int {
	t.Helper()
	keys, err := client.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	return len(keys)
}

// Up to 16 commands in flight on a connection carry more than one at a
// time, in closed loop. One connection: at depth 1 it waits a round trip
// per command, which is what pipelining saves, whereas with several the
// generator's own CPU (under -race, on a busy machine) bounds depth 1 and
// 16 alike and the margin shrinks to noise.
func TestPipeliningRaisesTheClosedLoopRate(t *testing.T) {
	srv := testserver.Redis(t)
	counts := map[int]int64{}
	for _, depth := range []int{1, 16} {
		s := spec("redis://"+srv.Addr, 0, 500*time.Millisecond, time.Second)
		s.Component.Workload.Connections = 1
		s.Component.Workload.Pipeline = depth
		res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
		require.NoError(t, err)
		all := res.Components[0].Operation("all")
		assert.Zero(t, all.Errors, "depth %d", depth)
		counts[depth] = all.Count
	}
	t.Logf("closed loop, 1 connection, 500 ms: %d operations at pipeline 1, %d at pipeline 16 (%.1fx)",
		counts[1], counts[16], float64(counts[16])/float64(counts[1]))
	assert.Greater(t, float64(counts[16]), 1.5*float64(counts[1]), "16 commands in flight on a connection carry more than 1")
}

func TestHitsAndMissesAreWhatTheServerCounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		prefill  bool
		pipeline int
		// check sees the hit rate the run reported.
		check func(t *testing.T, hitRate float64)
	}{
		{"a prefilled run hits", true, 1, func(t *testing.T, hitRate float64) {
			assert.GreaterOrEqual(t, hitRate, 0.99)
		}},
		{"a prefilled pipelined run hits", true, 8, func(t *testing.T, hitRate float64) {
			assert.GreaterOrEqual(t, hitRate, 0.99)
		}},
		{"a cold run misses", false, 1, func(t *testing.T, hitRate float64) {
			assert.Less(t, hitRate, 0.5, "5000 keys, 10% sets for a second: most gets find nothing")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := redisWithClient(t)
			s := spec("redis://"+srv.Addr, 1000, time.Second, time.Second)
			w := &s.Component.Workload
			w.Keys.Count = 5000
			w.Mix = []slo.MixEntry{{Operation: "get", Weight: 90}, {Operation: "set", Weight: 10}}
			w.Prefill = slo.Prefill{Enabled: tt.prefill, Rate: 50000}
			w.Pipeline = tt.pipeline
			var last workloads.KeyspaceProgress
			res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{
				Keyspace: func(p workloads.KeyspaceProgress) { last = p },
			})
			require.NoError(t, err)
			get := res.Components[0].Operation("get")
			require.Zero(t, get.Errors)
			assert.Equal(t, get.Count, get.Hits+get.Misses, "every measured GET is a hit or a miss")
			// Warmup is 0: every GET the server answered was measured.
			assert.EqualValues(t, infoStat(t, client, "keyspace_hits"), get.Hits, "hits as the server counted them")
			assert.EqualValues(t, infoStat(t, client, "keyspace_misses"), get.Misses, "misses as the server counted them")
			rate, ok := get.HitRate()
			require.True(t, ok)
			t.Logf("%d hits, %d misses: hit rate %.2f%%", get.Hits, get.Misses, rate*100)
			tt.check(t, rate)
			if tt.prefill {
				assert.Equal(t, workloads.KeyspaceProgress{Component: "cache", Pass: workloads.PassPrefill, Done: 5000, Total: 5000},
					workloads.KeyspaceProgress{Component: last.Component, Pass: last.Pass, Done: last.Done, Total: last.Total})
				assert.GreaterOrEqual(t, last.Elapsed, 99*time.Millisecond, "5000 keys at 50000/s take 0.1 s")
			}
		})
	}
}

func TestWritesExpireAndCleanupDeletesThePlansKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ttl     time.Duration
		cleanup bool
		// low and high bound the TTL of a key the run wrote, in seconds.
		low, high float64
	}{
		{"a plan's ttl", 60 * time.Second, false, 55, 60},
		{"the default outlives the run by an hour", 0, false, 3595, 3602},
		{"cleanup leaves nothing", 0, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := redisWithClient(t)
			require.NoError(t, client.Set(context.Background(), "someone-elses-key", "v", 0).Err())
			s := spec("redis://"+srv.Addr, 500, time.Second, time.Second)
			w := &s.Component.Workload
			w.TTL, w.Cleanup = tt.ttl, tt.cleanup
			w.Prefill = slo.Prefill{Enabled: true, Rate: 20000}
			w.Pipeline = 4
			res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
			require.NoError(t, err)
			assert.Empty(t, res.Warnings)
			assert.Equal(t, "v", client.Get(context.Background(), "someone-elses-key").Val(), "a key outside the prefix was touched")
			if tt.cleanup {
				assert.Zero(t, keysUnder(t, client, "tailgate:t:"), "cleanup deleted every key of the plan")
				assert.EqualValues(t, 1, client.DBSize(context.Background()).Val(), "and nothing else")
				return
			}
			assert.Equal(t, 500, keysUnder(t, client, "tailgate:t:"), "prefill wrote every key")
			for _, key := range []string{"tailgate:t:0", "tailgate:t:123", "tailgate:t:499"} {
				ttl, err := client.TTL(context.Background(), key).Result()
				require.NoError(t, err)
				assert.True(t, tt.low <= ttl.Seconds() && ttl.Seconds() <= tt.high, "TTL %s = %s, want %.0f to %.0f s", key, ttl, tt.low, tt.high)
			}
		})
	}
}

func TestValuesOfADistributionAreStoredAsDrawn(t *testing.T) {
	t.Parallel()
	srv, client := redisWithClient(t)
	s := spec("redis://"+srv.Addr, 500, time.Second, time.Second)
	w := &s.Component.Workload
	w.Values = &slo.Values{Distribution: slo.SizeUniform, Min: 100, Max: 1000}
	w.ValueSize = 1000
	w.Prefill = slo.Prefill{Enabled: true, Rate: 50000}
	_, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
	require.NoError(t, err)
	sizes := map[int]bool{}
	contents := map[string]bool{}
	for k := range 500 {
		v, err := client.Get(context.Background(), "tailgate:t:"+strconv.Itoa(k)).Result()
		require.NoError(t, err)
		require.True(t, 100 <= len(v) && len(v) <= 1000, "value of %d bytes", len(v))
		sizes[len(v)] = true
		contents[v] = true
	}
	assert.Greater(t, len(sizes), 300, "500 values of sizes from 100 to 1000 bytes")
	assert.Len(t, contents, 500, "every value is its own")
}

// A pipelined connection whose server stops answering fails what was in
// flight as timeouts, and the run goes on when it answers again.
func TestAPipelinedConnectionRecoversFromAHungServer(t *testing.T) {
	srv := testserver.Redis(t)
	s := spec("redis://"+srv.Addr, 400, 2*time.Second, 100*time.Millisecond)
	s.Component.Workload.Pipeline = 8
	s.Component.Workload.MaxErrorRate = 1
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(700 * time.Millisecond)
		srv.Freeze()
		time.Sleep(300 * time.Millisecond)
		srv.Thaw()
	}()
	res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
	<-done
	require.NoError(t, err)
	all := res.Components[0].Operation("all")
	t.Logf("%d measured, %d errors %v", all.Count, all.Errors, all.ErrorKinds)
	assert.Positive(t, all.ErrorKinds[workloads.KindTimeout], "operations in flight during the stall time out")
	assert.Greater(t, all.Count, int64(500), "and the run goes on after it")
	last := all.Intervals[len(all.Intervals)-1]
	assert.Positive(t, last.Count, "the last interval has successes")
}

// commandStats reads INFO commandstats: calls and failed calls by command.
func commandStats(t *testing.T, client *goredis.Client) map[string][2]int64 {
	t.Helper()
	info, err := client.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	out := map[string][2]int64{}
	for _, line := range strings.Split(info, "\r\n") {
		name, fields, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		var calls, failed int64
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				calls = n
			case "failed_calls", "rejected_calls":
				failed += n
			}
		}
		out[name] = [2]int64{calls, failed}
	}
	return out
}

func TestEveryCommandOfTheMixReachesTheServerAndStaysUnderThePrefix(t *testing.T) {
	t.Parallel()
	srv, client := redisWithClient(t)
	require.NoError(t, client.Set(context.Background(), "someone-elses-key", "v", 0).Err())
	ops := slo.MixOperations(slo.ProtocolRedis)
	s := spec("redis://"+srv.Addr, float64(100*len(ops)), time.Second, time.Second)
	w := &s.Component.Workload
	w.Keys.Count = 50
	w.Mix = nil
	for _, op := range ops {
		w.Mix = append(w.Mix, slo.MixEntry{Operation: op, Weight: 1})
	}
	w.Prefill = slo.Prefill{Enabled: true, Rate: 20000}
	w.Pipeline = 4
	res, err := workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
	require.NoError(t, err)
	c := res.Components[0]
	for _, name := range ops {
		op := c.Operation(name)
		require.NotNil(t, op, name)
		assert.Positive(t, op.Count, "%s measured", name)
		assert.Zero(t, op.Errors, "%s: %v", name, op.ErrorKinds)
		if slo.IsRead(name) {
			perOp := map[string]int64{"mget": 10, "hmget": 4}[name] // keys or fields each reads
			assert.Equal(t, op.Count*max(perOp, 1), op.Hits+op.Misses, "%s: every read is counted as hits and misses", name)
			assert.Positive(t, op.Hits, "%s of a prefilled keyspace hits", name)
		} else {
			assert.Zero(t, op.Hits+op.Misses, "%s reads nothing", name)
		}
	}
	stats := commandStats(t, client)
	for _, cmd := range []string{"get", "set", "mget", "del", "hget", "hmget", "hgetall", "hset", "hdel", "hincrby",
		"lpush", "rpush", "ltrim", "lrange", "llen", "lpop", "rpop", "sadd", "smembers", "srem",
		"zadd", "zrange", "zincrby", "zrank", "zrem", "zscore", "ping", "expire"} {
		assert.Positive(t, stats[cmd][0], "the server counted no %s", strings.ToUpper(cmd))
		assert.Zero(t, stats[cmd][1], "the server failed %s calls", strings.ToUpper(cmd))
	}
	keys, err := client.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	types := map[string]bool{}
	for _, k := range keys {
		if k == "someone-elses-key" {
			continue
		}
		require.True(t, strings.HasPrefix(k, "tailgate:t:"), "key %q outside the prefix", k)
		typ, err := client.Type(context.Background(), k).Result()
		require.NoError(t, err)
		types[typ] = true
		ttl, err := client.TTL(context.Background(), k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "key %q of type %s expires", k, typ)
	}
	assert.Equal(t, map[bool]bool{true: true}, map[bool]bool{types["string"] && types["hash"] && types["list"] && types["set"] && types["zset"]: true},
		"keys of every type: %v", types)

	// Cleanup deletes every key of every type, and nothing else. Cleanup
	// passes over the whole keyspace and the first run left keys of every
	// type in it, so this run's own load need not last.
	w.Cleanup, w.Prefill.Enabled = true, false
	s.Duration = 100 * time.Millisecond
	_, err = workloads.Run(context.Background(), []*workloads.Spec{s}, workloads.Options{})
	require.NoError(t, err)
	assert.Zero(t, keysUnder(t, client, "tailgate:t:"))
	assert.Equal(t, "v", client.Get(context.Background(), "someone-elses-key").Val())
}
