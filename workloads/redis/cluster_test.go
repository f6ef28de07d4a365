package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// clusterSpec is a short mixed load of a cluster target.
func clusterSpec(target string, rate float64, duration time.Duration, mix ...slo.MixEntry) *workloads.Spec {
	s := spec(target, rate, duration, 2*time.Second)
	s.Component.Workload.Connections = 2
	s.Component.Workload.Keys = slo.Keys{Count: 300, Distribution: slo.DistributionUniform, Prefix: "tailgate:c:"}
	s.Component.Workload.Mix = mix
	return s
}

// tagZeroSlot is the slot of the hash tag {0}, which keys 0 to 9 share,
// the index of the node that serves it, and the index of the next node
// of the three, to move it to.
func tagZeroSlot(ctx context.Context, t *testing.T, cluster *testserver.RedisCluster) (slot int64, from, to int) {
	t.Helper()
	slot, err := cluster.Client(0).ClusterKeySlot(ctx, "tailgate:c:{0}").Result()
	require.NoError(t, err)
	from = cluster.Owner(ctx, int(slot))
	return slot, from, (from + 1) % 3
}

// nodesAddUp checks that every node of the cluster was loaded, with no
// error, and that the nodes' counts add up to the component's.
func nodesAddUp(t *testing.T, c *result.ComponentResult, cluster *testserver.RedisCluster) {
	t.Helper()
	all := c.Operation(slo.AllOperations)
	require.NotNil(t, all)
	assert.Zero(t, all.Errors, "errors: %v, first: %v", all.ErrorKinds, c.FirstErrors)
	var sum int64
	for _, addr := range cluster.Addrs() {
		n := c.Node(addr)
		if !assert.NotNil(t, n, "node %s has no record; nodes: %+v", addr, c.Nodes) {
			continue
		}
		assert.Positive(t, n.Count, "node %s was not loaded", addr)
		assert.Zero(t, n.Errors, "node %s: %v", addr, n.ErrorKinds)
		assert.Positive(t, n.LatencyNS.P99, "node %s", addr)
		sum += n.Count
	}
	assert.Equal(t, all.Count, sum, "the nodes' counts add up to the component's")
}

