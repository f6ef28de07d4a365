// Package memcache is tailgate's Memcached driver: memcached's text
// protocol, or its meta protocol, over TCP, TLS or a unix socket, with a
// lean client of its own.
//
// Targets:
//
//	memcache://[user:password@]host[:port]     port 11211 by default
//	memcaches://[user:password@]host[:port]    TLS (memcached -Z)
//	memcache+unix://[user:password@]/path/to.sock
//	memcache://[user:password@]host[:port],host[:port]...
//	memcaches://[user:password@]host[:port],host[:port]...
//
// A list of servers spreads the keys over them by ketama consistent
// hashing, as libmemcached does (see pool.go).
//
// A user and password in the URL authenticate each connection with the
// text protocol's authentication (memcached -Y): tailgate first asks
// "version", and only a server that answers "CLIENT_ERROR unauthenticated"
// is sent the credentials, so they never reach a server that would store
// them as a value. The password is redacted from everything tailgate
// writes. A server at its connection limit ("ERROR Too many open
// connections") is reported so at connect, in the server's words.
//
// The workload's operations, every key under the plan's prefix, and the
// commands they send (workload.protocol: text, the default, or meta):
//
//	op       text                          meta
//	get      get <key>                     mg <key> v
//	mget     get <key>… (batch keys)       mg <key> v q … mn
//	set      set <key> 0 <ttl> <n>         ms <key> <n> T<ttl>
//	add      add <key> 0 <ttl> <n>         ms <key> <n> T<ttl> ME
//	replace  replace <key> 0 <ttl> <n>     ms <key> <n> T<ttl> MR
//	delete   delete <key>                  md <key>
//	incr     incr <ckey> 1, and on         ma <ckey> N<ttl> J1
//	         NOT_FOUND add <ckey> 0 <ttl> 1
//	touch    touch <key> <ttl>             mg <key> T<ttl>
//
// ttl is the workload's ttl in seconds (by default one that outlives the
// run, so no key is left forever), at most memcached's 30 days. Prefill
// writes with set (ms), cleanup deletes each key with delete (md), and its
// counter too when the mix has incr. With pipeline above 1, a connection
// sends up to that many commands before it reads their replies, in order.
// A pipelined text incr answered NOT_FOUND creates its counter as an
// unpipelined one does, with add <ckey> 0 <ttl> 1 sent at once behind
// the commands in flight: its reply (STORED, or NOT_STORED when another
// connection created the counter first) is read in its place in the
// stream and counts for no operation, and an incr of the same counter
// already in flight behind it may also miss.
//
// incr counts on counter keys, <prefix>n:<number>, apart from the values
// set writes (incrementing those would fail: they are not numbers); a
// counter that does not exist yet is created at 1, as an application's
// increment-or-create does (the meta protocol does both in one command).
// Besides them tailgate sends "version" once per connection, in Connect
// (proof the server speaks memcached), and the authentication above.
//
// Replies count as follows (a get's hit or miss, and an mget's hits and
// misses among its keys, are the read's hits and misses in the result):
//
//	get, mget   VALUE … END, VA … / EN (MN)     success, hit or miss
//	set         STORED, HD                      success
//	add         STORED / NOT_STORED, HD / NS    success, stored or not (the key existed)
//	replace     STORED / NOT_STORED, HD / NS    success, stored or not (the key was missing)
//	delete      DELETED / NOT_FOUND, HD / NF    success, found or not
//	incr        <number>, HD                    success
//	touch       TOUCHED / NOT_FOUND, HD / EN    success, found or not
//	ERROR, CLIENT_ERROR, SERVER_ERROR, NOT_STORED (set)
//	            a *workloads.StatusError, Kind "memcache SERVER_ERROR" etc.
//
// Each connection is one TCP, TLS or unix-socket connection with a buffered
// reader; an operation renders its command into one buffer, writes it with
// one raw system call (over TCP and unix sockets), reads the reply and
// allocates nothing.
//
// Every operation runs under the workload's timeout (a socket deadline),
// from its intended start. A timeout, an I/O error or a reply that leaves
// the stream out of step closes the connection; the next operation dials
// again within its own deadline. A connection the server closed while idle
// (memcached -o idle_timeout) is dialed again before use, and an operation
// the server provably did not process is sent once more (see conn.Do).
package memcache

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

func init() {
	workloads.Register("memcache", Open)
	workloads.Register("memcaches", Open)
	workloads.Register("memcache+unix", Open)
}

