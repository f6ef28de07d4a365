package testserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisCluster is a Redis Cluster of masters only, each a redis-server on
// loopback, started by a test and stopped with it.
type RedisCluster struct {
	// Nodes are the masters; node i serves the i-th equal share of the
	// slots.
	Nodes []*Server
	// IDs are the nodes' cluster ids, in the order of Nodes.
	IDs []string
	// bus are the nodes' cluster bus ports.
	bus     []int
	clients []*goredis.Client
	t       testing.TB
}

// clusterReady bounds how long StartRedisCluster waits for the cluster to
// agree on its slots.
const clusterReady = 20 * time.Second

// StartRedisCluster starts masters redis-servers with cluster-enabled
// yes on free loopback ports, gives node i slots i·16384/masters up to the
// next node's first (CLUSTER ADDSLOTSRANGE), joins them (CLUSTER MEET)
// (with its bus port) and waits, at most 20 s, until every node reports cluster_state:ok and
// serves its slots by the others' view too.
func StartRedisCluster(t testing.TB, masters int) *RedisCluster {
	t.Helper()
	c := &RedisCluster{t: t}
	for range masters {
		// The cluster bus port is set apart: the default (port + 10000)
		// may be taken or out of range.
		bus := FreePort(t)
		s := Redis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", "5000", "--cluster-require-full-coverage", "yes")
		c.Nodes = append(c.Nodes, s)
		c.bus = append(c.bus, bus)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterReady)
	defer cancel()
	for i := range c.Nodes {
		client := c.Client(i)
		id, err := client.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatalf("redis cluster node %s: CLUSTER MYID: %v", c.Nodes[i].Addr, err)
		}
		c.IDs = append(c.IDs, id)
		first, last := i*16384/masters, (i+1)*16384/masters-1
		if err := client.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err(); err != nil {
			t.Fatalf("redis cluster node %s: CLUSTER ADDSLOTSRANGE %d %d: %v", c.Nodes[i].Addr, first, last, err)
		}
	}
	for i := 1; i < masters; i++ {
		host, port, _ := strings.Cut(c.Nodes[i].Addr, ":")
		if err := c.Client(0).Do(ctx, "CLUSTER", "MEET", host, port, c.bus[i]).Err(); err != nil {
			t.Fatalf("redis cluster: CLUSTER MEET %s: %v", c.Nodes[i].Addr, err)
		}
	}
	c.WaitConsistent(ctx)
	return c
}

// Client is a plain client of node i (not following redirections),
// closed with the test.
func (c *RedisCluster) Client(i int) *goredis.Client {
	for len(c.clients) < len(c.Nodes) {
		client := goredis.NewClient(&goredis.Options{Addr: c.Nodes[len(c.clients)].Addr, MaxRetries: -1})
		c.t.Cleanup(func() { client.Close() })
		c.clients = append(c.clients, client)
	}
	return c.clients[i]
}

// Addrs lists the nodes' addresses.
func (c *RedisCluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		out[i] = s.Addr
	}
	return out
}

// Target is the cluster as a target URL: redis+cluster:// and every node.
func (c *RedisCluster) Target() string {
	return "redis+cluster://" + strings.Join(c.Addrs(), ",")
}

// WaitConsistent waits until ctx ends for every node to report
// cluster_state:ok and the same owner of every slot, and fails the test
// when they do not.
func (c *RedisCluster) WaitConsistent(ctx context.Context) {
	c.t.Helper()
	var last string
	for {
		last = c.inconsistency(ctx)
		if last == "" {
			return
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("redis cluster did not settle: %s", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// inconsistency says what keeps the cluster from being settled, or "".
func (c *RedisCluster) inconsistency(ctx context.Context) string {
	var want string
	for i := range c.Nodes {
		client := c.Client(i)
		info, err := client.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Sprintf("node %s: CLUSTER INFO: %v", c.Nodes[i].Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))) {
			return fmt.Sprintf("node %s: state not ok or not every node known yet", c.Nodes[i].Addr)
		}
		view, err := c.owners(ctx, i)
		if err != nil {
			return fmt.Sprintf("node %s: %v", c.Nodes[i].Addr, err)
		}
		got := strings.Join(view, ",")
		if i == 0 {
			want = got
		} else if got != want {
			return fmt.Sprintf("node %s sees other owners than node %s", c.Nodes[i].Addr, c.Nodes[0].Addr)
		}
	}
	return ""
}

// Owner is the index of the node that serves slot, by node 0's view.
func (c *RedisCluster) Owner(ctx context.Context, slot int) int {
	c.t.Helper()
	view, err := c.owners(ctx, 0)
	if err != nil {
		c.t.Fatalf("node %s: %v", c.Nodes[0].Addr, err)
	}
	for i, id := range c.IDs {
		if id == view[slot] {
			return i
		}
	}
	c.t.Fatalf("slot %d has no owner", slot)
	return -1
}

// owners is node i's view of the cluster (CLUSTER SHARDS): the id of the
// master of each slot, "" for a slot none serves.
func (c *RedisCluster) owners(ctx context.Context, i int) ([]string, error) {
	shards, err := c.Client(i).ClusterShards(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER SHARDS: %w", err)
	}
	view := make([]string, 16384)
	for _, sh := range shards {
		for _, n := range sh.Nodes {
			if n.Role != "master" {
				continue
			}
			for _, r := range sh.Slots {
				for slot := r.Start; slot <= r.End && slot < 16384; slot++ {
					view[slot] = n.ID
				}
			}
		}
	}
	return view, nil
}

// MigrateSlot moves slot from node from to node to as redis-cli's
// resharding does: CLUSTER SETSLOT IMPORTING on to, MIGRATING on from,
// MIGRATE of its keys in batches, then SETSLOT NODE on to, from and every
// other node. pause is slept after MIGRATING is set and after each batch,
// so that operations meet the slot while it migrates (ASK); once done,
// operations that still route to from meet MOVED.
func (c *RedisCluster) MigrateSlot(ctx context.Context, slot, from, to int, pause time.Duration) {
	c.t.Helper()
	src, dst := c.Client(from), c.Client(to)
	must := func(what string, err error) {
		if err != nil {
			c.t.Fatalf("migrating slot %d from %s to %s: %s: %v", slot, c.Nodes[from].Addr, c.Nodes[to].Addr, what, err)
		}
	}
	must("SETSLOT IMPORTING", dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", c.IDs[from]).Err())
	must("SETSLOT MIGRATING", src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", c.IDs[to]).Err())
	time.Sleep(pause)
	host, port, _ := strings.Cut(c.Nodes[to].Addr, ":")
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 10).Result()
		must("GETKEYSINSLOT", err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "REPLACE", "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must("MIGRATE", src.Do(ctx, args...).Err())
		time.Sleep(pause)
	}
	must("SETSLOT NODE on the target", dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", c.IDs[to]).Err())
	must("SETSLOT NODE on the source", src.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", c.IDs[to]).Err())
	for i := range c.Nodes {
		if i != from && i != to {
			must("SETSLOT NODE", c.Client(i).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", c.IDs[to]).Err())
		}
	}
}
