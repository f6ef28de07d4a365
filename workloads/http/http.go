// Package http is tailgate's HTTP driver: the plan's named requests over
// HTTP/1.1 keep-alive connections, through a lean client of its own, or
// over HTTP/2 (see h2.go). Each Conn is one TCP (or TLS) connection, so the
// plan's connections are real connections; a request is rendered into one
// buffer and sent with one write, its response read from a buffered reader
// on the same goroutine, and an operation allocates nothing. No proxy from
// the environment is used: the target is what the plan names.
//
// The protocol is the workload's protocol: auto (the default) takes what
// the server chooses by ALPN over TLS, offering h2 and http/1.1, and
// speaks HTTP/1.1 in the clear; http1 is HTTP/1.1 only; h2 requires HTTP/2
// over TLS (ALPN h2); h2c is HTTP/2 in the clear with prior knowledge. The
// first connection's protocol is every connection's: a run speaks one.
//
// Targets: http://[user:password@]host[:port][/base] and https://. A base path
// is put in front of every request's path; a user and password become a
// Basic Authorization header unless a request sets its own.
//
// A request's path (query included) and body may hold {{key}}, replaced by
// the operation's key: escaped in the path and query (letters, digits and
// -._~:@ are kept, everything else is %XX), as is in the body. The rest of
// the path is sent as written, except that bytes outside printable ASCII are
// %XX-encoded. Templates are split and headers rendered at open time, so an
// operation does no parsing.
//
// Counting: a response whose status is listed in the request's
// expect_status is a success, and only those; without expect_status every
// 2xx is. Any other status is a *workloads.StatusError of Kind "http 503"
// etc. Redirects are not followed: a 3xx is a status like any other. Every
// response body is read to its end (the latency includes it), whether its
// length is given, chunked or up to the connection's close, so connections
// are reused. The workload's timeout bounds each request, body included.
// Headers are sent as given, Host and User-Agent first, the others sorted;
// nothing is added that the plan does not say (no Accept-Encoding).
//
// Connections are kept alive and reused, never blindly: one that sat idle
// is checked before reuse, one past the idle timeout its server announced
// is not reused, and a request that fails where the server provably did not
// process it goes once more on a new connection (the rules are on
// conn.Do). A server that answers "Connection: close", an HTTP/1.0 server,
// a response that ends with the connection, a timeout and an I/O error
// close the connection; the next operation dials again.
//
// Spoken to in HTTP/1.1, a server that speaks only HTTP/2 fails Connect
// with ErrHTTP2Only, which says the workload.protocol that would do.
package http

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/h2"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

func init() {
	workloads.Register("http", Open)
	workloads.Register("https", Open)
}

// KeyPlaceholder is replaced by the operation's key in paths and bodies.
const KeyPlaceholder = "{{key}}"

// UserAgent is sent unless a request sets its own User-Agent.
const UserAgent = "tailgate"

// defaultTimeout bounds a request when the workload sets no timeout.
const defaultTimeout = time.Second

// detailLimit is how much of an error response's body its StatusError shows.
const detailLimit = 200

// maxHeaderBytes bounds a response's status line and headers.
const maxHeaderBytes = 1 << 20

// readBufferSize is each connection's response buffer.
const readBufferSize = 16 << 10

// Driver loads one HTTP target; every Conn it returns is one connection.
type Driver struct {
	protocol slo.WireProtocol
	// speaks is the protocol the connections speak, protoHTTP1 or
	// protoH2: fixed by the first connection (see settle).
	mu       sync.Mutex
	speaks   string
	scheme   string
	host     string // as the URL writes it: the Host header and the address
	addr     string // host:port to dial
	tls      *tls.Config
	dialer   net.Dialer
	requests []request
	timeout  time.Duration
	probe    []byte // the HEAD request Connect sends
	probeH2  []byte // its HTTP/2 header block
	probeAt  string
	describe string
}

var (
	_ workloads.Driver      = (*Driver)(nil)
	_ workloads.Multiplexer = (*Driver)(nil)
)

// request is one plan request, compiled for sending.
type request struct {
	method string
	// target is the request-target when the path and query hold no key.
	target string
	path   template
	query  template
	// head follows the request-target: the protocol, the Host header and
	// the plan's headers, each line ending in CRLF.
	head       []byte
	body       template
	staticBody []byte // the body when it holds no key
	// sendLength sends "Content-Length: 0" for an empty body, as methods
	// that usually carry one expect.
	sendLength bool
	// replayable requests are sent again on a new connection when a
	// kept-alive one turns out closed.
	replayable bool
	headOnly   bool // HEAD: the response has no body
	expect     statusSet
	h2         h2Request
}