// DefaultPort is the port of a memcache:// or memcaches:// target that
// names none.
const DefaultPort = "11211"

// maxKeyLen is memcached's key length limit.
const maxKeyLen = 250

// maxKeyDigits is the longest key number a key can end with (2^64-1).
const maxKeyDigits = 20

// counterInfix follows the prefix in incr's counter keys.
const counterInfix = "n:"

// defaultTimeout bounds an operation when the workload sets no timeout.
const defaultTimeout = time.Second

// The error kinds of memcached's error replies.
const (
	KindError       = "memcache ERROR"
	KindClientError = "memcache CLIENT_ERROR"
	KindServerError = "memcache SERVER_ERROR"
	KindNotStored   = "memcache NOT_STORED"
)

// operation is what one Op.Kind does.
type operation uint8

const (
	opGet operation = iota
	opMget
	opSet
	opAdd
	opReplace
	opDelete
	opIncr
	opTouch
	// opDeleteCounter deletes incr's counter of a key, for cleanup.
	opDeleteCounter
)

// operations maps the plan's mix names to what they do.
var operations = map[string]operation{
	"get": opGet, "mget": opMget, "set": opSet, "add": opAdd, "replace": opReplace,
	"delete": opDelete, "incr": opIncr, "touch": opTouch,
}

// textStore is the text command of each storage operation.
var textStore = [...]string{opSet: "set ", opAdd: "add ", opReplace: "replace "}

// metaMode is the meta mode flag of each storage operation.
var metaMode = [...]string{opSet: "", opAdd: " ME", opReplace: " MR"}

// Driver loads one memcached target; every Conn it returns is one
// connection.
type Driver struct {
	network  string // "tcp" or "unix"
	addr     string // host:port, or the socket's path
	tls      *tls.Config
	user     string
	password string
	meta     bool
	timeout  time.Duration
	// ttl is every write's expiry in whole seconds, as memcached's
	// exptime and the meta T flag take it.
	ttl     []byte
	batch   int
	hasIncr bool
	// depth is the workload's pipeline.
	depth    int
	prefix   []byte
	ops      []operation
	describe string
}

var (
	_ workloads.Driver       = (*Driver)(nil)
	_ workloads.MultiKey     = (*Driver)(nil)
	_ workloads.PipelineConn = (*conn)(nil)
	_ workloads.KeyspaceConn = (*conn)(nil)
)

// maxRelativeTTL is the longest expiry memcached takes as a span: a larger
// exptime is read as a Unix time.
const maxRelativeTTL = 30 * 24 * time.Hour

