// Package memcache is tailgate's Memcached driver: get and set over the
// memcached text protocol, with a lean client of its own.
//
// Target: memcache://host[:port], port 11211 by default. tailgate does not
// authenticate (memcached's SASL, or its text-protocol -Y auth), so the URL
// takes no user or password; a server that requires it is reported so at
// connect ("CLIENT_ERROR unauthenticated"), as is one at its connection
// limit ("ERROR Too many open connections"), in the server's words.
//
// tailgate sends memcached these commands and no others: "version" once
// per connection, in Connect (proof the server speaks memcached), then the
// plan's "get key" and "set key 0 0 bytes", every key under its prefix.
//
// Each connection is one TCP connection with a buffered reader; an operation
// renders its command into one buffer, writes it with one raw system call,
// reads the reply and allocates nothing.
// Replies count as follows:
//
//	get  VALUE ... END   success (a hit)
//	get  END             success (a miss is an answer)
//	set  STORED          success
//	ERROR, CLIENT_ERROR, SERVER_ERROR, NOT_STORED
//	                     a *workloads.StatusError, Kind "memcache SERVER_ERROR" etc.
//
// Every operation runs under the workload's timeout (a socket deadline),
// from its intended start. A timeout, an I/O error or a reply that leaves
// the stream out of step closes the connection; the next operation dials
// again within its own deadline. A connection the server closed while idle
// (memcached -o idle_timeout) is dialed again before use, and an operation
// the server provably did not process is sent once more (see conn.Do).
package memcache

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

func init() {
	workloads.Register("memcache", Open)
}

// DefaultPort is the port of a memcache:// target that names none.
const DefaultPort = "11211"

// maxKeyLen is memcached's key length limit.
const maxKeyLen = 250

// maxKeyDigits is the longest key number a key can end with (2^64-1).
const maxKeyDigits = 20

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
	opSet
)

// Driver loads one memcached target; every Conn it returns is one TCP
// connection.
type Driver struct {
	addr    string
	timeout time.Duration
	ops     []operation
}

var _ workloads.Driver = (*Driver)(nil)

// Open builds a driver for a memcache:// target. It checks the target, the
// operations and the key prefix; it does not connect.
func Open(_ context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	name := spec.Component.Name
	w := &spec.Component.Workload
	if target.User != nil {
		return nil, fmt.Errorf("component %q: memcache target: tailgate does not authenticate to memcached (no SASL, no text-protocol auth); remove the user from the URL", name)
	}
	if target.Host == "" || target.Hostname() == "" {
		return nil, fmt.Errorf("component %q: memcache target has no host; write it as memcache://host:port", name)
	}
	if (target.Path != "" && target.Path != "/") || target.RawQuery != "" {
		return nil, fmt.Errorf("component %q: memcache target %q: takes no path or query; write it as memcache://host:port",
			name, workloads.Redact(target.String(), spec.Secrets))
	}
	addr := target.Host
	if target.Port() == "" {
		addr = net.JoinHostPort(target.Hostname(), DefaultPort)
	}
	if err := checkPrefix(w.Keys.Prefix); err != nil {
		return nil, fmt.Errorf("component %q: keys.prefix %q: %w", name, w.Keys.Prefix, err)
	}
	d := &Driver{addr: addr, timeout: w.Timeout}
	if d.timeout <= 0 {
		d.timeout = defaultTimeout
	}
	for _, op := range spec.Operations() {
		switch op {
		case "get":
			d.ops = append(d.ops, opGet)
		case "set":
			d.ops = append(d.ops, opSet)
		default:
			return nil, fmt.Errorf("component %q: memcache does not speak operation %q (get, set)", name, op)
		}
	}
	if len(d.ops) == 0 {
		return nil, fmt.Errorf("component %q: memcache needs a mix of get and set", name)
	}
	return d, nil
}

// checkPrefix rejects prefixes memcached cannot take in a key: spaces and
// control characters split or break the command line, and the key, digits
// included, must fit memcached's 250-byte limit.
func checkPrefix(prefix string) error {
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; c <= ' ' || c == 0x7f {
			return errors.New("memcached keys cannot hold spaces or control characters")
		}
	}
	if len(prefix)+maxKeyDigits > maxKeyLen {
		return fmt.Errorf("too long: memcached keys are at most %d bytes, and the key number takes up to %d", maxKeyLen, maxKeyDigits)
	}
	return nil
}

