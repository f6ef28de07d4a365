package memcache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// A server list, memcache://[user:password@]host[:port],host[:port]...
// or memcaches://... (TLS to every server, each checked against its own
// host name unless the plan's tls.server_name says another), is a
// client-side pool as libmemcached keeps one: each key lives on the
// server the ketama continuum of the list gives it (see ketama), and
// every operation goes to its key's server. Every server is one node
// of the result (Op.Node), by its host:port in the list's order, with
// the default port filled in.
//
//   - Every connection of the plan is one connection to each server,
//     dialed and proven ("version", after authentication when the URL
//     has a user, the same for every server) before load.
//   - incr's counter key (<prefix>n:<number>) is a key of its own: it
//     and its creating add go to the counter's server, not its value's,
//     and so does cleanup's delete of it.
//   - mget is split as libmemcached's memcached_mget splits it: one get
//     (or quiet mg batch) per server holding some of its keys, all sent
//     before any reply is read. It is still one operation, measured from
//     its intended start to the last of its servers' replies, its hits
//     and misses those of all its keys; it counts, among the nodes, on
//     the server of its first key. A part that fails fails the
//     operation (on the part's server), once the other parts' replies
//     are read so their connections stay in step.
//   - With workload.pipeline above 1 each server's connection pipelines
//     as a single server's does; replies come back in order on each, so
//     the oldest operation's replies are the next on its servers'.
//
// A unix socket is a target of its own (memcache+unix://): a list holds
// TCP or TLS servers only.

// poolDriver loads a list of memcached servers.
type poolDriver struct {
	// base holds what every server's connections share: the
	// operations, authentication, timeouts; servers are its copies, one
	// per server of the list, each with its address and TLS settings.
	base     *Driver
	servers  []*Driver
	addrs    []string
	ring     *ketama
	describe string
}

var (
	_ workloads.Driver       = (*poolDriver)(nil)
	_ workloads.NodeReporter = (*poolDriver)(nil)
	_ workloads.MultiKey     = (*poolDriver)(nil)
	_ workloads.PipelineConn = (*poolConn)(nil)
	_ workloads.KeyspaceConn = (*poolConn)(nil)
)

// newPool builds the driver of the servers at addrs (host:port) from d,
// the driver Open built for the first of them.
func newPool(d *Driver, addrs []string) *poolDriver {
	p := &poolDriver{base: d, addrs: addrs, ring: newKetama(addrs, nil), describe: d.describe + " (ketama)"}
	for _, addr := range addrs {
		s := *d
		s.addr = addr
		if d.tls != nil && d.tls.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			s.tls = d.tls.Clone()
			s.tls.ServerName = host
		}
		p.servers = append(p.servers, &s)
	}
	return p
}

// Describe names the servers, password redacted.
func (p *poolDriver) Describe() string { return p.describe }

// Nodes lists the servers, as Op.Node counts them.
func (p *poolDriver) Nodes() []string { return append([]string(nil), p.addrs...) }

// KeysPerOp is the plan's batch for mget, one key for the others.
func (p *poolDriver) KeysPerOp(kind int) int { return p.base.KeysPerOp(kind) }

// Close releases nothing: every connection belongs to its Conn.
func (p *poolDriver) Close() error { return nil }

// Connect opens one connection to every server and proves each answers.
func (p *poolDriver) Connect(ctx context.Context) (workloads.Conn, error) {
	c := &poolConn{p: p, keys: make([][][]byte, len(p.servers)), inFlight: sock.NewInFlight[poolOp](p.base.depth)}
	for _, s := range p.servers {
		nc, err := s.Connect(ctx)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("memcache server %s: %w", s.addr, err)
		}
		c.conns = append(c.conns, nc.(*conn))
	}
	return c, nil
}