// Open builds a driver for a memcache://, memcaches:// or memcache+unix://
// target. It checks the target, the operations and the key prefix; it
// does not connect.
func Open(_ context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	name := spec.Component.Name
	w := &spec.Component.Workload
	shown := workloads.Redact(target.Redacted(), spec.Secrets)
	d := &Driver{network: "tcp", timeout: w.Timeout, batch: w.Batch, prefix: []byte(w.Keys.Prefix)}
	var addrs []string // the servers of a TCP or TLS target, in the order given
	switch target.Scheme {
	case "memcache+unix":
		if target.Host != "" || target.Path == "" || target.RawQuery != "" {
			return nil, fmt.Errorf("component %q: memcache+unix target %q: write it as memcache+unix:///path/to.sock, with no host or query", name, shown)
		}
		d.network, d.addr = "unix", target.Path
	default:
		if target.Host == "" || target.Hostname() == "" {
			return nil, fmt.Errorf("component %q: %s target has no host; write it as %s://host:port", name, target.Scheme, target.Scheme)
		}
		if strings.HasSuffix(target.Host, ",") && target.Path != "" {
			return nil, fmt.Errorf("component %q: %s target %q: a server list holds host:port servers only; a unix socket is a memcache+unix:// target of its own",
				name, target.Scheme, shown)
		}
		if (target.Path != "" && target.Path != "/") || target.RawQuery != "" {
			return nil, fmt.Errorf("component %q: %s target %q: takes no path or query; write it as %s://host:port",
				name, target.Scheme, shown, target.Scheme)
		}
		var err error
		if addrs, err = workloads.SplitHostList(target.Host, DefaultPort); err != nil {
			return nil, fmt.Errorf("component %q: %s target %q: server %w", name, target.Scheme, shown, err)
		}
		d.addr = addrs[0]
	}
	if target.User != nil {
		password, ok := target.User.Password()
		if !ok || target.User.Username() == "" || password == "" {
			return nil, fmt.Errorf("component %q: %s target %q: memcached's authentication (-Y) takes a user and a password: write them as user:password@", name, target.Scheme, shown)
		}
		d.user, d.password = target.User.Username(), password
		if err := checkKey(d.user); err != nil {
			return nil, fmt.Errorf("component %q: %s target: the user %w", name, target.Scheme, err)
		}
	}
	if target.Scheme == "memcaches" {
		cfg, err := workloads.TLSConfig(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", name, err)
		}
		d.tls = cfg
	}
	d.describe = target.Scheme + "://"
	if d.user != "" {
		d.describe += d.user + ":" + workloads.Redacted + "@"
	}
	if addrs != nil {
		d.describe += strings.Join(addrs, ",")
	} else {
		d.describe += d.addr // a unix socket's path starts with its "/"
	}
	switch w.Protocol {
	case "", slo.MemcacheText:
	case slo.MemcacheMeta:
		d.meta = true
	default:
		return nil, fmt.Errorf("component %q: memcache protocol %q: want %s or %s", name, w.Protocol, slo.MemcacheText, slo.MemcacheMeta)
	}
	if d.batch <= 0 {
		d.batch = slo.DefaultBatch
	}
	if err := checkPrefix(w.Keys.Prefix); err != nil {
		return nil, fmt.Errorf("component %q: keys.prefix %q: %w", name, w.Keys.Prefix, err)
	}
	if d.timeout <= 0 {
		d.timeout = defaultTimeout
	}
	ttl := spec.TTL()
	if ttl > maxRelativeTTL {
		return nil, fmt.Errorf("component %q: ttl %s: memcached takes an expiry of at most 30 days (a longer one is read as a date)", name, slo.FormatDuration(ttl))
	}
	d.ttl = strconv.AppendInt(nil, int64(max(ttl/time.Second, 1)), 10)
	for _, op := range spec.Operations() {
		kind, ok := operations[op]
		if !ok {
			return nil, fmt.Errorf("component %q: memcache does not speak operation %q (%s)", name, op, strings.Join(slo.MixOperations(slo.ProtocolMemcache), ", "))
		}
		d.ops = append(d.ops, kind)
		d.hasIncr = d.hasIncr || kind == opIncr
	}
	d.depth = spec.Pipeline()
	if len(d.ops) == 0 {
		return nil, fmt.Errorf("component %q: memcache needs a mix of %s", name, strings.Join(slo.MixOperations(slo.ProtocolMemcache), ", "))
	}
	if len(addrs) > 1 {
		return newPool(d, addrs), nil
	}
	if d.tls != nil && d.tls.ServerName == "" {
		d.tls.ServerName = target.Hostname()
	}
	return d, nil
}

// keySafe reports whether s holds no spaces and no control characters,
// which split or break memcached's command line.
func keySafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkKey rejects what memcached cannot take in a key (see keySafe).
func checkKey(key string) error {
	if !keySafe(key) {
		return fmt.Errorf("%q holds spaces or control characters, which memcached keys cannot", key)
	}
	return nil
}

// checkPrefix rejects prefixes memcached cannot take in a key (see
// keySafe), and those too long for the key, digits and incr's infix
// included, to fit memcached's 250-byte limit.
func checkPrefix(prefix string) error {
	if !keySafe(prefix) {
		return errors.New("memcached keys cannot hold spaces or control characters")
	}
	if len(prefix)+len(counterInfix)+maxKeyDigits > maxKeyLen {
		return fmt.Errorf("too long: memcached keys are at most %d bytes, and the key number takes up to %d", maxKeyLen, maxKeyDigits+len(counterInfix))
	}
	return nil
}

// KeysPerOp is the plan's batch for mget, one key for the others.
func (d *Driver) KeysPerOp(kind int) int {
	if kind < len(d.ops) && d.ops[kind] == opMget {
		return d.batch
	}
	return 1
}

