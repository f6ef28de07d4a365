// Package redis is tailgate's Redis driver: GET, SET and rpc-perf's
// other Redis verbs over RESP2 with a lean client of its own, every key
// under the plan's prefix, never a destructive or blocking command.
//
// Targets: redis://[user:password@]host:port[/db], rediss:// for TLS (the
// URL is read by go-redis's ParseURL, so its options such as
// ?skip_verify=true are honoured), redis+unix://[user:password@]/path/to.sock[?db=N]
// for a unix socket, redis+cluster://host:port[,host:port...] and
// rediss+cluster:// for a Redis Cluster (see cluster.go), and embedded:redis, an in-process
// Redis-compatible server on a loopback port for runs on machines with
// nothing installed.
//
// Each Conn is one TCP (or TLS) connection, so the plan's connections are
// real connections. tailgate sends Redis these commands and no others:
//
//	AUTH [user] password   when a connection opens, if the URL has a password
//	                       (a user alone, redis://name@host, is a user name
//	                       without a password, as go-redis reads it: no AUTH)
//	SELECT db              when a connection opens, if the URL names a database other than 0
//	PING                   once per connection, in Connect: proof the server answers
//	                       (a NOPERM reply proves it too, so the ACL user needs no +ping)
//	GET key                the plan's get
//	SET key value EX ttl   the plan's set, and prefill's writes; ttl is the
//	                       workload's ttl, by default one that outlives the run
//	DEL key                cleanup's deletes (workload.cleanup)
//	...                    the commands of the mix's other operations (see commands.go)
//	the plan's commands    the mix's generic commands (command: templates, see
//	                       generic.go), each of slo's allow-list, every key a
//	                       {{key}} under the prefix, and EXPIRE after those that
//	                       create keys
//	CLUSTER SLOTS          on a cluster: the slot map, before load and after MOVED
//	ASKING                 on a cluster: before each command of an operation that met ASK
//
// every key under the plan's prefix, so an ACL user with +get +set (+del
// for cleanup, and the commands of the mix's other operations) on the
// prefix's keys, and +select for a database other than 0, can run a plan. An operation renders its command into one
// buffer, writes it with one system call, reads the reply and allocates
// nothing. Replies count as follows:
//
//	GET  bulk string      success, a hit
//	GET  nil              success, a miss (an answer all the same)
//	SET  +OK              success (SET NX and XX: nil when not set, a success too)
//	DEL  :n               success
//	other reads           hits and misses as commands.go says
//	-ERR ..., -WRONGTYPE ...  a *workloads.StatusError, Kind "redis ERR" etc.
//
// With workload.pipeline N above 1, a connection has up to N commands in
// flight (see conn.Queue): the commands due together go out with one
// write and their replies are read in order. A pipelined connection that
// fails loses what was in flight: nothing is sent again.
//
// Every operation runs under the workload's timeout (a socket deadline),
// from its send; a timeout is never retried, which would hide it
// inside a fast latency. A timeout, an I/O error or a reply that leaves
// the stream out of step closes the connection; the next operation dials
// again, within its own deadline and at most the dial timeout (the
// workload's timeout, five seconds at most). A connection the server
// closed while idle is dialed again before use, and an operation the
// server provably did not process is sent once more (see conn.Do).
package redis

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

func init() {
	workloads.Register("redis", Open)
	workloads.Register("rediss", Open)
	workloads.Register("redis+unix", Open)
	workloads.Register("embedded:redis", OpenEmbedded)
}

// defaultTimeout bounds an operation when the workload sets no timeout.
const defaultTimeout = time.Second