// poolConn is one connection of the plan to a server list: a connection
// to each server, used by one worker. The engine may Close it from
// another goroutine.
type poolConn struct {
	p     *poolDriver
	conns []*conn
	// keys holds an mget's keys by server; used lists the servers that
	// hold some, in the order first met (its first key's server first);
	// part is the operation of one server's share.
	keys [][][]byte
	used []int
	part workloads.Op
	// counter holds the counter key of the incr being routed.
	counter []byte
	// inFlight is each pipelined operation in flight.
	inFlight sock.InFlight[poolOp]
}

// poolOp is a pipelined operation of a pool between its Queue and its
// Receive.
type poolOp struct {
	// servers have a part of it in flight, in the order queued.
	servers []int
	// node is the server it counts on; keys how many keys an mget read.
	node, keys int
}

// server is the index of the server that holds what an operation of
// kind on op's key touches: the key, or its counter for incr.
func (c *poolConn) server(op *workloads.Op, kind operation) int {
	if kind == opIncr || kind == opDeleteCounter {
		c.counter = c.conns[0].appendCounterKey(c.counter[:0], op)
		return c.p.ring.server(c.counter)
	}
	return c.p.ring.server(op.Key)
}

// split groups op's keys (an mget of several) by their servers, into
// c.keys and c.used.
func (c *poolConn) split(op *workloads.Op) {
	for _, s := range c.used {
		c.keys[s] = c.keys[s][:0]
	}
	c.used = c.used[:0]
	for _, key := range op.Keys {
		s := c.p.ring.server(key)
		if len(c.keys[s]) == 0 {
			c.used = append(c.used, s)
		}
		c.keys[s] = append(c.keys[s], key)
	}
}

// partOf sets c.part to the share of server s of the mget op.
func (c *poolConn) partOf(op *workloads.Op, s int) *workloads.Op {
	c.part.Kind, c.part.Key, c.part.Keys = op.Kind, c.keys[s][0], c.keys[s]
	return &c.part
}

// Do performs one operation on its key's server, an mget on each server
// that holds some of its keys (see the comment at the top of this file).
func (c *poolConn) Do(ctx context.Context, op *workloads.Op) error {
	kind := c.p.base.ops[op.Kind]
	if kind != opMget || len(op.Keys) < 2 {
		s := c.server(op, kind)
		op.Node = s + 1
		return c.conns[s].roundTrip(ctx, op, kind)
	}
	c.split(op)
	op.Node = c.used[0] + 1
	if len(c.used) == 1 {
		return c.conns[c.used[0]].roundTrip(ctx, op, kind)
	}
	return c.mget(ctx, op)
}

// mget sends each server's part of op, then reads each reply.
func (c *poolConn) mget(ctx context.Context, op *workloads.Op) error {
	deadline := sock.Deadline(ctx, c.p.base.timeout)
	var first error
	firstNode := 0
	fail := func(s int, err error) {
		if first == nil {
			first, firstNode = err, s+1
		}
		if !inStep(err) {
			c.conns[s].Abandon()
		}
	}
	sent := 0
	for i, s := range c.used {
		nc := c.conns[s]
		err := nc.Begin(ctx, deadline, nc)
		if err == nil {
			nc.Out = nc.render(nc.Out, opMget, c.partOf(op, s))
			nc.InFlight++
			err = nc.Flush(ctx, deadline)
		}
		if err != nil {
			fail(s, err)
			continue
		}
		c.used[sent], c.used[i] = s, c.used[sent]
		sent++
	}
	hits := 0
	for _, s := range c.used[:sent] {
		found, err := c.conns[s].receive(ctx, opMget, deadline)
		if err != nil {
			fail(s, err)
			continue
		}
		hits += found
	}
	if first != nil {
		op.Node = firstNode
		return first
	}
	op.Hits, op.Misses = int32(hits), int32(len(op.Keys)-hits)
	return nil
}

// Fill writes op.Key on its server for prefill.
func (c *poolConn) Fill(ctx context.Context, op *workloads.Op) error {
	s := c.server(op, opSet)
	op.Node = s + 1
	return c.conns[s].roundTrip(ctx, op, opSet)
}

