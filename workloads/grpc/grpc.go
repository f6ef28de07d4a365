// Package grpc is tailgate's gRPC driver: unary calls to any method, with
// request messages built from the plan's JSON bodies.
//
// Targets: grpc://host[:port] (plaintext HTTP/2) and grpcs://host[:port]
// (TLS, the system's roots unless workload.tls says otherwise); the port is
// 80 or 443 when not given.
//
// A request names its method as package.Service/Method. Message types come
// from the server's reflection service (grpc.reflection.v1, falling back to
// v1alpha) or, when the workload names a protoset, from that
// FileDescriptorSet file (protoc --descriptor_set_out --include_imports).
// Everything is checked at open time, before any load: an unknown service or
// method (the message lists what is offered), a body that is not JSON or
// does not match the request message, messages above 1 for a method that
// takes one request message.
//
// Streaming methods are called like unary ones, one call per operation
// (see stream.go): a server-streaming call sends its one message and
// reads the responses to the end of the stream; a client-streaming or
// bidirectional call sends the request's messages (1 unless the plan sets
// messages) back to back and half-closes, and reads the responses to the
// end of the stream. The operation's latency is to the end of the stream; its latency
// to the first response message and how many messages came are recorded
// beside it (workloads.Op.Messages).
//
// The body is the request message in protobuf's JSON mapping; {{key}} in it
// is replaced by the operation's key as JSON string text. See body for how
// the wire bytes are built per operation; responses are counted, not
// decoded, but compressed ones are decompressed and so checked, and a
// workload may compress its requests (see compress.go). Headers are sent as metadata, names lower-cased (values of
// "-bin" names base64-encoded, as gRPC wants); the reflection calls at open
// time carry the first request's headers, for servers that want credentials
// on every call. Every call carries the workload's timeout as grpc-timeout.
//
// Counting: status OK is a success; any other code is a
// *workloads.StatusError of Kind "grpc Unavailable" etc., except that a call
// outliving the workload's timeout is a timeout. A connection that fails
// (refused, reset, closed) counts as "grpc Unavailable", as grpc-go reports
// it. A call the server provably did not process (above a GOAWAY's
// last-stream-id, refused, or never written) goes out once more on a fresh
// connection first, and a connection the server closed, drained or pinged
// while it idled is dealt with before the next call (see
// workloads/internal/h2, idle.go).
//
// The reflection calls at open time go through grpc-go. The calls of the
// load go through tailgate's lean HTTP/2 client (workloads/internal/h2):
// each Conn is one HTTP/2 connection, so the plan's connections are real
// connections, carrying one call at a time on the worker's goroutine, with
// no goroutine hand-off and no allocation per call. With workload.streams
// above 1 the Driver is a workloads.Multiplexer: the Conns of one
// ConnectStreams are streams of one HTTP/2 connection (an h2.Mux), up to
// the server's SETTINGS_MAX_CONCURRENT_STREAMS at once; calls beyond it
// wait for a stream and say when they went out (Op.Sent). A call that
// times out resets its stream and keeps the connection. A Conn that loses
// its server dials again at its next call, backing off from 50 ms up to
// one second between attempts; calls fail fast meanwhile.
package grpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/h2"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

func init() {
	workloads.Register("grpc", Open)
	workloads.Register("grpcs", Open)
}

// UserAgent is the user agent of every call.
const UserAgent = "tailgate"

// defaultTimeout bounds a call when the workload sets no timeout.
const defaultTimeout = time.Second

// healthCheck is what Connect calls to prove a gRPC server answers.
const healthCheck = "/grpc.health.v1.Health/Check"

// Driver loads one gRPC target.
type Driver struct {
	addr     string
	creds    credentials.TransportCredentials // grpc-go's, for reflection
	tls      *tls.Config                      // the calls' own; nil for grpc://
	timeout  time.Duration
	requests []request
	probe    []byte // the header block of Connect's health check
	describe string
	// compress says request messages are gzip-compressed.
	compress bool
}

var (
	_ workloads.Driver      = (*Driver)(nil)
	_ workloads.Multiplexer = (*Driver)(nil)
)

// request is one plan request, resolved and compiled.
type request struct {
	method string // "/package.Service/Method"
	body   *body
	// block is the request's HTTP/2 header block, built once.
	block []byte
	// compressed is a static body's message compressed, once, when the
	// workload compresses.
	compressed []byte
	// streaming says the method streams its requests, its responses or
	// both; messages is how many request messages a call sends (1 but
	// for client-streaming and bidirectional methods), and framed, for a
	// static body sent several times, all of them framed, built once.
	streaming bool
	messages  int
	framed    []byte
}