// Driver loads one Redis target; every Conn it returns is one connection.
type Driver struct {
	network     string // "tcp", or "unix" for a socket at addr
	addr        string
	tls         *tls.Config
	dialTimeout time.Duration
	timeout     time.Duration
	// hello is what a new connection sends before any operation: AUTH
	// and SELECT as the URL asks; replies says how many.
	hello   []byte
	replies int
	ops     []operation
	// cmds is the command table ops index: the built-in commands, then
	// the mix's generic commands (see generic.go).
	cmds []command
	// expiry ends every SET: "$2 EX $n ttl", the ttl in whole seconds;
	// ttl is that ttl alone, as a bulk string, for EXPIRE.
	expiry, ttl []byte
	// prefix and keyCount are the keyspace's, for mget's further keys;
	// families marks the key types the mix uses, for prefill and cleanup.
	prefix   []byte
	keyCount uint64
	families [families]bool
	// cluster is set for a Redis Cluster's nodes: keys carry a hash tag
	// (see clusterKey).
	cluster bool
	// loneUser is set when the URL names a user and no password.
	loneUser bool
	describe string
	embedded *miniredis.Miniredis
}

var _ workloads.Driver = (*Driver)(nil)

// Open builds a driver for a redis:// or rediss:// target. It does not
// connect.
func Open(_ context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	parsed := target
	if target.Scheme == "redis+unix" {
		// go-redis reads a socket's URL, database and password included,
		// as unix:///path.
		unix := *target
		unix.Scheme = "unix"
		parsed = &unix
	}
	opt, err := goredis.ParseURL(parsed.String())
	if err != nil {
		return nil, fmt.Errorf("component %q: target %q: %w", spec.Component.Name,
			workloads.Redact(target.String(), spec.Secrets), workloads.RedactError(err, spec.Secrets))
	}
	return newDriver(opt, spec, workloads.Redact(target.Redacted(), spec.Secrets))
}

// OpenEmbedded starts an in-process Redis-compatible server on a loopback
// port and builds a driver for it.
func OpenEmbedded(_ context.Context, _ *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("component %q: starting the embedded Redis server: %w", spec.Component.Name, err)
	}
	d, err := newDriver(&goredis.Options{Addr: srv.Addr()}, spec, "embedded:redis (in-process server at "+srv.Addr()+")")
	if err != nil {
		srv.Close()
		return nil, err
	}
	d.embedded = srv
	return d, nil
}

func newDriver(opt *goredis.Options, spec *workloads.Spec, describe string) (*Driver, error) {
	w := &spec.Component.Workload
	d := &Driver{network: opt.Network, addr: opt.Addr, timeout: w.Timeout, describe: describe}
	if d.network == "" {
		d.network = "tcp"
	}
	if d.timeout <= 0 {
		d.timeout = defaultTimeout
	}
	d.dialTimeout = min(d.timeout, 5*time.Second)
	ttl := strconv.AppendInt(nil, int64(max(spec.TTL()/time.Second, 1)), 10)
	d.expiry = appendBulk(appendBulk(nil, []byte("EX")), ttl)
	d.ttl = appendBulk(nil, ttl)
	d.prefix, d.keyCount = []byte(w.Keys.Prefix), uint64(max(w.Keys.Count, 1))
	if opt.TLSConfig != nil {
		tc, err := workloads.TLSConfig(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", spec.Component.Name, err)
		}
		if tc.ServerName == "" {
			tc.ServerName = opt.TLSConfig.ServerName
		}
		tc.InsecureSkipVerify = tc.InsecureSkipVerify || opt.TLSConfig.InsecureSkipVerify
		d.tls = tc
	}
	// A user without a password is a user name, as go-redis reads the
	// URL: neither sends AUTH for it.
	d.loneUser = opt.Username != "" && opt.Password == ""
	if opt.Password != "" {
		if opt.Username != "" {
			d.hello = appendCommand(d.hello, "AUTH", []byte(opt.Username), []byte(opt.Password))
		} else {
			d.hello = appendCommand(d.hello, "AUTH", []byte(opt.Password))
		}
		d.replies++
	}
	if opt.DB > 0 {
		d.hello = appendCommand(d.hello, "SELECT", strconv.AppendInt(nil, int64(opt.DB), 10))
		d.replies++
	}
	cmds, generic, err := withGenerics(commands, spec)
	if err != nil {
		return nil, fmt.Errorf("component %q: %w", spec.Component.Name, err)
	}
	d.cmds = cmds
	for _, name := range spec.Operations() {
		kind, ok := generic[name]
		if !ok {
			kind, ok = operationNamed(name)
		}
		if !ok {
			return nil, fmt.Errorf("component %q: redis does not speak operation %q (%s)", spec.Component.Name, name,
				strings.Join(slo.MixOperations(slo.ProtocolRedis), ", "))
		}
		d.ops = append(d.ops, kind)
		d.families[cmds[kind].family] = true
	}
	return d, nil
}