// Open builds a driver for an http:// or https:// target: it reads the CA
// file and compiles every request; it does not connect.
func Open(_ context.Context, target *url.URL, spec *workloads.Spec) (workloads.Driver, error) {
	name := spec.Component.Name
	w := &spec.Component.Workload
	if target.Host == "" {
		return nil, fmt.Errorf("component %q: %s target has no host; write it as %s://host:port", name, target.Scheme, target.Scheme)
	}
	if target.RawQuery != "" || target.Fragment != "" {
		return nil, fmt.Errorf("component %q: target %q: takes no query or fragment; put them in the requests",
			name, workloads.Redact(target.Redacted(), spec.Secrets))
	}
	if len(w.Requests) == 0 {
		return nil, fmt.Errorf("component %q: an HTTP target needs at least one request", name)
	}
	d := &Driver{
		protocol: w.Protocol,
		scheme:   target.Scheme,
		host:     target.Host,
		addr:     target.Host,
		timeout:  w.Timeout,
		describe: workloads.Redact(target.Redacted(), spec.Secrets),
		dialer:   net.Dialer{Timeout: max(w.Timeout, 5*time.Second), KeepAlive: 30 * time.Second},
	}
	if d.timeout <= 0 {
		d.timeout = defaultTimeout
	}
	if target.Port() == "" {
		port := "80"
		if target.Scheme == "https" {
			port = "443"
		}
		d.addr = net.JoinHostPort(target.Hostname(), port)
	}
	if target.Scheme == "https" {
		cfg, err := workloads.TLSConfig(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", name, err)
		}
		if cfg.ServerName == "" {
			cfg.ServerName = target.Hostname()
		}
		switch d.protocol {
		case slo.HTTP1:
			cfg.NextProtos = []string{protoHTTP1}
		case slo.HTTP2:
			cfg.NextProtos = []string{protoH2}
		case slo.HTTP2Cleartext:
			return nil, fmt.Errorf("component %q: workload.protocol %q is HTTP/2 in the clear; an https:// target is spoken over TLS (write %q)", name, d.protocol, slo.HTTP2)
		default:
			cfg.NextProtos = []string{protoH2, protoHTTP1}
		}
		d.tls = cfg
		if cfg.InsecureSkipVerify {
			d.describe += " (certificate checks off)"
		}
	}
	switch {
	case d.tls == nil && d.protocol == slo.HTTP2:
		return nil, fmt.Errorf("component %q: workload.protocol %q is HTTP/2 over TLS; an http:// target is spoken in the clear (write %q, or use https://)", name, d.protocol, slo.HTTP2Cleartext)
	case d.protocol == "", d.protocol == slo.HTTPAuto, d.protocol == slo.HTTP1, d.protocol == slo.HTTP2, d.protocol == slo.HTTP2Cleartext:
	default:
		return nil, fmt.Errorf("component %q: workload.protocol %q is not one tailgate speaks; allowed: auto, http1, h2, h2c", name, d.protocol)
	}
	base := strings.TrimSuffix(target.EscapedPath(), "/")
	d.probeAt = d.scheme + "://" + d.host + base + "/"
	d.probe = []byte("HEAD " + base + "/ HTTP/1.1\r\nHost: " + d.host + "\r\nUser-Agent: " + UserAgent + "\r\n\r\n")
	d.probeH2 = h2.HeaderBlock(http.MethodHead, d.scheme, d.host, base+"/", [][2]string{{"user-agent", UserAgent}})
	var auth string
	if target.User != nil {
		password, _ := target.User.Password()
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(target.User.Username()+":"+password))
	}
	for i := range w.Requests {
		r, err := d.compile(&w.Requests[i], base, auth)
		if err != nil {
			return nil, fmt.Errorf("component %q: request %q: %w", name, w.Requests[i].Name, err)
		}
		d.requests = append(d.requests, r)
	}
	return d, nil
}