// Open builds a driver for a grpc:// or grpcs:// target. It resolves every
// request's method and compiles its body, asking the server's reflection
// service unless the workload names a protoset.
func Open(ctx context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	name := spec.Component.Name
	w := &spec.Component.Workload
	redacted := workloads.Redact(target.Redacted(), spec.Secrets)
	if target.Host == "" || target.Hostname() == "" {
		return nil, fmt.Errorf("component %q: %s target has no host; write it as %s://host:port", name, target.Scheme, target.Scheme)
	}
	if target.User != nil {
		return nil, fmt.Errorf("component %q: target %q: a gRPC target takes no user or password; send credentials as request headers", name, redacted)
	}
	if (target.Path != "" && target.Path != "/") || target.RawQuery != "" {
		return nil, fmt.Errorf("component %q: target %q: takes no path or query; write it as %s://host:port", name, redacted, target.Scheme)
	}
	if len(w.Requests) == 0 {
		return nil, fmt.Errorf("component %q: a gRPC target needs at least one request", name)
	}
	d := &Driver{addr: target.Host, timeout: w.Timeout, creds: insecure.NewCredentials()}
	switch w.Compression {
	case "":
	case encodingGzip:
		d.compress = true
	default:
		return nil, fmt.Errorf("component %q: workload.compression %q is not supported; allowed: %s", name, w.Compression, encodingGzip)
	}
	if d.timeout <= 0 {
		d.timeout = defaultTimeout
	}
	if target.Port() == "" {
		port := "80"
		if target.Scheme == "grpcs" {
			port = "443"
		}
		d.addr = net.JoinHostPort(target.Hostname(), port)
	}
	d.describe = target.Scheme + "://" + d.addr
	if target.Scheme == "grpcs" {
		cfg, err := workloads.TLSConfig(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", name, err)
		}
		d.creds = credentials.NewTLS(cfg.Clone())
		d.tls = cfg
		if d.tls.ServerName == "" {
			d.tls.ServerName = target.Hostname()
		}
		d.tls.NextProtos = []string{"h2"}
		if cfg.InsecureSkipVerify {
			d.describe += " (certificate checks off)"
		}
	}

	services := make([]string, len(w.Requests))
	methods := make([]string, len(w.Requests))
	headers := make([]metadata.MD, len(w.Requests))
	for i, r := range w.Requests {
		service, method, ok := strings.Cut(strings.TrimPrefix(r.Method, "/"), "/")
		if !ok || service == "" || method == "" || strings.Contains(method, "/") {
			return nil, fmt.Errorf("component %q: request %q: method %q must be a full gRPC method name, like helloworld.Greeter/SayHello",
				name, r.Name, r.Method)
		}
		services[i], methods[i] = service, method
		if len(r.Headers) > 0 {
			headers[i] = metadata.MD{}
			for k, v := range r.Headers {
				headers[i].Append(strings.ToLower(k), v)
			}
		}
	}

	var desc *descriptors
	var err error
	if w.Protoset != "" {
		desc, err = readProtoset(w.Protoset)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", name, err)
		}
		d.describe += " (protoset " + w.Protoset + ")"
	} else {
		cc, cerr := d.newClient()
		if cerr != nil {
			return nil, fmt.Errorf("component %q: %s: %w", name, d.describe, cerr)
		}
		// Bounded even when the caller's context is not: a server that
		// accepts connections and never answers must not hang the open.
		rctx, cancel := context.WithTimeout(ctx, max(d.timeout, 10*time.Second))
		// A server that wants credentials on every call finds them in the
		// first request's headers.
		if headers[0] != nil {
			rctx = metadata.NewOutgoingContext(rctx, headers[0])
		}
		desc, err = reflectDescriptors(rctx, cc, services)
		cancel()
		cc.Close()
		switch code := status.Code(err); {
		case err == nil:
		case code == codes.Unavailable || code == codes.DeadlineExceeded:
			return nil, fmt.Errorf("component %q: %w: %s: asking for its services: %w", name, workloads.ErrUnreachable, d.describe, err)
		default:
			return nil, fmt.Errorf("component %q: %s: %w", name, d.describe, err)
		}
	}

	types := dynamicpb.NewTypes(desc.files)
	for i, r := range w.Requests {
		what := fmt.Sprintf("component %q: request %q: method %q", name, r.Name, r.Method)
		sd := desc.service(services[i])
		if sd == nil {
			return nil, fmt.Errorf("%s: %s offers no service %q; it offers: %s", what, desc.from, services[i], strings.Join(desc.offered, ", "))
		}
		md := sd.Methods().ByName(protoreflect.Name(methods[i]))
		if md == nil {
			return nil, fmt.Errorf("%s: service %s has no method %q; it has: %s", what, services[i], methods[i], methodNames(sd))
		}
		messages := max(r.Messages, 1)
		if messages > 1 && !md.IsStreamingClient() {
			return nil, fmt.Errorf("%s: messages %d: the method is %s and takes one request message; messages is for client-streaming and bidirectional methods",
				what, r.Messages, methodKind(md))
		}
		b, err := compileBody(md.Input(), r.Body, w.Keys.Prefix, w.Keys.Count, types)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		path := "/" + services[i] + "/" + methods[i]
		block, err := d.headerBlock(target.Scheme, path, headers[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		req := request{method: path, body: b, block: block,
			streaming: md.IsStreamingClient() || md.IsStreamingServer(), messages: messages}
		if d.compress && b.static != nil {
			var gz gzipper
			req.compressed = bytes.Clone(gz.compress(b.static.wire))
		}
		if messages > 1 && b.static != nil {
			msg, compressed := b.static.wire, false
			if req.compressed != nil {
				msg, compressed = req.compressed, true
			}
			req.framed = appendFrames(nil, msg, compressed, messages)
		}
		d.requests = append(d.requests, req)
	}
	d.probe, _ = d.headerBlock(target.Scheme, healthCheck, nil)
	return d, nil
}

// headerBlock builds the HTTP/2 header block of a call to path: gRPC's
// headers, then the request's metadata, sorted.
func (d *Driver) headerBlock(scheme, path string, md metadata.MD) ([]byte, error) {
	fields := [][2]string{
		{"content-type", "application/grpc"},
		{"te", "trailers"},
		{"grpc-timeout", encodeTimeout(d.timeout)},
		{"grpc-accept-encoding", encodingGzip},
	}
	if d.compress && path != healthCheck {
		fields = append(fields, [2]string{"grpc-encoding", encodingGzip})
	}
	if len(md.Get("user-agent")) == 0 {
		fields = append(fields, [2]string{"user-agent", UserAgent})
	}
	names := make([]string, 0, len(md))
	for name := range md {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "grpc-encoding" || name == "grpc-accept-encoding" {
			return nil, fmt.Errorf("header %q is tailgate's to set: request compression is workload.compression, and every call accepts gzip", name)
		}
		if name == "" || strings.HasPrefix(name, ":") || strings.HasPrefix(name, "grpc-") ||
			name == "content-type" || name == "te" || name == "connection" || name == "host" {
			return nil, fmt.Errorf("header %q is reserved by gRPC and HTTP/2", name)
		}
		for _, value := range md[name] {
			if strings.HasSuffix(name, "-bin") {
				value = base64.RawStdEncoding.EncodeToString([]byte(value))
			} else if strings.ContainsAny(value, "\r\n\x00") {
				return nil, fmt.Errorf("header %q: a value cannot hold a line break or NUL", name)
			}
			fields = append(fields, [2]string{name, value})
		}
	}
	h2scheme := "http"
	if scheme == "grpcs" {
		h2scheme = "https"
	}
	return h2.HeaderBlock("POST", h2scheme, d.addr, path, fields), nil
}

// encodeTimeout writes a timeout as gRPC's grpc-timeout header: at most
// eight digits and a unit, the finest unit that fits.
func encodeTimeout(t time.Duration) string {
	const maxValue = 100_000_000 - 1
	if t <= 0 {
		return "0n"
	}
	for _, u := range []struct {
		d    time.Duration
		unit string
	}{{time.Nanosecond, "n"}, {time.Microsecond, "u"}, {time.Millisecond, "m"}, {time.Second, "S"}, {time.Minute, "M"}} {
		if v := (t + u.d - 1) / u.d; v <= maxValue {
			return strconv.FormatInt(int64(v), 10) + u.unit
		}
	}
	return strconv.FormatInt(int64((t+time.Hour-1)/time.Hour), 10) + "H"
}

// newClient makes a grpc-go ClientConn to the target, for the reflection
// calls at open time. It does not connect yet.
func (d *Driver) newClient() (*grpc.ClientConn, error) {
	return grpc.NewClient(d.addr,
		grpc.WithTransportCredentials(d.creds),
		grpc.WithUserAgent(UserAgent),
		grpc.WithDisableServiceConfig(),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: backoffBase, Multiplier: 1.6, Jitter: 0.2, MaxDelay: backoffMax},
			MinConnectTimeout: max(d.timeout, time.Second),
		}),
	)
}