// ping is the command Connect proves the server with.
var ping = appendCommand(nil, "PING")

// kindNoPerm is the error kind of a command the ACL user may not run,
// kindNoAuth of one sent before authenticating to a server that asks for
// it.
const (
	kindNoPerm = "redis NOPERM"
	kindNoAuth = "redis NOAUTH"
)

// Connect opens one connection, authenticated and on the URL's database,
// and proves the target answers (PING). A least-privilege ACL user may not
// run PING: its NOPERM reply is an answer in RESP all the same, and proof
// enough.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	c, err := d.connectTo(ctx, d.addr)
	if err != nil {
		return nil, err // not a nil *conn in a non-nil Conn
	}
	return c, nil
}

// connectTo is Connect to the server at addr.
func (d *Driver) connectTo(ctx context.Context, addr string) (*conn, error) {
	c := d.newConn(addr)
	deadline := sock.Deadline(ctx, max(d.timeout, d.dialTimeout))
	if err := c.Redial(ctx, deadline); err != nil {
		return nil, err
	}
	c.Out = append(c.Out[:0], ping...)
	err := c.Send()
	if err == nil {
		err = c.reply()
	}
	var se *workloads.StatusError
	if errors.As(err, &se) && se.Kind == kindNoPerm {
		err = nil
	}
	if errors.As(err, &se) && se.Kind == kindNoAuth && d.loneUser {
		err = fmt.Errorf("%w (the target names a user and no password, for which tailgate, like go-redis, sends no AUTH: write redis://:PASSWORD@host for a password alone)", err)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// newConn is a connection to the server at addr, not dialed yet: its
// first operation dials it.
func (d *Driver) newConn(addr string) *conn {
	c := &conn{d: d, addr: addr}
	c.Link.Name = "redis"
	return c
}

// Describe names the target, password redacted.
func (d *Driver) Describe() string { return d.describe }

// Close stops an embedded server; every connection belongs to its Conn.
func (d *Driver) Close() error {
	if d.embedded != nil {
		d.embedded.Close()
	}
	return nil
}

// appendCommand appends a command in RESP: an array of bulk strings.
func appendCommand(b []byte, name string, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(1+len(args)), 10)
	b = appendBulk(append(b, "\r\n"...), []byte(name))
	for _, a := range args {
		b = appendBulk(b, a)
	}
	return b
}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, "\r\n"...)
	b = append(b, s...)
	return append(b, "\r\n"...)
}

// conn is one connection to Redis, used by one worker. The engine may
// Close it from another goroutine while an operation hangs, and a canceled
// context interrupts from a third.
type conn struct {
	d *Driver
	// addr is the server's address (a cluster's node, or the driver's
	// addr).
	addr string
	// null, elems and nils describe the last reply: nil (a GET that
	// missed), or an array of elems elements of which nils were nil;
	// first keeps them for the first reply of an operation.
	null        bool
	elems, nils int
	first       shape
	// keyBuf holds keys and numbers being rendered.
	keyBuf []byte
	// asking is set while an operation follows an ASK redirection: each
	// of its commands goes out after ASKING, whose +OK replies reads.
	asking bool

	sock.Pipeline
}