func TestClusterRunLoadsEveryMasterWithoutErrors(t *testing.T) {
	cluster := testserver.StartRedisCluster(t, 3)
	mix := []slo.MixEntry{{Operation: "get", Weight: 30}, {Operation: "set", Weight: 30}, {Operation: "mget", Weight: 10},
		{Operation: "hset", Weight: 10}, {Operation: "hget", Weight: 10}, {Operation: "lpush", Weight: 5}, {Operation: "ping", Weight: 5},
		{Operation: "member_move", Weight: 5}, {Operation: "three_keys", Weight: 5}}
	// Generic commands of several keys: each key in the first one's slot.
	commands := map[string]*slo.Command{"member_move": {Text: "SMOVE {{key}} {{key}} m1"}, "three_keys": {Text: "MGET {{key}} {{key}} {{key}}"}}
	for _, pipeline := range []int{1, 8} {
		t.Run("pipeline "+strconv.Itoa(pipeline), func(t *testing.T) {
			s := clusterSpec(cluster.Target(), 1500, time.Second, mix...)
			s.Component.Workload.Commands = commands
			s.Component.Workload.Pipeline = pipeline
			s.Component.Workload.Prefill = slo.Prefill{Enabled: true, Rate: 20000}
			s.Component.Workload.Cleanup = pipeline == 8
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := workloads.Run(ctx, []*workloads.Spec{s}, workloads.Options{})
			require.NoError(t, err)
			c := &res.Components[0]
			nodesAddUp(t, c, cluster)
			get := c.Operation("get")
			require.NotNil(t, get)
			assert.Zero(t, get.Misses, "prefill wrote every key on its master")
			mget := c.Operation("mget")
			require.NotNil(t, mget)
			assert.Zero(t, mget.Misses, "an mget's keys share a slot and were prefilled")
			assert.Positive(t, mget.Hits)
			three := c.Operation("three_keys")
			require.NotNil(t, three)
			assert.Equal(t, 3*three.Count, three.Hits, "a generic MGET's three keys share a slot and were prefilled")

			data, err := res.Encode()
			require.NoError(t, err)
			back, err := result.Decode(data)
			require.NoError(t, err, "the nodes' records pass the result file's checks")
			assert.Len(t, back.Components[0].Nodes, 3)
		})
	}
	// Every key sits on the master of its slot (a node refuses a key of
	// another's slot), under the prefix; cleanup left none.
	for i := range cluster.Nodes {
		keys, err := cluster.Client(i).Keys(context.Background(), "*").Result()
		require.NoError(t, err)
		for _, k := range keys {
			assert.True(t, strings.HasPrefix(k, "tailgate:c:{"), "key %q", k)
		}
		assert.Empty(t, keys, "node %s: cleanup deleted every key", cluster.Nodes[i].Addr)
	}

	// A pipelined flush writes only what was queued: a node's connection
	// that last sent prefill's SET alone does not send it again when
	// another node's commands go out, which would shift its stream by a
	// reply (a GET of a key never written reading the SET's OK as a hit).
	t.Run("a flush sends only what was queued", func(t *testing.T) {
		defer sock.CheckIdleAfter(time.Hour)() // no idle check to drop the shifted connection
		s := clusterSpec(cluster.Target(), 100, time.Second, slo.MixEntry{Operation: "get", Weight: 1})
		s.Component.Workload.Pipeline = 4
		_, c := testserver.Connect(t, s)
		ctx, deadline := context.Background(), time.Now().Add(5*time.Second)
		for n := range uint64(3) { // one hash tag: one node
			op := &workloads.Op{Key: []byte("tailgate:c:" + strconv.FormatUint(n, 10)), KeyIndex: n, Value: []byte("v")}
			require.NoError(t, c.(workloads.KeyspaceConn).Fill(ctx, op))
		}
		pc := c.(workloads.PipelineConn)
		for n := uint64(1000); n < 1030; n++ { // tags on every node, keys never written
			op := &workloads.Op{Key: []byte("tailgate:c:" + strconv.FormatUint(n, 10)), KeyIndex: n}
			require.NoError(t, pc.Queue(ctx, op, deadline))
			require.NoError(t, pc.Flush(ctx, deadline))
			var reply workloads.Op
			require.NoError(t, pc.Receive(ctx, &reply, deadline))
			assert.Zero(t, reply.Hits, "GET of key %d, never written, on node %d", n, reply.Node)
		}
	})
}

// errorStat reads a count from INFO of node i: an errorstat_ or cmdstat_
// line's count= or calls= field.
func errorStat(t *testing.T, cluster *testserver.RedisCluster, i int, section, line string) int {
	t.Helper()
	info, err := cluster.Client(i).Info(context.Background(), section).Result()
	require.NoError(t, err)
	for l := range strings.SplitSeq(info, "\r\n") {
		if rest, ok := strings.CutPrefix(l, line+":"); ok {
			for field := range strings.SplitSeq(rest, ",") {
				if v, ok := strings.CutPrefix(field, "count="); ok {
					n, _ := strconv.Atoi(v)
					return n
				}
				if v, ok := strings.CutPrefix(field, "calls="); ok {
					n, _ := strconv.Atoi(v)
					return n
				}
			}
		}
	}
	return 0
}