// Connect opens one connection and proves a gRPC server answers on it: a
// grpc.health.v1 Check, where any answer, even Unimplemented, will do; only
// a failure to connect (Unavailable) or no answer in time fails. The error
// is a gRPC status error.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, max(d.timeout, 5*time.Second))
	defer cancel()
	deadline, _ := ctx.Deadline()
	c := &conn{d: d}
	if err := c.dial(ctx, deadline); err != nil {
		return nil, status.Errorf(codes.Unavailable, "connection error: %v", err)
	}
	if err := probeError(c.call(d.probe, c.frame(nil, false), false)); err != nil {
		c.Drop()
		c.Close()
		return nil, err
	}
	c.H.Release()
	return c, nil
}

// probeError is Connect's judgment of its health check's outcome: any
// answer will do, but a failure to connect or no answer in time. The
// error is a gRPC status error.
func probeError(err error) error {
	var ce *callError
	switch {
	case err == nil, errors.As(err, &ce) && ce.code != codes.Unavailable && ce.code != codes.DeadlineExceeded && ce.code != codes.Canceled:
		return nil
	case ce != nil:
		return status.Error(ce.code, ce.msg)
	}
	return status.Errorf(codes.Unavailable, "connection error: %v", err)
}

// ConnectStreams opens one connection for n workers' calls at once (see
// h2.Mux) and proves a gRPC server answers on it, as Connect does.
func (d *Driver) ConnectStreams(ctx context.Context, n int) ([]workloads.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, max(d.timeout, 5*time.Second))
	defer cancel()
	deadline, _ := ctx.Deadline()
	g := h2.NewGroup(n, d.timeout, backoffBase, backoffMax, d.dialNet)
	conns := make([]workloads.Conn, n)
	for i := range conns {
		conns[i] = &conn{d: d, Client: h2.Client{Group: g, Stream: h2.NewStream()}}
	}
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	m, err := g.Mux(ctx, deadline)
	if err != nil {
		closeAll()
		return nil, status.Errorf(codes.Unavailable, "connection error: %v", err)
	}
	c0 := conns[0].(*conn)
	if err := probeError(c0.callMux(ctx, m, deadline, d.probe, c0.frame(nil, false), false)); err != nil {
		closeAll()
		return nil, err
	}
	return conns, nil
}