// Delete deletes op.Key on its server for cleanup, and its counter on
// the counter's server when the mix has incr.
func (c *poolConn) Delete(ctx context.Context, op *workloads.Op) error {
	s := c.server(op, opDelete)
	op.Node = s + 1
	if err := c.conns[s].roundTrip(ctx, op, opDelete); err != nil || !c.p.base.hasIncr {
		return err
	}
	s = c.server(op, opDeleteCounter)
	op.Node = s + 1
	return c.conns[s].roundTrip(ctx, op, opDeleteCounter)
}

// Queue renders op's command into the send buffer of its server's
// connection, an mget's parts into each of theirs.
func (c *poolConn) Queue(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	kind := c.p.base.ops[op.Kind]
	f := c.inFlight.Next()
	f.servers, f.keys = f.servers[:0], 1
	if kind == opMget && len(op.Keys) > 1 {
		c.split(op)
		f.node, f.keys = c.used[0], len(op.Keys)
		for _, s := range c.used {
			if err := c.conns[s].Queue(ctx, c.partOf(op, s), deadline); err != nil {
				// The parts queued would be answered with no operation
				// to take their replies: their connections start over.
				for _, q := range f.servers {
					c.conns[q].Abandon()
				}
				op.Node = s + 1
				return err
			}
			f.servers = append(f.servers, s)
		}
	} else {
		s := c.server(op, kind)
		op.Node = s + 1
		if err := c.conns[s].Queue(ctx, op, deadline); err != nil {
			return err
		}
		f.node, f.servers = s, append(f.servers, s)
		if kind == opMget && len(op.Keys) == 0 {
			f.keys = c.p.base.batch
		}
	}
	op.Node = f.node + 1
	c.inFlight.Push()
	return nil
}

// Flush writes what is queued on each server's connection, one write
// each (none on a connection with nothing in flight, see
// sock.Pipeline.Flush).
func (c *poolConn) Flush(ctx context.Context, deadline time.Time) error {
	for _, nc := range c.conns {
		if err := nc.Flush(ctx, deadline); err != nil {
			return err
		}
	}
	return nil
}

// Await waits for the reply to the oldest operation in flight to begin
// (its first part's, for an mget of several servers).
func (c *poolConn) Await(ctx context.Context, until time.Time) (bool, error) {
	if c.inFlight.Empty() {
		return false, nil
	}
	return c.conns[c.inFlight.Oldest().servers[0]].Await(ctx, until)
}

// Receive reads the reply to the oldest operation in flight, from each
// of its servers' connections. An error reply of one part is the
// operation's answer once the other parts are read; any other error
// leaves a stream out of step, and the engine abandons every server's
// connection.
func (c *poolConn) Receive(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	kind := c.p.base.ops[op.Kind]
	f := c.inFlight.Oldest()
	var answer error
	node, hits := f.node, 0
	for _, s := range f.servers {
		found, err := c.conns[s].receive(ctx, kind, deadline)
		if err == nil {
			hits += found
			continue
		}
		if workloads.AsStatus(err) == nil {
			op.Node = s + 1
			return err
		}
		if answer == nil {
			answer, node = err, s
		}
	}
	c.inFlight.Pop()
	op.Node = node + 1
	if answer != nil {
		return answer
	}
	if kind == opMget {
		op.Hits, op.Misses = int32(hits), int32(max(f.keys-hits, 0))
		return nil
	}
	c.conns[f.node].count(kind, hits, op)
	return nil
}

// Abandon drops every server's connection and what was in flight on
// them.
func (c *poolConn) Abandon() {
	for _, nc := range c.conns {
		nc.Abandon()
	}
	c.inFlight.Reset()
}

// Close closes every server's connection.
func (c *poolConn) Close() error {
	var errs []error
	for _, nc := range c.conns {
		errs = append(errs, nc.Close())
	}
	return errors.Join(errs...)
}