// compile prepares one plan request: templates split, the head rendered,
// the request-target kept whole when it holds no key.
func (d *Driver) compile(pr *slo.Request, base, auth string) (request, error) {
	r := request{method: strings.ToUpper(pr.Method)}
	if r.method == "" {
		r.method = http.MethodGet
	}
	if !validToken(r.method) {
		return r, fmt.Errorf("method %q is not an HTTP method", pr.Method)
	}
	if !strings.HasPrefix(pr.Path, "/") {
		return r, fmt.Errorf("path %q must start with \"/\"", pr.Path)
	}
	path, query, _ := strings.Cut(pr.Path, "?")
	r.path = compileTemplate(base + escapeNonASCII(path))
	r.query = compileTemplate(escapeNonASCII(query))
	r.body = compileTemplate(pr.Body)
	if !r.body.hasKey() {
		r.staticBody = []byte(pr.Body)
	}
	if !r.path.hasKey() && !r.query.hasKey() {
		r.target = r.path.static()
		if q := r.query.static(); q != "" {
			r.target += "?" + q
		}
	}
	header := http.Header{}
	host := d.host
	for name, value := range pr.Headers {
		if !validToken(name) {
			return r, fmt.Errorf("header name %q is not an HTTP token", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return r, fmt.Errorf("header %q: a value cannot hold a line break or NUL", name)
		}
		if strings.EqualFold(name, "Host") {
			host = value
			continue
		}
		header.Set(name, value)
	}
	if auth != "" && header.Get("Authorization") == "" {
		header.Set("Authorization", auth)
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", UserAgent)
	}
	userAgent := header.Get("User-Agent")
	head := []byte(" HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + userAgent + "\r\n")
	header.Del("User-Agent")
	names := make([]string, 0, len(header))
	for name := range header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, value := range header[name] {
			head = append(head, name+": "+value+"\r\n"...)
		}
	}
	r.head = head
	switch r.method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		r.sendLength = true
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		r.replayable = true
	}
	if header.Get("Idempotency-Key") != "" || header.Get("X-Idempotency-Key") != "" {
		r.replayable = true
	}
	r.headOnly = r.method == http.MethodHead
	if err := r.expect.set(pr.ExpectStatus); err != nil {
		return r, err
	}
	header.Set("User-Agent", userAgent)
	d.compileH2(&r, host, header)
	return r, nil
}

// validToken reports whether s is an HTTP token (a method or header name).
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// The protocols a connection speaks, by their ALPN names.
const (
	protoHTTP1 = "http/1.1"
	protoH2    = "h2"
)

// Connect opens one connection and proves the target answers on it: any
// response to a HEAD of the base path, even 404, means it is reachable.
// Over TLS the protocol is what ALPN chose (see workload.protocol); the
// first connection's choice is every connection's (see settle). Over
// HTTP/1.1, a server that speaks only HTTP/2 fails with ErrHTTP2Only,
// saying how it showed it (see http2Only). The connection is the Conn's
// own.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, max(d.timeout, 5*time.Second))
	defer cancel()
	deadline, _ := ctx.Deadline()
	c := &conn{d: d, detail: make([]byte, 0, detailLimit)}
	nc, proto, err := d.open(ctx, deadline)
	if err == nil {
		err = d.settle(proto)
	}
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		return nil, fmt.Errorf("HEAD %s: %w", d.probeAt, err)
	}
	if proto == protoH2 {
		return c.connectH2(nc)
	}
	err = c.adopt(nc)
	if err == nil {
		err = c.send(d.probe)
	}
	if err == nil {
		err = c.notHTTP2()
	}
	if err == nil {
		_, err = c.receive(true, nil)
	}
	if err != nil {
		c.Close()
		if endedBeforeReply(err) {
			if only := d.http2Only(ctx, deadline); only != nil {
				err = only
			}
		}
		return nil, fmt.Errorf("HEAD %s: %w", d.probeAt, err)
	}
	return c, nil
}

// connectH2 starts HTTP/2 on a new connection and sends the HEAD probe.
func (c *conn) connectH2(nc net.Conn) (workloads.Conn, error) {
	c.h2mode = true
	err := c.Start(nc)
	if err == nil {
		err = c.H.Call(c.d.probeH2, [2][]byte{}, c)
		if err == nil && c.H.Usable() {
			c.H.Release()
			return c, nil
		}
		if err == nil {
			err = errors.New("the server sent GOAWAY on the first request")
		}
		c.Drop()
	}
	c.Close()
	return nil, fmt.Errorf("HEAD %s over HTTP/2: %w", c.d.probeAt, err)
}