// Connect dials the server and proves it speaks memcached ("version"),
// authenticating first when the URL has a user.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	c := &conn{d: d}
	c.Link.Name = "memcache"
	deadline := sock.Deadline(ctx, d.timeout)
	if err := c.Redial(ctx, deadline); err != nil {
		return nil, err
	}
	if d.user == "" {
		if err := c.version(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Describe names the target, password redacted.
func (d *Driver) Describe() string { return d.describe }

// Close releases nothing: every connection belongs to its Conn.
func (d *Driver) Close() error { return nil }

// conn is one connection to memcached, used by one worker. The engine may
// Close it from another goroutine while an operation hangs, and a canceled
// context interrupts from a third.
type conn struct {
	d *Driver

	sock.Pipeline
	// A pipelined text incr that finds no counter creates it (see the
	// package doc). counters holds the counter key of each operation in
	// flight (by its place in queue order, modulo the pipeline's depth);
	// replies counts the replies the commands written so far will give,
	// read those read; creates are the places, among the replies, of the
	// creating adds not yet answered, oldest first.
	counters         [][]byte
	queued, received uint64
	replies, read    uint64
	creates          []uint64
}

var _ workloads.PipelineConn = (*conn)(nil)

// Do performs one operation and notes a read's hits and misses on op. It
// allocates nothing unless it has to dial.
//
// A connection the server closed while idle is dialed again before the
// command goes out (see sock.Guard.Ready). When the server closes it as
// the command arrives, the command is sent once more on a new connection
// only if the server provably did not process it (sock.Guard.Replayable):
// any command of which not one byte was written, and a get or mget written
// whole that met the end of the stream or a reset before any reply byte.
// A write that may have been processed stays an error.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	return c.roundTrip(ctx, op, c.d.ops[op.Kind])
}

// Fill writes op.Key for prefill: a set with the run's expiry.
func (c *conn) Fill(ctx context.Context, op *workloads.Op) error {
	return c.roundTrip(ctx, op, opSet)
}

// Delete deletes op.Key for cleanup, and its counter when the mix has
// incr.
func (c *conn) Delete(ctx context.Context, op *workloads.Op) error {
	if err := c.roundTrip(ctx, op, opDelete); err != nil || !c.d.hasIncr {
		return err
	}
	return c.roundTrip(ctx, op, opDeleteCounter)
}

// roundTrip sends one operation's command and reads its reply (see Do).
func (c *conn) roundTrip(ctx context.Context, op *workloads.Op, kind operation) error {
	deadline := sock.Deadline(ctx, c.d.timeout)
	for replay := false; ; replay = true {
		if err := c.Link.Ready(ctx, deadline, c); err != nil {
			return err
		}
		found, err := c.exchange(kind, op)
		if err == nil {
			c.count(kind, found, op)
			return nil
		}
		if workloads.AsStatus(err) != nil {
			if !inStep(err) {
				c.Link.Drop()
			}
			return err
		}
		if !replay && c.Link.Replayable(ctx, err, kind == opGet || kind == opMget) {
			c.Link.Drop()
			continue
		}
		return c.Link.Broken(ctx, err)
	}
}

// count notes on op what a read found: a get's hit or miss, an mget's
// hits and misses among its keys.
func (c *conn) count(kind operation, found int, op *workloads.Op) {
	switch kind {
	case opGet:
		if found > 0 {
			op.Hits++
		} else {
			op.Misses++
		}
	case opMget:
		keys := c.d.batch // a pipelined reply's op carries only its kind
		if len(op.Keys) > 0 {
			keys = len(op.Keys)
		}
		op.Hits += int32(found)
		op.Misses += int32(max(keys-found, 0))
	}
}

// exchange sends the operation's command and reads its reply: found is the
// number of keys found (hits of get and mget, 1 for a delete, touch,
// replace or incr that found its key, an add or replace that stored).
func (c *conn) exchange(kind operation, op *workloads.Op) (found int, err error) {
	c.Out = c.render(c.Out[:0], kind, op)
	if err := c.Send(); err != nil {
		return 0, err
	}
	if c.d.meta {
		return c.metaReply(kind)
	}
	found, err = c.textReply(kind)
	if err != nil || kind != opIncr || found > 0 {
		return found, err
	}
	// A counter that does not exist yet is created, as an application's
	// increment-or-create does: NOT_STORED means another connection
	// created it meanwhile, an answer too.
	c.Out = c.appendCreate(c.appendCounterKey(append(c.Out[:0], "add "...), op))
	if err := c.Send(); err != nil {
		return 0, err
	}
	_, err = c.storeReply(opAdd)
	return 0, err
}

// Queue renders op's command into the pipeline's send buffer. With
// nothing in flight it readies the connection as Do does: dialing again
// when it is broken, checking it when it sat idle.
func (c *conn) Queue(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	if err := c.Begin(ctx, deadline, c); err != nil {
		return err
	}
	kind := c.d.ops[op.Kind]
	c.Out = c.render(c.Out, kind, op)
	c.InFlight++
	if kind == opIncr && !c.d.meta {
		if c.counters == nil {
			c.counters = make([][]byte, c.d.depth)
		}
		at := &c.counters[c.queued%uint64(len(c.counters))]
		*at = c.appendCounterKey((*at)[:0], op)
	}
	c.queued++
	c.replies++
	return nil
}

// Receive reads the reply to the oldest command in flight and notes a
// read's hits and misses on op. An error reply that leaves the stream out
// of step (see inStep) breaks the pipeline.
func (c *conn) Receive(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	kind := c.d.ops[op.Kind]
	found, err := c.receive(ctx, kind, deadline)
	if err == nil {
		c.count(kind, found, op)
	}
	return err
}

// receive reads the reply to the oldest command in flight, of an
// operation of kind, and says how many keys it found (see exchange).
func (c *conn) receive(ctx context.Context, kind operation, deadline time.Time) (int, error) {
	if err := c.Next(ctx, deadline); err != nil {
		return 0, err
	}
	for len(c.creates) > 0 && c.creates[0] == c.read {
		// A counter's create comes first: an answer either way, but
		// for an error that leaves the stream out of step.
		c.creates = c.creates[:copy(c.creates, c.creates[1:])]
		c.read++
		if _, err := c.storeReply(opAdd); err != nil && !inStep(err) {
			return 0, c.Link.Broken(ctx, err)
		}
		c.InFlight--
	}
	found, err := c.readReply(kind)
	c.read++
	slot := c.received
	c.received++
	if err == nil && kind == opIncr && !c.d.meta && found == 0 {
		if err := c.createCounter(ctx, c.counters[slot%uint64(len(c.counters))], deadline); err != nil {
			return 0, err
		}
	}
	return found, c.Settle(ctx, err, inStep(err))
}

// createCounter sends, behind what is in flight, the add that creates a
// pipelined text incr's counter that was not found (see Receive).
func (c *conn) createCounter(ctx context.Context, counter []byte, deadline time.Time) error {
	c.Out = c.appendCreate(append(append(c.Out, "add "...), counter...))
	c.creates = append(c.creates, c.replies)
	c.replies++
	c.InFlight++
	return c.Flush(ctx, deadline)
}

// appendCreate appends the rest of the add that creates a text incr's
// counter at 1, after "add <ckey>": no flags, the run's expiry, the
// value 1.
func (c *conn) appendCreate(out []byte) []byte {
	return append(append(append(out, " 0 "...), c.d.ttl...), " 1\r\n1\r\n"...)
}

// Abandon drops the connection and what was in flight on it, creates of
// counters included.
func (c *conn) Abandon() {
	c.Pipeline.Abandon()
	c.queued, c.received, c.replies, c.read = 0, 0, 0, 0
	c.creates = c.creates[:0]
}

// inStep reports whether the stream is still in step after the error
// reply err: after ERROR and CLIENT_ERROR the server may not have read
// what was sent as meant (it may have read the rest as commands of their
// own); SERVER_ERROR and NOT_STORED are answers. No error is in step,
// and is told without an allocation.
func inStep(err error) bool {
	if err == nil {
		return true
	}
	se := workloads.AsStatus(err)
	return se != nil && se.Kind != KindError && se.Kind != KindClientError
}

// readReply reads the reply of one operation of kind, in the driver's
// protocol, and says how many keys it found (see exchange).
func (c *conn) readReply(kind operation) (found int, err error) {
	if c.d.meta {
		return c.metaReply(kind)
	}
	return c.textReply(kind)
}

// render appends the command of one operation to b, in the driver's
// protocol.
func (c *conn) render(b []byte, kind operation, op *workloads.Op) []byte {
	if c.d.meta {
		return c.renderMeta(b, kind, op)
	}
	return c.renderText(b, kind, op)
}

// renderText appends the text protocol's command for op to out.
func (c *conn) renderText(out []byte, kind operation, op *workloads.Op) []byte {
	switch kind {
	case opGet:
		out = append(append(append(out, "get "...), op.Key...), lineEnd...)
	case opMget:
		out = append(out, "get"...)
		if len(op.Keys) == 0 {
			out = append(append(out, ' '), op.Key...)
		}
		for _, key := range op.Keys {
			out = append(append(out, ' '), key...)
		}
		out = append(out, lineEnd...)
	case opSet, opAdd, opReplace:
		out = append(append(append(out, textStore[kind]...), op.Key...), " 0 "...)
		out = append(append(out, c.d.ttl...), ' ')
		out = strconv.AppendInt(out, int64(len(op.Value)), 10)
		out = append(append(append(out, lineEnd...), op.Value...), lineEnd...)
	case opDelete:
		out = append(append(append(out, "delete "...), op.Key...), lineEnd...)
	case opDeleteCounter:
		out = c.appendCounterKey(append(out, "delete "...), op)
		out = append(out, lineEnd...)
	case opIncr:
		out = c.appendCounterKey(append(out, "incr "...), op)
		out = append(out, " 1\r\n"...)
	case opTouch:
		out = append(append(append(out, "touch "...), op.Key...), ' ')
		out = append(append(out, c.d.ttl...), lineEnd...)
	}
	return out
}

// appendCounterKey appends the key of op's counter, kept apart from the
// values under the prefix: prefix, counterInfix, then the rest of op's key.
func (c *conn) appendCounterKey(out []byte, op *workloads.Op) []byte {
	out = append(append(out, c.d.prefix...), counterInfix...)
	return append(out, op.Key[len(c.d.prefix):]...)
}

// renderMeta appends the meta protocol's command for op to out.
func (c *conn) renderMeta(out []byte, kind operation, op *workloads.Op) []byte {
	switch kind {
	case opGet:
		out = append(append(append(out, "mg "...), op.Key...), " v\r\n"...)
	case opMget:
		// Quiet mode: misses are left out, and mn marks the end.
		if len(op.Keys) == 0 {
			out = append(append(append(out, "mg "...), op.Key...), " v q\r\n"...)
		}
		for _, key := range op.Keys {
			out = append(append(append(out, "mg "...), key...), " v q\r\n"...)
		}
		out = append(out, "mn\r\n"...)
	case opSet, opAdd, opReplace:
		out = append(append(append(out, "ms "...), op.Key...), ' ')
		out = strconv.AppendInt(out, int64(len(op.Value)), 10)
		out = append(append(append(out, " T"...), c.d.ttl...), metaMode[kind]...)
		out = append(append(append(out, lineEnd...), op.Value...), lineEnd...)
	case opDelete:
		out = append(append(append(out, "md "...), op.Key...), lineEnd...)
	case opDeleteCounter:
		out = c.appendCounterKey(append(out, "md "...), op)
		out = append(out, lineEnd...)
	case opIncr:
		out = c.appendCounterKey(append(out, "ma "...), op)
		out = append(append(append(out, " N"...), c.d.ttl...), " J1\r\n"...)
	case opTouch:
		out = append(append(append(out, "mg "...), op.Key...), " T"...)
		out = append(append(out, c.d.ttl...), lineEnd...)
	}
	return out
}

// Redial opens the connection, reusing the buffers of a previous one, and
// authenticates it when the URL has a user.
func (c *conn) Redial(ctx context.Context, deadline time.Time) error {
	if err := c.Dial(ctx, net.Dialer{}, c.d.network, c.d.addr, c.d.tls, 16<<10, deadline); err != nil {
		return err
	}
	if c.d.user == "" {
		return nil
	}
	if err := c.authenticate(); err != nil {
		c.Link.Drop()
		return err
	}
	return nil
}

// authenticate logs the connection in with the text protocol's
// authentication: a set whose value is "user password". It asks "version"
// first, and sends the credentials only to a server that requires them,
// so that one without -Y never stores them.
func (c *conn) authenticate() error {
	err := c.version()
	if err == nil || !errors.Is(err, errUnauthenticated) {
		return err
	}
	c.Out = append(append(c.Out[:0], "set "...), c.d.user...)
	c.Out = append(c.Out, " 0 0 "...)
	c.Out = strconv.AppendInt(c.Out, int64(len(c.d.user)+1+len(c.d.password)), 10)
	c.Out = append(append(c.Out, lineEnd...), c.d.user...)
	c.Out = append(append(append(c.Out, ' '), c.d.password...), lineEnd...)
	var line []byte
	err = c.Send()
	if err == nil {
		line, err = c.ReadLine("memcache")
	}
	// The command, sent by then, does not keep the password in memory.
	clear(c.Out)
	if err != nil {
		return err
	}
	if bytes.Equal(line, replyStored) {
		return nil
	}
	return fmt.Errorf("memcache: %s refused user %q: %w", c.d.addr, c.d.user, reply(line))
}

var (
	lineEnd        = []byte("\r\n")
	replyEnd       = []byte("END")
	replyStored    = []byte("STORED")
	replyNotStored = []byte("NOT_STORED")
	replyDeleted   = []byte("DELETED")
	replyTouched   = []byte("TOUCHED")
	replyNotFound  = []byte("NOT_FOUND")
	replyValue     = []byte("VALUE ")
	replyVersion   = []byte("VERSION ")
)

// textReply reads the text protocol's reply to an operation of kind: the
// keys found, a *workloads.StatusError for an error reply, any other
// error for a stream out of step.
func (c *conn) textReply(kind operation) (int, error) {
	switch kind {
	case opGet, opMget:
		return c.valuesReply()
	case opSet, opAdd, opReplace:
		return c.storeReply(kind)
	}
	line, err := c.ReadLine("memcache")
	if err != nil {
		return 0, err
	}
	switch {
	case bytes.Equal(line, replyNotFound):
		return 0, nil
	case (kind == opDelete || kind == opDeleteCounter) && bytes.Equal(line, replyDeleted),
		kind == opTouch && bytes.Equal(line, replyTouched),
		kind == opIncr && isNumber(line):
		return 1, nil
	}
	return 0, reply(line)
}

// valuesReply reads the reply to a get: VALUE blocks up to END.
func (c *conn) valuesReply() (int, error) {
	hits := 0
	for {
		line, err := c.ReadLine("memcache")
		if err != nil {
			return hits, err
		}
		switch {
		case bytes.Equal(line, replyEnd):
			return hits, nil
		case bytes.HasPrefix(line, replyValue):
			n, ok := valueLength(line)
			if !ok {
				return hits, fmt.Errorf("memcache: malformed reply %q", clip(line))
			}
			if err := c.value(n); err != nil {
				return hits, err
			}
			hits++
		default:
			return hits, reply(line)
		}
	}
}

// value consumes a value block of n bytes and its CRLF.
func (c *conn) value(n int) error {
	if _, err := c.R.Discard(n); err != nil {
		return err
	}
	end, err := c.R.Peek(len(lineEnd))
	if err != nil {
		return err
	}
	if !bytes.Equal(end, lineEnd) {
		return fmt.Errorf("memcache: a value of %d bytes does not end in CRLF", n)
	}
	_, err = c.R.Discard(len(lineEnd))
	return err
}

// storeReply reads the reply to set, add or replace: 1 when stored. A set
// that was not stored is an error; an add or replace that was not is an
// answer (the key existed, or was missing).
func (c *conn) storeReply(kind operation) (int, error) {
	line, err := c.ReadLine("memcache")
	if err != nil {
		return 0, err
	}
	switch {
	case bytes.Equal(line, replyStored):
		return 1, nil
	case kind != opSet && bytes.Equal(line, replyNotStored):
		return 0, nil
	}
	return 0, reply(line)
}

// The meta protocol's reply codes.
const (
	metaHD = iota // success, no value
	metaVA        // a value follows
	metaEN        // miss
	metaNF        // not found
	metaNS        // not stored
	metaEX        // exists (a compare-and-swap failed)
	metaMN        // the end of a quiet batch
)

var metaCodes = [...]string{metaHD: "HD", metaVA: "VA", metaEN: "EN", metaNF: "NF", metaNS: "NS", metaEX: "EX", metaMN: "MN"}

// metaReply reads the meta protocol's reply to an operation of kind, as
// textReply does.
func (c *conn) metaReply(kind operation) (int, error) {
	if kind == opMget {
		hits := 0
		for {
			code, err := c.metaLine()
			switch {
			case err != nil:
				return hits, err
			case code == metaMN:
				return hits, nil
			case code == metaVA:
				hits++
			default:
				return hits, fmt.Errorf("memcache: %s in the reply to a quiet mg", metaCodes[code])
			}
		}
	}
	code, err := c.metaLine()
	if err != nil {
		return 0, err
	}
	switch kind {
	case opGet:
		switch code {
		case metaVA:
			return 1, nil
		case metaEN:
			return 0, nil
		}
	case opTouch:
		switch code {
		case metaHD:
			return 1, nil
		case metaEN:
			return 0, nil
		}
	case opSet, opIncr:
		switch code {
		case metaHD:
			return 1, nil
		case metaNS:
			return 0, &workloads.StatusError{Kind: KindNotStored}
		}
	case opAdd, opReplace:
		switch code {
		case metaHD:
			return 1, nil
		case metaNS:
			return 0, nil
		}
	case opDelete, opDeleteCounter:
		switch code {
		case metaHD:
			return 1, nil
		case metaNF:
			return 0, nil
		}
	}
	return 0, fmt.Errorf("memcache: %s in the reply to %s", metaCodes[code], metaCommand(kind))
}

// metaCommand names the meta command of an operation, for messages.
func metaCommand(kind operation) string {
	switch kind {
	case opSet, opAdd, opReplace:
		return "ms"
	case opDelete, opDeleteCounter:
		return "md"
	case opIncr:
		return "ma"
	}
	return "mg"
}

// metaLine reads one meta reply line, and the value that follows VA: its
// code, a *workloads.StatusError for an error reply, any other error for
// a stream out of step. Return flags after the code are allowed (tailgate
// asks for none).
func (c *conn) metaLine() (int, error) {
	line, err := c.ReadLine("memcache")
	if err != nil {
		return 0, err
	}
	if len(line) < 2 || (len(line) > 2 && line[2] != ' ') {
		return 0, reply(line)
	}
	for code, name := range metaCodes {
		if line[0] != name[0] || line[1] != name[1] {
			continue
		}
		if code == metaVA {
			n, ok := metaValueLength(line)
			if !ok {
				return 0, fmt.Errorf("memcache: malformed reply %q", clip(line))
			}
			if err := c.value(n); err != nil {
				return 0, err
			}
		} else if code == metaMN && len(line) != 2 {
			return 0, fmt.Errorf("memcache: malformed reply %q", clip(line))
		}
		return code, nil
	}
	return 0, reply(line)
}

// metaValueLength reads the size of "VA <size> [flags]".
func metaValueLength(line []byte) (int, bool) {
	if len(line) < 4 || line[2] != ' ' {
		return 0, false
	}
	rest := line[3:]
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	return smallNumber(rest)
}

// errUnauthenticated marks a server's answer that it requires
// authentication.
var errUnauthenticated = errors.New("requires authentication")

// version proves the server speaks memcached. A server that refuses the
// connection says why in its own words: memcached at its connection limit
// (-c) sends "ERROR Too many open connections" and closes, and one that
// requires authentication (-Y) answers "CLIENT_ERROR unauthenticated".
func (c *conn) version() error {
	c.Out = append(c.Out[:0], "version\r\n"...)
	if err := c.Send(); err != nil {
		return err
	}
	line, err := c.ReadLine("memcache")
	if err != nil {
		return err
	}
	return versionReply(c.d.addr, line)
}

// versionReply judges the reply line to "version"; a server that requires
// authentication is an error wrapping errUnauthenticated.
func versionReply(addr string, line []byte) error {
	if bytes.HasPrefix(line, replyVersion) {
		return nil
	}
	var se *workloads.StatusError
	if !errors.As(reply(line), &se) {
		return fmt.Errorf("memcache: %s answered %q to \"version\": not a memcached server", addr, clip(line))
	}
	if se.Kind == KindClientError && se.Detail == "unauthenticated" {
		return fmt.Errorf("memcache: %s %w: give a user and password in the target URL (memcache://user:password@host): %w", addr, errUnauthenticated, se)
	}
	return fmt.Errorf("memcache: %s refused the connection: %w", addr, se)
}

// reply turns a reply line that is not a success into an error: a
// *workloads.StatusError for memcached's error replies, in the server's
// words, and a plain error for anything else.
func reply(line []byte) error {
	word, detail, _ := bytes.Cut(line, []byte(" "))
	switch string(word) {
	case "SERVER_ERROR":
		return &workloads.StatusError{Kind: KindServerError, Detail: string(detail)}
	case "NOT_STORED":
		return &workloads.StatusError{Kind: KindNotStored}
	case "CLIENT_ERROR":
		return &workloads.StatusError{Kind: KindClientError, Detail: string(detail)}
	case "ERROR":
		return &workloads.StatusError{Kind: KindError, Detail: string(detail)}
	}
	return fmt.Errorf("memcache: unexpected reply %q", clip(line))
}

// clip shortens a line for a message.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "…"...)
	}
	return b
}

// valueLength reads the byte count of "VALUE <key> <flags> <bytes> [<cas>]".
func valueLength(line []byte) (int, bool) {
	rest := line[len(replyValue):]
	for range 2 { // skip key and flags
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return 0, false
		}
		rest = rest[i+1:]
	}
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	return smallNumber(rest)
}

// smallNumber reads a decimal of 1 to 10 digits.
func smallNumber(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int(d-'0')
	}
	return n, true
}

// isNumber reports whether line is incr's reply: an unsigned 64-bit
// decimal.
func isNumber(line []byte) bool {
	if len(line) == 0 || len(line) > maxKeyDigits {
		return false
	}
	for _, d := range line {
		if d < '0' || d > '9' {
			return false
		}
	}
	return true
}
