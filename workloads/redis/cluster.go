package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// Redis Cluster: redis+cluster://[user:password@]host:port[,host:port...]
// and rediss+cluster:// (TLS on every node). The listed nodes are seeds:
// the driver asks the first that answers for the slot map (CLUSTER
// SLOTS) and loads the masters it names, each operation on the master of
// its key's slot. It behaves as go-redis's ClusterClient does:
//
//   - Every connection of the plan is one connection to each master: a
//     pool per node, of the workload's connections, dialed and proven
//     (PING) before load.
//   - MOVED slot addr: the operation is sent again to addr at once, and
//     the slot map is loaded again in the background (at most one load at
//     a time, and one each reloadEvery), so that later operations go to
//     the slot's new master directly.
//   - ASK slot addr: the operation is sent again to addr, each of its
//     commands after ASKING; the map stays as it is (the slot is still
//     migrating).
//   - TRYAGAIN (a multi-key command during a migration): sent again after
//     a short pause.
//   - At most maxRedirects redirections per operation: past them it fails
//     as "redis redirections", a loop between nodes being an error, not a
//     hang. Every retry is inside the operation, measured from its
//     intended start.
//
// Keys carry a hash tag, so that every key of an operation is in one
// slot: key number n is prefix{g}n with g = n / 10, and its other types
// prefix{g}n:h and so on. mget reads the ten keys of one tag (numbers 10g
// to 10g+9), prefill and cleanup write and delete all of a key's types
// with the commands of one node. A prefix with a hash tag of its own puts
// every key in that tag's slot, as Redis reads it.
//
// With workload.pipeline above 1 each node connection pipelines as a
// single server's does; a MOVED or ASK reply to a pipelined command is
// counted as that operation's error (the map is loaded again after
// MOVED), since its command cannot be sent again in order.

func init() {
	workloads.Register("redis+cluster", OpenCluster)
	workloads.Register("rediss+cluster", OpenCluster)
}

// maxRedirects is how many MOVED, ASK and TRYAGAIN replies one operation
// follows, as go-redis's ClusterOptions.MaxRedirects defaults to.
const maxRedirects = 3

// reloadEvery is the least time between two loads of the slot map.
const reloadEvery = 100 * time.Millisecond

// tryAgainPause is how long an operation answered TRYAGAIN waits before
// it is sent again.
const tryAgainPause = 5 * time.Millisecond

// clusterDriver loads a Redis Cluster (see the comment above).
type clusterDriver struct {
	// base holds what every node's connections share: the operations,
	// authentication, TLS and timeouts; its addr is the first seed.
	base     *Driver
	seeds    []string
	depth    int // the workload's pipeline
	describe string

	routes atomic.Pointer[slotMap]

	mu    sync.Mutex
	nodes []string       // every node met, by index; only grows
	index map[string]int // node address to index

	loadMu    sync.Mutex // one load at a time
	reloading atomic.Bool
	lastLoad  atomic.Int64 // UnixNano of the last load's start
	ctx       context.Context
	cancel    context.CancelFunc
	loads     sync.WaitGroup
}

// slotMap is one load of the cluster's slots: the index of the node that
// serves each, -1 for a slot no node serves.
type slotMap struct {
	owner [slotCount]int32
}

var (
	_ workloads.Driver       = (*clusterDriver)(nil)
	_ workloads.NodeReporter = (*clusterDriver)(nil)
	_ workloads.MultiKey     = (*clusterDriver)(nil)
)

// KeysPerOp is how many keys an operation of the kind takes (see
// Driver.KeysPerOp).
func (d *clusterDriver) KeysPerOp(kind int) int { return d.base.KeysPerOp(kind) }