var (
	_ workloads.PipelineConn = (*conn)(nil)
	_ workloads.KeyspaceConn = (*conn)(nil)
)

// Do performs one GET or SET. It allocates nothing unless it has to dial
// or the server answers with an error.
//
// A connection the server closed while idle is dialed again before the
// command goes out (see sock.Guard.Ready). When the server closes it as
// the command arrives, the command is sent once more on a new connection
// only if the server provably did not process it (sock.Guard.Replayable):
// any command of which not one byte was written, and a GET written whole
// that met the end of the stream or a reset before any reply byte. A SET
// that may have been processed stays an error.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	return c.roundTrip(ctx, op, c.d.ops[op.Kind])
}

// Fill writes op's keys for prefill: a SET with the run's expiry, and
// the other key types the mix uses.
func (c *conn) Fill(ctx context.Context, op *workloads.Op) error {
	return c.roundTrip(ctx, op, opFill)
}

// Delete deletes op's keys for cleanup.
func (c *conn) Delete(ctx context.Context, op *workloads.Op) error {
	return c.roundTrip(ctx, op, opCleanup)
}

// roundTrip sends one operation's commands and reads their replies (see Do).
func (c *conn) roundTrip(ctx context.Context, op *workloads.Op, kind operation) error {
	deadline := sock.Deadline(ctx, c.d.timeout)
	for replay := false; ; replay = true {
		if err := c.Link.Ready(ctx, deadline, c); err != nil {
			return err
		}
		c.Out = c.render(c.Out[:0], kind, op)
		err := c.Send()
		if err == nil {
			err = c.replies(kind)
		}
		if err == nil {
			c.count(kind, op)
			return nil
		}
		if workloads.AsStatus(err) != nil {
			return err // an answer: the stream is in step
		}
		if !replay && c.Link.Replayable(ctx, err, c.d.cmds[kind].idempotent) {
			c.Link.Drop()
			continue
		}
		return c.Link.Broken(ctx, err)
	}
}

// render appends the commands of one operation to b.
func (c *conn) render(b []byte, kind operation, op *workloads.Op) []byte {
	return c.d.cmds[kind].render(c, b, op)
}

// replies reads the replies of one operation: the first error reply
// among them, once all are read, or the first other error at once. The
// first reply's shape is kept for count.
func (c *conn) replies(kind operation) error {
	var answer error
	for i := range c.d.repliesOf(kind) {
		if c.asking {
			// ASKING's own reply, +OK; an error reply is an answer too.
			if err := c.reply(); err != nil {
				if workloads.AsStatus(err) == nil {
					return err
				}
				answer = cmp.Or(answer, err)
			}
		}
		c.null, c.elems, c.nils = false, 0, 0
		err := c.nested(0)
		if i == 0 {
			c.first = shape{null: c.null, elems: c.elems, nils: c.nils}
		}
		switch {
		case err == nil:
		case workloads.AsStatus(err) != nil:
			if answer == nil {
				answer = err
			}
		default:
			return err
		}
	}
	return answer
}

// count notes what a successful read found (see the table of commands).
func (c *conn) count(kind operation, op *workloads.Op) {
	switch c.d.cmds[kind].read {
	case readOne:
		if c.first.null {
			op.Misses++
		} else {
			op.Hits++
		}
	case readEach:
		op.Misses += int32(c.first.nils)
		op.Hits += int32(c.first.elems - c.first.nils)
	case readNonEmpty:
		if c.first.null || c.first.elems == 0 {
			op.Misses++
		} else {
			op.Hits++
		}
	}
}

// Queue renders op's command into the pipeline's send buffer. With
// nothing in flight it readies the connection as Do does: dialing again
// when it is broken, checking it when it sat idle.
func (c *conn) Queue(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	if err := c.Begin(ctx, deadline, c); err != nil {
		return err
	}
	c.Out = c.render(c.Out, c.d.ops[op.Kind], op)
	c.InFlight++
	return nil
}