// open dials the target, with TLS for https://, and says which protocol
// the connection speaks: HTTP/2 when ALPN chose h2 or the plan says h2c,
// HTTP/1.1 otherwise. workload.protocol h2 fails a connection on which
// ALPN did not choose h2.
func (d *Driver) open(ctx context.Context, deadline time.Time) (net.Conn, string, error) {
	nc, err := sock.Dial(ctx, d.dialer, d.addr, deadline)
	if err != nil {
		return nil, "", err
	}
	if d.tls == nil {
		if d.protocol == slo.HTTP2Cleartext {
			return nc, protoH2, nil
		}
		return nc, protoHTTP1, nil
	}
	tc, err := sock.Handshake(ctx, nc, d.tls)
	if err != nil && d.protocol == slo.HTTP2 && strings.Contains(err.Error(), alertNoApplicationProtocol) {
		return nil, "", fmt.Errorf("the server does not speak HTTP/2 over TLS (offered h2 alone by ALPN, it refused), and workload.protocol h2 requires it: %w", err)
	}
	if err != nil {
		return nil, "", err
	}
	switch p := tc.ConnectionState().NegotiatedProtocol; {
	case p == protoH2:
		return tc, protoH2, nil
	case d.protocol == slo.HTTP2:
		tc.Close()
		if p == "" {
			p = "none"
		}
		return nil, "", fmt.Errorf("the server did not choose HTTP/2 by ALPN (offered h2, it chose %s), and workload.protocol h2 requires it", p)
	}
	return tc, protoHTTP1, nil
}

// alertNoApplicationProtocol is how crypto/tls words the alert of a server
// that speaks none of the protocols the client offered by ALPN (RFC 7301,
// 3.2); it exports no type for a remote alert.
const alertNoApplicationProtocol = "tls: no application protocol"

// settle fixes the protocol of the driver's connections to the first
// one's, so a run speaks one protocol: a server that chooses differently
// on another connection fails it.
func (d *Driver) settle(proto string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.speaks {
	case "":
		d.speaks = proto
		return nil
	case proto:
		return nil
	}
	return fmt.Errorf("the server chose %s by ALPN on this connection and %s on another; set workload.protocol to one of them", proto, d.speaks)
}

// ErrHTTP2Only is the connect error for a server that speaks HTTP/2 alone
// where the plan has the driver speak HTTP/1.1 (workload.protocol http1,
// or auto in the clear).
var ErrHTTP2Only = errors.New("the server speaks only HTTP/2, and the plan speaks HTTP/1.1 to it")

// h2Preface is the HTTP/2 client connection preface followed by an empty
// SETTINGS frame, as a client with prior knowledge of h2c opens with.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"

// h2FrameHead is the length of an HTTP/2 frame header.
const h2FrameHead = 9

// h2ConnectionFrame names the HTTP/2 frame whose header b starts with, if
// it is one a server sends first on a connection (SETTINGS, or GOAWAY to
// refuse a bad preface) and cannot be the start of an HTTP/1.x status line:
// a length below 64 KiB, stream 0.
func h2ConnectionFrame(b []byte) (name string, ok bool) {
	if len(b) < h2FrameHead || b[0] != 0 || b[5]&0x7f != 0 || b[6] != 0 || b[7] != 0 || b[8] != 0 {
		return "", false
	}
	switch b[3] {
	case 0x4:
		return "SETTINGS", true
	case 0x7:
		return "GOAWAY", true
	}
	return "", false
}

// notHTTP2 looks at the start of the first reply on a connection: HTTP/2
// frames where a status line belongs fail with ErrHTTP2Only. An end of the
// stream before any reply is returned as it is; a short or ordinary reply
// is left to receive.
func (c *conn) notHTTP2() error {
	b, err := c.r.Peek(h2FrameHead)
	if err != nil && c.r.Buffered() == 0 {
		return err
	}
	if name, ok := h2ConnectionFrame(b); ok {
		return fmt.Errorf("%w: it answered an HTTP/1.1 request with HTTP/2 frames (%s first); for HTTP/2 set workload.protocol (h2c in the clear)", ErrHTTP2Only, name)
	}
	return nil
}

// http2Only asks a server that ended the connection on the HTTP/1.1 probe,
// on a second connection, whether it speaks HTTP/2: over TLS by offering h2
// alone by ALPN, in the clear by sending the HTTP/2 connection preface and
// reading a SETTINGS frame back. It returns an ErrHTTP2Only saying which,
// or nil when the server does not show it speaks HTTP/2 either.
func (d *Driver) http2Only(ctx context.Context, deadline time.Time) error {
	nc, err := sock.Dial(ctx, d.dialer, d.addr, deadline)
	if err != nil {
		return nil
	}
	defer nc.Close()
	if d.tls != nil {
		cfg := d.tls.Clone()
		cfg.NextProtos = []string{"h2"}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
			return nil
		}
		return fmt.Errorf("%w: over TLS it ended the connection on an HTTP/1.1 request (ALPN http/1.1 chose no protocol), and it offers h2 by ALPN: set workload.protocol to auto or h2", ErrHTTP2Only)
	}
	if _, err := io.WriteString(nc, h2Preface); err != nil {
		return nil
	}
	head := make([]byte, h2FrameHead)
	if _, err := io.ReadFull(nc, head); err != nil {
		return nil
	}
	if name, ok := h2ConnectionFrame(head); !ok || name != "SETTINGS" {
		return nil
	}
	return fmt.Errorf("%w, without TLS (h2c): it ended the connection on an HTTP/1.1 request and answered the HTTP/2 connection preface with a SETTINGS frame: set workload.protocol to h2c", ErrHTTP2Only)
}