// Connect dials the server and proves it speaks memcached ("version").
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	c := &conn{d: d}
	c.link.Name = "memcache"
	deadline := sock.Deadline(ctx, d.timeout)
	if err := c.Redial(ctx, deadline); err != nil {
		return nil, err
	}
	if err := c.version(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Describe names the target.
func (d *Driver) Describe() string { return "memcache://" + d.addr }

// Close releases nothing: every connection belongs to its Conn.
func (d *Driver) Close() error { return nil }

// conn is one TCP connection to memcached, used by one worker. The engine
// may Close it from another goroutine while an operation hangs, and a
// canceled context interrupts from a third.
type conn struct {
	d   *Driver
	r   *bufio.Reader
	out []byte // the command being sent

	// link holds the network connection against Close and interrupts.
	link sock.Guard
}

var _ workloads.Conn = (*conn)(nil)

// Do performs one get or set. It allocates nothing unless it has to dial.
//
// A connection the server closed while idle is dialed again before the
// command goes out (see sock.Guard.Ready). When the server closes it as
// the command arrives, the command is sent once more on a new connection
// only if the server provably did not process it (sock.Guard.Replayable):
// any command of which not one byte was written, and a get written whole
// that met the end of the stream or a reset before any reply byte. A set
// that may have been processed stays an error.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	deadline := sock.Deadline(ctx, c.d.timeout)
	kind := c.d.ops[op.Kind]
	for replay := false; ; replay = true {
		if err := c.link.Ready(ctx, deadline, c); err != nil {
			return err
		}
		if kind == opSet {
			c.out = append(append(append(c.out[:0], "set "...), op.Key...), " 0 0 "...)
			c.out = strconv.AppendInt(c.out, int64(len(op.Value)), 10)
			c.out = append(append(append(c.out, lineEnd...), op.Value...), lineEnd...)
		} else {
			c.out = append(append(append(c.out[:0], "get "...), op.Key...), lineEnd...)
		}
		err := c.send()
		if err == nil {
			if kind == opSet {
				err = c.setReply()
			} else {
				err = c.getReply()
			}
		}
		if err == nil {
			return nil
		}
		var se *workloads.StatusError
		if errors.As(err, &se) {
			// After ERROR and CLIENT_ERROR the server may not have read
			// what was sent as meant: the connection is closed.
			// SERVER_ERROR and NOT_STORED leave it in step.
			if se.Kind == KindError || se.Kind == KindClientError {
				c.link.Drop()
			}
			return err
		}
		if !replay && c.link.Replayable(ctx, err, kind == opGet) {
			c.link.Drop()
			continue
		}
		return c.link.Broken(ctx, err)
	}
}

// Redial opens the TCP connection, reusing the buffers of a previous one.
func (c *conn) Redial(ctx context.Context, deadline time.Time) error {
	nc, err := sock.Dial(ctx, net.Dialer{}, c.d.addr, deadline)
	if err != nil {
		return err
	}
	r, err := c.link.Adopt(nc, 16<<10)
	if err != nil {
		return err
	}
	c.r = r
	return nil
}

// send writes the command in c.out: on a raw connection it goes out with
// the next read, which then waits for the reply.
func (c *conn) send() error { return c.link.Send(c.out) }

var (
	lineEnd      = []byte("\r\n")
	replyEnd     = []byte("END")
	replyStored  = []byte("STORED")
	replyValue   = []byte("VALUE ")
	replyVersion = []byte("VERSION ")
)

// getReply reads the reply to a get: a *workloads.StatusError for an
// error reply, any other error for a stream out of step.
func (c *conn) getReply() error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		switch {
		case bytes.Equal(line, replyEnd):
			return nil
		case bytes.HasPrefix(line, replyValue):
			n, ok := valueLength(line)
			if !ok {
				return fmt.Errorf("memcache: malformed reply %q", clip(line))
			}
			if _, err := c.r.Discard(n + len(lineEnd)); err != nil {
				return err
			}
		default:
			return reply(line)
		}
	}
}

// setReply reads the reply to a set, as getReply does.
func (c *conn) setReply() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if bytes.Equal(line, replyStored) {
		return nil
	}
	return reply(line)
}

// version proves the server speaks memcached. A server that refuses the
// connection says why in its own words: memcached at its connection limit
// (-c) sends "ERROR Too many open connections" and closes, and one that
// requires authentication (-Y) answers "CLIENT_ERROR unauthenticated".
func (c *conn) version() error {
	c.out = append(c.out[:0], "version\r\n"...)
	if err := c.send(); err != nil {
		return err
	}
	line, err := c.readLine()
	if err != nil {
		return err
	}
	return versionReply(c.d.addr, line)
}

// versionReply judges the reply line to "version".
func versionReply(addr string, line []byte) error {
	if bytes.HasPrefix(line, replyVersion) {
		return nil
	}
	var se *workloads.StatusError
	if !errors.As(reply(line), &se) {
		return fmt.Errorf("memcache: %s answered %q to \"version\": not a memcached server", addr, clip(line))
	}
	if se.Kind == KindClientError && se.Detail == "unauthenticated" {
		return fmt.Errorf("memcache: %s requires authentication, which tailgate does not do: %w", addr, se)
	}
	return fmt.Errorf("memcache: %s refused the connection: %w", addr, se)
}

// readLine returns the next reply line without its CRLF. The slice is only
// valid until the next read.
func (c *conn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("memcache: reply line longer than %d bytes", c.r.Size())
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
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
	if len(rest) == 0 || len(rest) > 10 {
		return 0, false
	}
	n := 0
	for _, b := range rest {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int(b-'0')
	}
	return n, true
}

// Close closes the connection; an operation pending on it fails at once,
// and later ones fail with net.ErrClosed.
func (c *conn) Close() error { return c.link.Close() }