// OpenCluster builds a driver for a redis+cluster:// or rediss+cluster://
// target. It does not connect: the first Connect loads the slot map.
func OpenCluster(_ context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	shown := workloads.Redact(target.Redacted(), spec.Secrets)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("component %q: target %q: %s", spec.Component.Name, shown, fmt.Sprintf(format, args...))
	}
	seeds, err := workloads.SplitHostList(target.Host, "")
	if err != nil {
		return nil, bad("node %v", err)
	}
	if p := strings.TrimPrefix(target.Path, "/"); p != "" && p != "0" {
		return nil, bad("a Redis Cluster has database 0 only, not %q", p)
	}
	single := *target
	single.Scheme = strings.TrimSuffix(target.Scheme, "+cluster")
	single.Host, single.Path = seeds[0], ""
	opt, err := goredis.ParseURL(single.String())
	if err != nil {
		return nil, bad("%v", workloads.RedactError(err, spec.Secrets))
	}
	base, err := newDriver(opt, spec, shown)
	if err != nil {
		return nil, err
	}
	base.cluster = true
	d := &clusterDriver{base: base, seeds: seeds, depth: spec.Pipeline(), describe: shown, index: map[string]int{}}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Describe names the target, password redacted.
func (d *clusterDriver) Describe() string { return d.describe }

// Nodes lists every node the run met, masters of the first map first.
func (d *clusterDriver) Nodes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.nodes...)
}

// Close waits for a load of the map in progress.
func (d *clusterDriver) Close() error {
	d.cancel()
	d.loads.Wait()
	return nil
}

// nodeIndex is the index of the node at addr, added when first met.
func (d *clusterDriver) nodeIndex(addr string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, ok := d.index[addr]; ok {
		return i
	}
	d.nodes = append(d.nodes, addr)
	d.index[addr] = len(d.nodes) - 1
	return len(d.nodes) - 1
}

// addrOf is the address of node i.
func (d *clusterDriver) addrOf(i int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nodes[i]
}

// Connect loads the slot map if no connection did yet, then opens one
// connection to every master and proves each answers.
func (d *clusterDriver) Connect(ctx context.Context) (workloads.Conn, error) {
	m, err := d.slots(ctx)
	if err != nil {
		return nil, err
	}
	c := &clusterConn{d: d, inFlight: sock.NewInFlight[int32](d.depth)}
	seen := map[int32]bool{}
	for _, node := range m.owner {
		if node < 0 || seen[node] {
			continue
		}
		seen[node] = true
		addr := d.addrOf(int(node))
		nc, err := d.base.connectTo(ctx, addr)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("redis cluster node %s: %w", addr, err)
		}
		c.grow(int(node))
		c.nodes[node] = nc
	}
	return c, nil
}

// slots returns the slot map, loading it first if no one has.
func (d *clusterDriver) slots(ctx context.Context) (*slotMap, error) {
	if m := d.routes.Load(); m != nil {
		return m, nil
	}
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	if m := d.routes.Load(); m != nil {
		return m, nil
	}
	if err := d.loadLocked(ctx); err != nil {
		return nil, err
	}
	return d.routes.Load(), nil
}

// reload loads the slot map again in the background, after a MOVED: at
// most one load at a time and one each reloadEvery; operations keep the
// map they have meanwhile.
func (d *clusterDriver) reload() {
	if d.ctx.Err() != nil || time.Now().UnixNano()-d.lastLoad.Load() < int64(reloadEvery) || !d.reloading.CompareAndSwap(false, true) {
		return
	}
	d.loads.Add(1)
	go func() {
		defer d.loads.Done()
		defer d.reloading.Store(false)
		ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second)
		defer cancel()
		d.loadMu.Lock()
		defer d.loadMu.Unlock()
		// A failed load keeps the map there is: MOVED still routes every
		// operation, and the next MOVED tries again.
		_ = d.loadLocked(ctx)
	}()
}