// endedBeforeReply reports whether err is the end of the stream, or a
// reset, before any byte of a reply.
func endedBeforeReply(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Describe names the target, password redacted.
func (d *Driver) Describe() string { return d.describe }

// Close releases nothing: every connection belongs to its Conn.
func (d *Driver) Close() error { return nil }

// conn is one connection to the target, used by one worker. The engine
// may Close it from another goroutine while a request hangs, and a
// canceled context interrupts from a third.
type conn struct {
	// Client holds the network connection against Close and interrupts
	// (Link), and HTTP/2 on it, or a stream of a shared HTTP/2
	// connection (see ConnectStreams).
	h2.Client
	d      *Driver
	r      *bufio.Reader
	req    []byte // the rendered request
	body   []byte // the rendered body of a templated request
	detail []byte // the start of an error response's body
	line   []byte // a header line longer than the read buffer
	// keepAlive is the idle timeout the server announced on the current
	// connection ("Keep-Alive: timeout=N"), 0 when it did not; lastUsed
	// is when its last request started, once keepAlive is known.
	keepAlive time.Duration
	lastUsed  time.Time

	// Over HTTP/2 (h2mode; H is nil when broken, the next Do dials
	// again): the rendered path and header block of a templated request;
	// the request in progress and whether the start of its response's
	// body is kept (see Data); when the last request began.
	h2mode   bool
	path     []byte
	block    []byte
	cur      *request
	keep     bool
	lastCall time.Time
}

var _ workloads.Conn = (*conn)(nil)

// Do sends one request and reads its whole response.
//
// Connection reuse and retry rules (as net/http's transport keeps them,
// in persistConn.readLoop, shouldRetryRequest and isReplayable):
//
//   - A kept-alive connection idle longer than sock.IdleCheckAfter is
//     checked before reuse (sock.Guard.Ready): one the server closed, reset
//     or sent something unasked on is closed, and the request goes out on a
//     new one, whatever its method: not one byte of it was written.
//   - A connection past the idle timeout the server announced
//     ("Keep-Alive: timeout=N") is not reused either (see keepAliveStale).
//   - A response with "Connection: close", from an HTTP/1.0 server without
//     keep-alive, or one whose body ends with the connection, is read whole
//     and the connection closed: the next request dials.
//   - A request that fails on a reused connection goes once more, on a new
//     connection and within the same timeout, when the server provably did
//     not process it (sock.Guard.Replayable): when not one byte of it was
//     written, any request; when it was written whole and the connection
//     ended or was reset before one byte of a response, a request safe to
//     repeat (replayable: GET, HEAD, OPTIONS, TRACE, or one with an
//     Idempotency-Key header).
//   - Anything else (a POST the server may have processed, a response cut
//     short, a timeout) stays an error, counted by its kind.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	r := &c.d.requests[op.Kind]
	if c.Group != nil {
		return c.doStream(ctx, r, op)
	}
	if c.h2mode {
		return c.doH2(ctx, r, op)
	}
	deadline := sock.Deadline(ctx, c.d.timeout)
	c.render(r, op.Key)
	if c.keepAlive > 0 {
		c.keepAliveStale()
	}
	for attempt := 0; ; attempt++ {
		if err := c.Link.Ready(ctx, deadline, c); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("http: %w (%v)", ctx.Err(), err)
			}
			return fmt.Errorf("%s %s: %w", r.method, c.location(r), err)
		}
		code, err := c.exchange(c.req, r.headOnly, &r.expect)
		if err == nil {
			if r.expect.ok(code) {
				return nil
			}
			return &workloads.StatusError{Kind: statusKind(code), Detail: detail(c.detail)}
		}
		replay := attempt == 0 && c.Link.Replayable(ctx, err, r.replayable)
		c.Link.Drop()
		if replay {
			continue
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("http: %w (%v)", ctxErr, err)
		}
		return fmt.Errorf("%s %s: %w", r.method, c.location(r), err)
	}
}