// Describe names the target.
func (d *Driver) Describe() string { return d.describe }

// Close releases nothing: every connection belongs to its Conn.
func (d *Driver) Close() error { return nil }

// Reconnection backoff: after a failed dial, calls fail fast until the
// next attempt, which comes after 50 ms, growing by 1.6 times to a second,
// with 20% jitter (grpc-go's connection backoff, tuned as the driver tuned
// it).
const (
	backoffBase = 50 * time.Millisecond
	backoffMax  = time.Second
)

// conn is one HTTP/2 connection, or a stream of a shared one (see
// ConnectStreams), used by one worker, with the buffers its operations
// build messages in. Its H is nil when broken: the next Do dials again.
// The engine may Close it from another goroutine while a call hangs, and
// a canceled context interrupts from a third.
type conn struct {
	h2.Client
	d    *Driver
	wire []byte
	text []byte
	gz   gzipper
	// multi holds the framed messages of a streaming call that sends
	// several built per operation.
	multi []byte
	// The call in progress: its message's gRPC prefix, and the status,
	// message, encoding and messages its response carries.
	prefix      [5]byte
	grpcStatus  int // -1 until a grpc-status came
	grpcMessage string
	encoding    string
	messages    messageReader
	// gunzip checks compressed replies; made at the first.
	gunzip *gunzipper
	// lastCall is when the previous call began.
	lastCall time.Time

	// After a failed dial, calls fail fast until the next attempt.
	backoff h2.Backoff
}