// Receive reads the reply to the oldest command in flight.
func (c *conn) Receive(ctx context.Context, op *workloads.Op, deadline time.Time) error {
	if err := c.Next(ctx, deadline); err != nil {
		return err
	}
	kind := c.d.ops[op.Kind]
	err := c.replies(kind)
	if err == nil {
		c.count(kind, op)
	}
	return c.Settle(ctx, err, workloads.AsStatus(err) != nil) // an error reply is an answer
}

// Redial opens the connection within deadline and at most the dial
// timeout, then authenticates and selects the database.
func (c *conn) Redial(ctx context.Context, deadline time.Time) error {
	if err := c.Dial(ctx, net.Dialer{Timeout: c.d.dialTimeout, KeepAlive: 30 * time.Second}, c.d.network, c.addr, c.d.tls, 16<<10, deadline); err != nil {
		return err
	}
	if c.d.replies == 0 {
		return nil
	}
	c.Out = append(c.Out[:0], c.d.hello...)
	if err := c.Send(); err != nil {
		c.Link.Drop()
		return err
	}
	for range c.d.replies {
		if err := c.reply(); err != nil {
			c.Link.Drop()
			return fmt.Errorf("redis: opening a connection: %w", err)
		}
	}
	return nil
}

// maxNesting is how deep the arrays of a reply may nest. GET, SET and
// PING are answered without arrays; the bound keeps a hostile server from
// growing the reader's stack without end.
const maxNesting = 16

// reply reads one whole reply: nil for a status, number, bulk string, nil
// or array, a *workloads.StatusError for an error reply.
func (c *conn) reply() error {
	c.null, c.elems, c.nils = false, 0, 0
	return c.nested(0)
}

// shape is what a reply held, for counting hits and misses.
type shape struct {
	null        bool
	elems, nils int
}

func (c *conn) nested(depth int) error {
	line, err := c.ReadLine("redis")
	if err != nil {
		return err
	}
	if len(line) == 0 {
		return errors.New("redis: empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return nil
	case '-':
		msg := string(line[1:])
		return &workloads.StatusError{Kind: "redis " + firstWord(msg), Detail: msg}
	case '$':
		n, err := replyLength(line)
		if err != nil || n < 0 {
			switch {
			case err != nil:
			case depth == 0:
				c.null = true
			case depth == 1:
				c.nils++
			}
			return err // nil: a miss
		}
		if _, err := c.R.Discard(n + 2); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		return nil
	case '*':
		n, err := replyLength(line)
		if err != nil {
			return err
		}
		if n > 0 && depth == maxNesting {
			return fmt.Errorf("redis: reply nests arrays deeper than %d", maxNesting)
		}
		switch {
		case n < 0 && depth == 0:
			c.null = true
		case n < 0 && depth == 1:
			c.nils++
		case depth == 0:
			c.elems = n
		}
		for range n {
			if err := c.nested(depth + 1); err != nil {
				if workloads.AsStatus(err) == nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("redis: unexpected reply %q", clip(line))
}

// replyLength reads the length of a "$n" or "*n" reply line.
func replyLength(line []byte) (int, error) {
	digits := line[1:]
	if len(digits) == 2 && digits[0] == '-' && digits[1] == '1' {
		return -1, nil
	}
	if len(digits) == 0 || len(digits) > 10 {
		return 0, fmt.Errorf("redis: malformed reply %q", clip(line))
	}
	n := 0
	for _, b := range digits {
		if b < '0' || b > '9' {
			return 0, fmt.Errorf("redis: malformed reply %q", clip(line))
		}
		n = n*10 + int(b-'0')
	}
	if n > 512<<20 {
		return 0, fmt.Errorf("redis: reply of %d bytes is larger than Redis allows", n)
	}
	return n, nil
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