// A slot moves to another master while the load runs: while it migrates,
// its source answers ASK for keys it no longer holds (followed with
// ASKING on the target), and once it moved, MOVED (followed, and the map
// loaded again). No operation fails. It runs alone: its load must meet the
// slot in the moments it migrates, which four tests at once on the cores
// made it miss (no ASK in one run of five).
func TestClusterFollowsASlotMigrationThroughAskAndMoved(t *testing.T) {
	cluster := testserver.StartRedisCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	slot, from, to := tagZeroSlot(ctx, t, cluster)

	// 20 tags: a twentieth of the operations meet the moving slot.
	s := clusterSpec(cluster.Target(), 1000, 4*time.Second, slo.MixEntry{Operation: "get", Weight: 50}, slo.MixEntry{Operation: "set", Weight: 50})
	s.Component.Workload.Keys.Count = 200
	s.Component.Workload.Prefill = slo.Prefill{Enabled: true, Rate: 20000}
	type outcome struct {
		res *result.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := workloads.Run(ctx, []*workloads.Spec{s}, workloads.Options{})
		done <- outcome{res, err}
	}()
	time.Sleep(time.Second)
	cluster.MigrateSlot(ctx, int(slot), from, to, 300*time.Millisecond)
	got := <-done
	require.NoError(t, got.err)
	c := &got.res.Components[0]
	nodesAddUp(t, c, cluster)

	asks := errorStat(t, cluster, from, "errorstats", "errorstat_ASK")
	moved := errorStat(t, cluster, from, "errorstats", "errorstat_MOVED")
	asking := errorStat(t, cluster, to, "commandstats", "cmdstat_asking")
	t.Logf("slot %d from %s to %s: %d ASK and %d MOVED replies from the source, %d ASKING on the target",
		slot, cluster.Nodes[from].Addr, cluster.Nodes[to].Addr, asks, moved, asking)
	assert.Positive(t, asks, "the source answered ASK while the slot migrated")
	assert.Positive(t, asking, "the target was sent ASKING")
	assert.Positive(t, moved, "the source answered MOVED once the slot moved")
	assert.Positive(t, c.Operation("get").Hits, "the migrated keys were read on the target")
	n, err := cluster.Client(to).ClusterCountKeysInSlot(ctx, int(slot)).Result()
	require.NoError(t, err)
	assert.Positive(t, n, "the slot's keys are on the target")
}

// A slot its source has set migrating to a node that does not import it
// bounces for ever: the source answers ASK, the other MOVED back. The
// operation fails after a bounded number of redirections instead of
// hanging.
func TestClusterRedirectionLoopIsAnError(t *testing.T) {
	t.Parallel()
	cluster := testserver.StartRedisCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	slot, from, to := tagZeroSlot(ctx, t, cluster)
	require.NoError(t, cluster.Client(from).Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", cluster.IDs[to]).Err())

	s := clusterSpec(cluster.Target(), 100, time.Second, slo.MixEntry{Operation: "get", Weight: 1})
	_, conn := testserver.Connect(t, s)
	op := &workloads.Op{Key: []byte("tailgate:c:3"), KeyIndex: 3}
	start := time.Now()
	err := conn.Do(ctx, op)
	require.Error(t, err)
	assert.Equal(t, "redis redirections", workloads.ErrorKind(err), "%v", err)
	assert.Contains(t, err.Error(), "redirection loop")
	assert.Less(t, time.Since(start), 10*time.Second)
	t.Logf("%v", err)

	// A key of another slot is served as ever.
	op = &workloads.Op{Key: []byte("tailgate:c:15"), KeyIndex: 15}
	require.NoError(t, conn.Do(ctx, op))
}

func TestClusterTargetsAreChecked(t *testing.T) {
	for _, tt := range []struct{ name, target, want string }{
		{"a node without a port", "redis+cluster://127.0.0.1:7000,127.0.0.1:", `node "127.0.0.1:" is not host:port`},
		{"a database other than 0", "redis+cluster://127.0.0.1:7000/2", "database 0 only"},
		{"no node answering", "redis+cluster://127.0.0.1:1", "no node gave the slot map"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := clusterSpec(tt.target, 100, time.Second, slo.MixEntry{Operation: "get", Weight: 1})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d, err := workloads.Open(ctx, s)
			if err == nil {
				defer d.Close()
				_, err = d.Connect(ctx)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// BenchmarkPipelinedCluster sends gets pipelined 16 at a time to a
// cluster of three masters, the keys spread over their slots.
func BenchmarkPipelinedCluster(b *testing.B) {
	cluster := testserver.StartRedisCluster(b, 3)
	s := clusterSpec(cluster.Target(), 100, time.Second, slo.MixEntry{Operation: "get", Weight: 1})
	s.Component.Workload.Pipeline = 16
	batch := make([]workloads.Op, 16)
	for i := range batch {
		batch[i] = workloads.Op{Kind: kindGet, KeyIndex: uint64(i * 10)}
	}
	testserver.BenchmarkPipelined(b, connect(b, s), batch)
}