var _ workloads.Conn = (*conn)(nil)

// Do makes one unary call.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	r := &c.d.requests[op.Kind]
	msg, compressed, err := c.message(r, op.Key)
	if err != nil {
		return err
	}
	body := c.frames(r, msg, compressed)
	if c.Group != nil {
		return c.doStream(ctx, op, r, body)
	}
	now := time.Now()
	deadline := now.Add(c.d.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	gap := now.Sub(c.lastCall)
	c.lastCall = now
	c.Link.Watch(ctx)
	// A connection the server closed or drained while it idled, or drained
	// during Connect's call, is not reused: the call goes out on a fresh
	// one.
	nc, err := c.Ready(now)
	switch {
	case err != nil:
		return err
	case nc == nil:
		if err := c.redial(ctx, now, deadline); err != nil {
			return err
		}
	default:
		if err := nc.SetDeadline(deadline); err != nil {
			c.Drop()
			return &workloads.StatusError{Kind: codeKind(codes.Unavailable), Detail: "connection error: " + err.Error()}
		}
	}
	if err := ctx.Err(); err != nil {
		c.H.Release()
		return err // checked after the deadline is set, so a later interrupt is not undone
	}
	c.H.SetLazyPings(gap < h2.IdleAfter)
	err = c.call(r.block, body, r.streaming)
	if retryable(err) && ctx.Err() == nil && !c.closedForGood() {
		// The server did not process the call: once more, on a fresh
		// connection, within the same deadline.
		c.Drop()
		if err := c.redial(ctx, time.Now(), deadline); err != nil {
			return err
		}
		err = c.call(r.block, body, r.streaming)
	}
	if err == nil && r.streaming {
		c.messages.answer(op)
	}
	if err == nil && c.H.Usable() {
		c.H.Release()
		return nil
	}
	// A connection that failed, or that the server is ending, is closed;
	// one whose call timed out is kept, its stream reset.
	if te, ok := err.(*h2.TransportError); ok && !te.Timeout || !c.H.Usable() {
		c.Drop()
	} else {
		c.H.Release()
	}
	return c.classify(ctx, deadline, err)
}

// redial connects again for a call due by deadline, failing fast while a
// failed dial's backoff lasts. Its error is the call's.
func (c *conn) redial(ctx context.Context, now, deadline time.Time) error {
	if err := c.backoff.Wait(now); err != nil {
		return &workloads.StatusError{Kind: codeKind(codes.Unavailable), Detail: "connection error: " + err.Error()}
	}
	if err := c.dial(ctx, deadline); err != nil {
		c.backoff.Failed(err)
		return c.dialError(ctx, err)
	}
	c.backoff.Reset()
	return nil
}

// dialError is a call's error when its connection could not be opened.
func (c *conn) dialError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("grpc: %w (%v)", ctxErr, err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("grpc: no connection within the %s timeout: %w", c.d.timeout, context.DeadlineExceeded)
	}
	return &workloads.StatusError{Kind: codeKind(codes.Unavailable), Detail: "connection error: " + err.Error()}
}

// dialNet opens a connection to the target within deadline: TLS with ALPN
// h2 for grpcs.
func (d *Driver) dialNet(ctx context.Context, deadline time.Time) (net.Conn, error) {
	nc, err := sock.Dial(ctx, net.Dialer{KeepAlive: 30 * time.Second}, d.addr, deadline)
	if err != nil {
		return nil, err
	}
	if d.tls != nil {
		tc, err := sock.Handshake(ctx, nc, d.tls)
		if err != nil {
			return nil, fmt.Errorf("authentication handshake failed: %w", err)
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			nc.Close()
			return nil, fmt.Errorf("the server did not negotiate HTTP/2 (ALPN h2, got %q)", p)
		}
		nc = tc
	}
	return nc, nil
}

// dial opens the connection and starts HTTP/2 on it, within deadline.
func (c *conn) dial(ctx context.Context, deadline time.Time) error {
	nc, err := c.d.dialNet(ctx, deadline)
	if err != nil {
		return err
	}
	return c.Start(nc)
}