// keepAliveStale closes the held connection when it sat unused for more
// than nine tenths of the idle timeout its server announced with
// "Keep-Alive: timeout=N": the server is about to close it, and a request
// sent as it does would fail. The tenth is the margin for the server's
// timer and the request's way there. Idle time runs from the start of the
// previous request, so the check costs one clock read per request, and only
// on connections whose server announces a timeout.
func (c *conn) keepAliveStale() {
	now := time.Now()
	if !c.lastUsed.IsZero() && now.Sub(c.lastUsed) > c.keepAlive-c.keepAlive/10 {
		c.Link.Drop()
	}
	c.lastUsed = now
}

// render writes the request into c.req: request line, head, length, body.
func (c *conn) render(r *request, key []byte) {
	b := append(c.req[:0], r.method...)
	b = append(b, ' ')
	if r.target != "" {
		b = append(b, r.target...)
	} else {
		b = r.path.appendTo(b, key, appendEscaped)
		if !r.query.empty() {
			b = append(b, '?')
			b = r.query.appendTo(b, key, appendEscaped)
		}
	}
	b = append(b, r.head...)
	body := r.staticBody
	if r.body.hasKey() {
		c.body = r.body.appendTo(c.body[:0], key, nil)
		body = c.body
	}
	if len(body) > 0 || r.sendLength {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.req = append(b, body...)
}

// location spells out a request's URL for messages.
func (c *conn) location(r *request) string {
	target := c.req[len(r.method)+1:]
	if i := bytes.IndexByte(target, ' '); i >= 0 {
		target = target[:i]
	}
	return c.d.scheme + "://" + c.d.host + string(target)
}

// Redial opens the connection again, for sock.Guard.Ready.
func (c *conn) Redial(ctx context.Context, deadline time.Time) error {
	return c.dial(ctx, deadline)
}

// dial opens the connection, TLS included, reusing the read buffer of a
// previous one.
func (c *conn) dial(ctx context.Context, deadline time.Time) error {
	nc, proto, err := c.d.open(ctx, deadline)
	if err != nil {
		return err
	}
	if proto != protoHTTP1 {
		nc.Close()
		return fmt.Errorf("the server chose %s by ALPN on a new connection, after HTTP/1.1 on the first", proto)
	}
	return c.adopt(nc)
}

// adopt makes nc the connection HTTP/1.1 requests go on.
func (c *conn) adopt(nc net.Conn) error {
	r, err := c.Link.Adopt(nc, readBufferSize)
	if err != nil {
		return err
	}
	c.r = r
	c.keepAlive, c.lastUsed = 0, time.Time{}
	return nil
}

// exchange sends a rendered request and reads its response to the end
// (see receive).
func (c *conn) exchange(req []byte, headOnly bool, expect *statusSet) (code int, err error) {
	if err := c.send(req); err != nil {
		return 0, err
	}
	return c.receive(headOnly, expect)
}

// send sends a rendered request. On a raw connection it is written by the
// first read, which then waits for the reply.
func (c *conn) send(req []byte) error {
	nc, _ := c.Link.Current()
	if nc == nil {
		return net.ErrClosed
	}
	return c.Link.Send(req)
}

// receive reads a response to the end. The start of the body is kept in
// c.detail when expect does not list the status. It closes the connection
// when the response says so.
func (c *conn) receive(headOnly bool, expect *statusSet) (code int, err error) {
	var h responseHead
	for {
		if h, err = c.readHead(); err != nil {
			return 0, err
		}
		// Interim responses (100 Continue, 103 Early Hints) precede
		// the real one.
		if h.code < 100 || h.code >= 200 || h.code == http.StatusSwitchingProtocols {
			break
		}
	}
	if h.keepAlive > 0 {
		if c.keepAlive == 0 {
			c.lastUsed = time.Now() // the idle time starts with this response
		}
		c.keepAlive = h.keepAlive
	}
	var keep []byte
	if expect != nil && !expect.ok(h.code) {
		keep = c.detail[:0]
	}
	switch {
	case headOnly || h.code == http.StatusNoContent || h.code == http.StatusNotModified || h.code/100 == 1:
	case h.chunked:
		keep, err = c.chunked(keep)
	case h.length >= 0:
		keep, err = c.skip(h.length, keep)
	default:
		keep, err = c.skip(-1, keep)
		h.close = true
	}
	if keep != nil {
		c.detail = keep
	}
	if err != nil {
		return h.code, fmt.Errorf("reading the response body: %w", err)
	}
	if h.close || h.code == http.StatusSwitchingProtocols {
		c.Link.Drop()
	}
	return h.code, nil
}

// responseHead is what the driver reads from a status line and headers.
type responseHead struct {
	code    int
	length  int64 // -1 when not given
	chunked bool
	close   bool // the connection ends with this response
	// keepAlive is the idle timeout of "Keep-Alive: timeout=N", or 0.
	keepAlive time.Duration
}

// maxKeepAlive bounds the idle timeout a server may announce.
const maxKeepAlive = time.Hour

// keepAliveTimeout reads the timeout parameter of a Keep-Alive header
// ("timeout=5, max=100"): whole seconds, from 1 to an hour; 0 when it is
// absent or not that.
func keepAliveTimeout(value []byte) time.Duration {
	for len(value) > 0 {
		var param []byte
		param, value, _ = bytes.Cut(value, []byte(","))
		param = bytes.TrimSpace(param)
		if len(param) > len("timeout=") && asciiEqualFold(param[:len("timeout=")], "timeout=") {
			n, ok := parseLength(param[len("timeout="):])
			if !ok || n < 1 || n > int64(maxKeepAlive/time.Second) {
				return 0
			}
			return time.Duration(n) * time.Second
		}
	}
	return 0
}

// readHead reads a status line and the headers after it.
func (c *conn) readHead() (h responseHead, err error) {
	total := 0
	line, err := c.readLine(&total)
	if err != nil {
		return h, err
	}
	var minor int
	h.code, minor, err = parseStatusLine(line)
	if err != nil {
		return h, err
	}
	h.length = -1
	h.close = minor == 0
	for {
		line, err := c.readLine(&total)
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return h, fmt.Errorf("malformed response header %q", clipBytes(line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, ok := parseLength(value)
			if !ok || (h.length >= 0 && h.length != n) {
				return h, fmt.Errorf("bad Content-Length %q", clipBytes(value))
			}
			h.length = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			last := value
			if i := bytes.LastIndexByte(value, ','); i >= 0 {
				last = bytes.TrimSpace(value[i+1:])
			}
			switch {
			case asciiEqualFold(last, "chunked"):
				h.chunked = true
			case !asciiEqualFold(last, "identity"):
				return h, fmt.Errorf("unsupported Transfer-Encoding %q", clipBytes(value))
			}
		case asciiEqualFold(name, "Keep-Alive"):
			h.keepAlive = keepAliveTimeout(value)
		case asciiEqualFold(name, "Connection"):
			for _, token := range bytes.Split(value, []byte(",")) {
				token = bytes.TrimSpace(token)
				switch {
				case asciiEqualFold(token, "close"):
					h.close = true
				case asciiEqualFold(token, "keep-alive") && minor == 0:
					h.close = false
				}
			}
		}
	}
}

// parseStatusLine reads "HTTP/1.x NNN reason", NNN from 100 to 999.
func parseStatusLine(line []byte) (code, minor int, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(line[7] != '0' && line[7] != '1') || (len(line) > 12 && line[12] != ' ') {
		return 0, 0, fmt.Errorf("malformed HTTP status line %q", clipBytes(line))
	}
	for _, b := range line[9:12] {
		if b < '0' || b > '9' {
			return 0, 0, fmt.Errorf("malformed HTTP status line %q", clipBytes(line))
		}
		code = code*10 + int(b-'0')
	}
	if code < 100 {
		return 0, 0, fmt.Errorf("malformed HTTP status line %q: status %03d", clipBytes(line), code)
	}
	return code, int(line[7] - '0'), nil
}

// readLine returns the next line without its line end; *total counts the
// bytes read, against maxHeaderBytes. A line longer than the read buffer
// is kept in c.line. The slice is only valid until the next read.
func (c *conn) readLine(total *int) ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	*total += len(line)
	if errors.Is(err, bufio.ErrBufferFull) {
		c.line = append(c.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if *total > maxHeaderBytes {
				return nil, fmt.Errorf("response headers longer than %d bytes", maxHeaderBytes)
			}
			line, err = c.r.ReadSlice('\n')
			*total += len(line)
			c.line = append(c.line, line...)
		}
		line = c.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) && *total > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if *total > maxHeaderBytes {
		return nil, fmt.Errorf("response headers longer than %d bytes", maxHeaderBytes)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// skip reads n bytes of body, or up to the end of the stream when n < 0,
// copying the first of them into keep (when not nil) up to detailLimit.
func (c *conn) skip(n int64, keep []byte) ([]byte, error) {
	for n != 0 {
		if c.r.Buffered() == 0 {
			if _, err := c.r.Peek(1); err != nil {
				if n < 0 && errors.Is(err, io.EOF) {
					return keep, nil
				}
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return keep, err
			}
		}
		take := c.r.Buffered()
		if n > 0 && int64(take) > n {
			take = int(n)
		}
		if keep != nil && len(keep) < detailLimit {
			buf, _ := c.r.Peek(take)
			keep = append(keep, buf[:min(len(buf), detailLimit-len(keep))]...)
		}
		c.r.Discard(take)
		if n > 0 {
			n -= int64(take)
		}
	}
	return keep, nil
}

// chunked reads a chunked body and its trailers.
func (c *conn) chunked(keep []byte) ([]byte, error) {
	for {
		total := 0
		line, err := c.readLine(&total)
		if err != nil {
			return keep, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseChunkSize(bytes.TrimRight(line, " \t"))
		if !ok {
			return keep, fmt.Errorf("malformed chunk size %q", clipBytes(line))
		}
		if size == 0 {
			for { // trailers
				line, err := c.readLine(&total)
				if err != nil {
					return keep, err
				}
				if len(line) == 0 {
					return keep, nil
				}
			}
		}
		if keep, err = c.skip(size, keep); err != nil {
			return keep, err
		}
		if line, err = c.readLine(&total); err != nil {
			return keep, err
		}
		if len(line) != 0 {
			return keep, errors.New("malformed chunked body: no line end after a chunk")
		}
	}
}

// parseLength reads a Content-Length: decimal digits only (no sign, no
// space), at most 18 of them, so it fits an int64.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseChunkSize reads a chunk size: hex digits only, at most 15 of them,
// so it fits an int64.
func parseChunkSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// clipBytes shortens protocol text quoted in an error.
func clipBytes(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// detail makes a printable one-line excerpt of a response body.
func detail(b []byte) string {
	b = bytes.TrimSpace(b)
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
			out = append(out, ' ')
		case c < ' ' || c == 0x7f:
			out = append(out, '?')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// statusKinds holds "http 100" to "http 599", so counting an error
// response allocates no kind.
var statusKinds = func() []string {
	kinds := make([]string, 600)
	for code := 100; code < len(kinds); code++ {
		kinds[code] = "http " + strconv.Itoa(code)
	}
	return kinds
}()

func statusKind(code int) string {
	if 100 <= code && code < len(statusKinds) {
		return statusKinds[code]
	}
	return "http " + strconv.Itoa(code)
}

// statusSet is the statuses a request counts as success.
type statusSet struct {
	listed bool
	bits   [10]uint64 // statuses 0 to 639
}

func (s *statusSet) set(codes []int) error {
	for _, code := range codes {
		if code < 100 || code > 599 {
			return fmt.Errorf("expect_status %d is not an HTTP status (100 to 599)", code)
		}
		s.bits[code/64] |= 1 << (code % 64)
		s.listed = true
	}
	return nil
}

func (s *statusSet) ok(code int) bool {
	if !s.listed {
		return 200 <= code && code <= 299
	}
	return 0 <= code && code < 640 && s.bits[code/64]&(1<<(code%64)) != 0
}

// template is text split at every {{key}}: the key goes between pieces.
type template struct{ pieces []string }

func compileTemplate(s string) template {
	return template{pieces: strings.Split(s, KeyPlaceholder)}
}

func (t *template) hasKey() bool { return len(t.pieces) > 1 }
func (t *template) empty() bool  { return len(t.pieces) == 1 && t.pieces[0] == "" }
func (t *template) static() string {
	return t.pieces[0]
}

// appendTo appends the template expanded with key, through escape if given.
func (t *template) appendTo(dst, key []byte, escape func(dst, key []byte) []byte) []byte {
	for i, piece := range t.pieces {
		if i > 0 {
			if escape != nil {
				dst = escape(dst, key)
			} else {
				dst = append(dst, key...)
			}
		}
		dst = append(dst, piece...)
	}
	return dst
}

// escapeNonASCII percent-encodes the bytes of a plan's path that may not
// appear on a request line; what the plan escaped itself stays as it is.
func escapeNonASCII(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			if out == nil {
				out = append(make([]byte, 0, len(s)+8), s[:i]...)
			}
			out = append(out, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		} else if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return s
	}
	return string(out)
}

// appendEscaped percent-encodes a key for a path segment or query value:
// RFC 3986 unreserved characters and ":" and "@" are kept.
func appendEscaped(dst, key []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range key {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == ':', c == '@':
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}