// loadLocked asks the known masters, then the seeds, for CLUSTER SLOTS
// until one answers, and installs the map it gives. d.loadMu is held.
func (d *clusterDriver) loadLocked(ctx context.Context) error {
	d.lastLoad.Store(time.Now().UnixNano())
	candidates := append(d.Nodes(), d.seeds...)
	var errs []error
	for i, addr := range candidates {
		if i > 0 && contains(candidates[:i], addr) {
			continue
		}
		ranges, err := d.fetchSlots(ctx, addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		m := &slotMap{}
		for i := range m.owner {
			m.owner[i] = -1
		}
		for _, r := range ranges {
			node := int32(d.nodeIndex(r.addr))
			for s := r.first; s <= r.last; s++ {
				m.owner[s] = node
			}
		}
		d.routes.Store(m)
		return nil
	}
	return fmt.Errorf("%w: redis cluster: no node gave the slot map: %w", workloads.ErrUnreachable, errors.Join(errs...))
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// clusterSlots is the command that asks a node for the slot map.
var clusterSlots = appendCommand(nil, "CLUSTER", []byte("SLOTS"))

// fetchSlots asks the node at addr for CLUSTER SLOTS over a connection of
// its own, authenticated as the operations' are.
func (d *clusterDriver) fetchSlots(ctx context.Context, addr string) ([]slotRange, error) {
	c := d.base.newConn(addr)
	defer c.Close()
	deadline := time.Now().Add(max(d.base.timeout, d.base.dialTimeout))
	if err := c.Redial(ctx, deadline); err != nil {
		return nil, err
	}
	c.Link.Watch(ctx)
	c.Out = append(c.Out[:0], clusterSlots...)
	if err := c.Send(); err != nil {
		return nil, err
	}
	v, err := readValue(c.R, 0)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	return parseSlots(v, host)
}

// clusterKey appends the key of number n on a cluster: its tag, then n.
func (d *Driver) clusterKey(b []byte, n uint64) []byte {
	return strconv.AppendUint(d.clusterTag(b, n), n, 10)
}

// clusterTag appends what decides the slot of key number n: the prefix
// and the hash tag {n/10}, one slot for the ten keys an mget reads.
func (d *Driver) clusterTag(b []byte, n uint64) []byte {
	b = append(append(b, d.prefix...), '{')
	b = strconv.AppendUint(b, n/mgetKeys, 10)
	return append(b, '}')
}

// clusterMget renders mget on a cluster: MGET of the keys of op's key's
// hash tag, numbers 10g to 10g+9 below keys.count.
func (c *conn) clusterMget(b []byte, op *workloads.Op) []byte {
	from := op.KeyIndex / mgetKeys * mgetKeys
	n := min(uint64(mgetKeys), c.d.keyCount-from)
	b = c.header(b, 1+int(n), "MGET")
	for i := range n {
		c.keyBuf = c.d.clusterKey(c.keyBuf[:0], from+i)
		b = appendBulk(b, c.keyBuf)
	}
	return b
}

// clusterConn is one connection of the plan to a cluster: a connection
// to each node, dialed when first needed, used by one worker. The engine
// may Close it from another goroutine.
type clusterConn struct {
	d *clusterDriver
	// nodes are its connections, by node index; mu guards their growth
	// against Close.
	mu     sync.Mutex
	nodes  []*conn
	closed bool
	// tag holds the prefix and hash tag of the key being routed.
	tag []byte
	// inFlight is the node of each pipelined operation in flight.
	inFlight sock.InFlight[int32]
}

var (
	_ workloads.PipelineConn = (*clusterConn)(nil)
	_ workloads.KeyspaceConn = (*clusterConn)(nil)
)

// grow makes room for node i in c.nodes.
func (c *clusterConn) grow(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.growLocked(i)
}

// growLocked is grow with c.mu held.
func (c *clusterConn) growLocked(i int) {
	for len(c.nodes) <= i {
		c.nodes = append(c.nodes, nil)
	}
}

// node returns the connection to node i, creating it (undialed) when the
// worker meets the node first.
func (c *clusterConn) node(i int32) (*conn, error) {
	if int(i) < len(c.nodes) && c.nodes[i] != nil {
		return c.nodes[i], nil
	}
	addr := c.d.addrOf(int(i))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, net.ErrClosed
	}
	c.growLocked(int(i))
	c.nodes[i] = c.d.base.newConn(addr)
	return c.nodes[i], nil
}

// route is the node that serves op's key, by the current slot map.
func (c *clusterConn) route(op *workloads.Op) (int32, int, error) {
	c.tag = c.d.base.clusterTag(c.tag[:0], op.KeyIndex)
	slot := keySlot(c.tag) // the key's: its first '{' and the '}' after it are in its tag
	node := c.d.routes.Load().owner[slot]
	if node < 0 {
		c.d.reload()
		return -1, slot, &workloads.StatusError{Kind: "redis CLUSTERDOWN", Detail: "slot " + strconv.Itoa(slot) + " is served by no node"}
	}
	return node, slot, nil
}

// Do performs one operation on the master of its key's slot, following
// redirections (see the comment at the top of this file).
func (c *clusterConn) Do(ctx context.Context, op *workloads.Op) error {
	return c.do(ctx, op, c.d.base.ops[op.Kind])
}

// Fill writes op's keys for prefill on their node.
func (c *clusterConn) Fill(ctx context.Context, op *workloads.Op) error {
	return c.do(ctx, op, opFill)
}

// Delete deletes op's keys for cleanup on their node.
func (c *clusterConn) Delete(ctx context.Context, op *workloads.Op) error {
	return c.do(ctx, op, opCleanup)
}

func (c *clusterConn) do(ctx context.Context, op *workloads.Op, kind operation) error {
	node, slot, err := c.route(op)
	if err != nil {
		return err
	}
	ask := false
	for redirects := 0; ; redirects++ {
		nc, err := c.node(node)
		if err != nil {
			return err
		}
		op.Node = int(node) + 1
		op.Hits, op.Misses = 0, 0
		nc.asking = ask
		err = nc.roundTrip(ctx, op, kind)
		nc.asking = false
		se := workloads.AsStatus(err)
		if se == nil {
			return err
		}
		r, isRedirect := parseRedirection(se.Detail, nc.addr)
		tryAgain := se.Kind == "redis TRYAGAIN"
		if !isRedirect && !tryAgain {
			return err
		}
		if redirects == maxRedirects {
			return &workloads.StatusError{Kind: "redis redirections",
				Detail: fmt.Sprintf("slot %d: more than %d redirections, the last %q: a redirection loop", slot, maxRedirects, se.Detail)}
		}
		if tryAgain {
			t := time.NewTimer(tryAgainPause)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		}
		if !r.ask {
			c.d.reload()
		}
		node, ask = int32(c.d.nodeIndex(r.addr)), r.ask
	}
}

// Queue renders op's commands into the send buffer of its node's
// connection.
func (c *clusterConn) Queue(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	node, _, err := c.route(op)
	if err != nil {
		return err
	}
	nc, err := c.node(node)
	if err != nil {
		return err
	}
	op.Node = int(node) + 1
	if err := nc.Queue(ctx, op, deadline); err != nil {
		return err
	}
	*c.inFlight.Next() = node
	c.inFlight.Push()
	return nil
}

// Flush writes what is queued on each node's connection, one write each
// (none on a connection with nothing in flight, see sock.Pipeline.Flush).
func (c *clusterConn) Flush(ctx context.Context, deadline time.Time) error {
	for _, nc := range c.nodes {
		if nc != nil {
			if err := nc.Flush(ctx, deadline); err != nil {
				return err
			}
		}
	}
	return nil
}

// Await waits for the reply to the oldest operation in flight to begin.
func (c *clusterConn) Await(ctx context.Context, until time.Time) (bool, error) {
	if c.inFlight.Empty() {
		return false, nil
	}
	return c.nodes[*c.inFlight.Oldest()].Await(ctx, until)
}

// Receive reads the reply to the oldest operation in flight, from its
// node's connection. A MOVED reply loads the slot map again.
func (c *clusterConn) Receive(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	node := *c.inFlight.Oldest()
	op.Node = int(node) + 1
	err := c.nodes[node].Receive(ctx, op, deadline)
	se := workloads.AsStatus(err)
	switch {
	case err == nil:
	case se != nil:
		if r, ok := parseRedirection(se.Detail, c.nodes[node].addr); ok && !r.ask {
			c.d.reload()
		}
	default:
		return err // the engine abandons every node's connection
	}
	c.inFlight.Pop()
	return err
}

// Abandon drops every node's connection and what was in flight on them.
func (c *clusterConn) Abandon() {
	for _, nc := range c.nodes {
		if nc != nil {
			nc.Abandon()
		}
	}
	c.inFlight.Reset()
}

// Close closes every node's connection.
func (c *clusterConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, nc := range c.nodes {
		if nc != nil {
			errs = append(errs, nc.Close())
		}
	}
	return errors.Join(errs...)
}