// message returns the request message of one operation, and whether it
// is compressed: it is when the workload compresses.
func (c *conn) message(r *request, key []byte) (msg []byte, compressed bool, err error) {
	b := r.body
	switch {
	case r.compressed != nil:
		return r.compressed, true, nil
	case b.static != nil:
		msg = b.static.wire
	case b.tmpl != nil:
		c.wire = b.tmpl.appendTo(c.wire[:0], key)
		msg = c.wire
	default:
		if c.wire, c.text, err = b.json.appendTo(c.wire[:0], c.text, key); err != nil {
			return nil, false, err
		}
		msg = c.wire
	}
	if c.d.compress {
		return c.gz.compress(msg), true, nil
	}
	return msg, false, nil
}

// call makes one call on the held connection: body is its request
// messages, framed (see frame and frames), sent before the client's side
// of the stream closes; the response's messages are read to the end of
// the stream, and when stamp is set the instant the first one came is
// noted. The outcome is nil (status OK), a *callError or an
// *h2.TransportError.
func (c *conn) call(block []byte, body [2][]byte, stamp bool) error {
	c.begin(stamp)
	return c.outcome(c.H.Call(block, body, c), c.H.Status())
}

// begin readies the call state for the next call.
func (c *conn) begin(stamp bool) {
	c.grpcStatus, c.grpcMessage, c.encoding = -1, "", ""
	c.messages.reset(stamp)
}

// frame frames one message as gRPC frames it, a flag byte (compressed or
// not) and its length, then the bytes: the prefix is the connection's,
// valid until the next frame.
func (c *conn) frame(msg []byte, compressed bool) [2][]byte {
	c.prefix[0] = 0
	if compressed {
		c.prefix[0] = 1
	}
	binary.BigEndian.PutUint32(c.prefix[1:], uint32(len(msg)))
	return [2][]byte{c.prefix[:], msg}
}

// callMux is call on a stream of m, ending by deadline.
func (c *conn) callMux(ctx context.Context, m *h2.Mux, deadline time.Time, block []byte, body [2][]byte, stamp bool) error {
	c.begin(stamp)
	return c.outcome(m.Call(ctx, c.Stream, deadline, block, body, c), c.Stream.Status())
}

// doStream makes one call, body its framed messages, on a stream of the
// group's connection. A call the server provably did not process goes out
// once more, within the same deadline, on a fresh connection.
func (c *conn) doStream(ctx context.Context, op *workloads.Op, r *request, body [2][]byte) error {
	deadline := sock.Deadline(ctx, c.d.timeout)
	for attempt := 0; ; attempt++ {
		m, err := c.Group.Mux(ctx, deadline)
		if err != nil {
			if de, ok := err.(*h2.DialError); ok {
				if de.Waiting {
					return &workloads.StatusError{Kind: codeKind(codes.Unavailable), Detail: "connection error: " + de.Err.Error()}
				}
				return c.dialError(ctx, de.Err)
			}
			return err
		}
		err = c.callMux(ctx, m, deadline, r.block, body, r.streaming)
		if sent := c.Stream.Sent(); !sent.IsZero() {
			op.Sent = sent
		}
		if err == nil && r.streaming {
			c.messages.answer(op)
		}
		if attempt == 0 && retryable(err) && ctx.Err() == nil && !c.Stream.Closed() {
			// The calls in flight on m finish there; this one goes on a
			// fresh connection.
			c.Group.Retire(m)
			continue
		}
		return c.classify(ctx, deadline, err)
	}
}

// outcome turns the end of a call's stream, whose response had the HTTP
// status httpStatus, into its result, as grpc-go maps it.
func (c *conn) outcome(err error, httpStatus int) error {
	if err != nil {
		se, ok := err.(*h2.StreamError)
		switch {
		case !ok:
			return err
		case se.GoAway:
			// Not processed, and never will be: the call may go out
			// again on another connection.
			return &callError{code: codes.Unavailable, msg: se.Error(), unprocessed: true}
		}
		return &callError{code: resetCode(se.Code), msg: se.Error(), unprocessed: se.Unprocessed()}
	}
	if httpStatus != 200 {
		return &callError{code: httpStatusCode(httpStatus),
			msg: fmt.Sprintf("unexpected HTTP status code received from server: %d", httpStatus)}
	}
	if c.grpcStatus < 0 {
		return &callError{code: codes.Internal, msg: "server closed the stream without sending trailers"}
	}
	if c.grpcStatus == 0 {
		// Status OK: the reply's messages must be whole, and a
		// compressed one must decompress.
		return c.messages.outcome()
	}
	return &callError{code: codes.Code(c.grpcStatus), msg: c.grpcMessage}
}

// Field takes the gRPC status, message and encoding of the call's response.
func (c *conn) Field(f hpack.HeaderField) {
	switch f.Name {
	case "grpc-status":
		if n, err := strconv.Atoi(f.Value); err == nil && n >= 0 {
			c.grpcStatus = n
		} else {
			c.grpcStatus = int(codes.Unknown)
		}
	case "grpc-message":
		c.grpcMessage = decodeGRPCMessage(f.Value)
	case "grpc-encoding":
		c.encoding = f.Value
	}
}

// Data follows the reply's messages: they are counted, not decoded, but a
// compressed one is decompressed and so checked (see compress.go).
func (c *conn) Data(p []byte) { c.messages.data(p, c.encoding, &c.gunzip) }

// callError is a failed call's outcome: a gRPC status from the server (or
// one a transport failure maps to, as grpc-go maps it). unprocessed says
// the server provably did not process the call (see retryable).
type callError struct {
	code        codes.Code
	msg         string
	unprocessed bool
}

func (e *callError) Error() string { return "grpc " + e.code.String() + ": " + e.msg }

// retryable says whether a call's outcome proves that the server did not
// process the call, so it may go out again on a fresh connection (see
// h2.Retryable for the rules).
func retryable(err error) bool {
	if ce, ok := err.(*callError); ok {
		return ce.unprocessed
	}
	return h2.Retryable(err)
}

// httpStatusCode maps an HTTP status that is not 200 to a gRPC code, as
// grpc-go does.
func httpStatusCode(status int) codes.Code {
	switch status {
	case 400:
		return codes.Internal
	case 401:
		return codes.Unauthenticated
	case 403:
		return codes.PermissionDenied
	case 404:
		return codes.Unimplemented
	case 429, 502, 503, 504:
		return codes.Unavailable
	}
	return codes.Unknown
}

// resetCode maps an RST_STREAM error code to a gRPC code, as grpc-go does.
func resetCode(code uint32) codes.Code {
	switch code {
	case 0x3, 0xb: // FLOW_CONTROL_ERROR, ENHANCE_YOUR_CALM
		return codes.ResourceExhausted
	case h2.ErrCodeRefusedStream:
		return codes.Unavailable
	case h2.ErrCodeCancel:
		return codes.Canceled
	case 0xc: // INADEQUATE_SECURITY
		return codes.PermissionDenied
	}
	return codes.Internal
}

// decodeGRPCMessage undoes grpc-message's percent-encoding.
func decodeGRPCMessage(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// classify turns a call's outcome into the error the engine counts.
func (c *conn) classify(ctx context.Context, deadline time.Time, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("grpc: %w (%v)", ctxErr, err)
	}
	var te *h2.TransportError
	if errors.As(err, &te) {
		if te.Timeout {
			return fmt.Errorf("grpc: no answer within the %s timeout: %w", c.d.timeout, context.DeadlineExceeded)
		}
		return &workloads.StatusError{Kind: codeKind(codes.Unavailable), Detail: "connection error: " + err.Error()}
	}
	var ce *callError
	if !errors.As(err, &ce) {
		return err
	}
	// The server runs the call's grpc-timeout from when it got the call, so
	// its deadline can fire, and reset the stream (CANCEL), a moment before
	// ours: near the deadline that is the timeout too.
	near := !time.Now().Before(deadline.Add(-max(c.d.timeout/20, 5*time.Millisecond)))
	if (ce.code == codes.DeadlineExceeded || ce.code == codes.Canceled) && near {
		return fmt.Errorf("grpc: no answer within the %s timeout: %w", c.d.timeout, context.DeadlineExceeded)
	}
	return &workloads.StatusError{Kind: codeKind(ce.code), Detail: ce.msg}
}

// codeKinds holds "grpc OK" to "grpc Unauthenticated", so counting an error
// allocates no kind.
var codeKinds = func() []string {
	kinds := make([]string, codes.Unauthenticated+1)
	for code := range kinds {
		kinds[code] = "grpc " + codes.Code(code).String()
	}
	return kinds
}()

func codeKind(code codes.Code) string {
	if int(code) < len(codeKinds) {
		return codeKinds[code]
	}
	return "grpc " + code.String()
}

// closedForGood reports whether Close was called.
func (c *conn) closedForGood() bool {
	_, closed := c.Link.Current()
	return closed
}
