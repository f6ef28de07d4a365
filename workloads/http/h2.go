package http

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/h2"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// HTTP/2 is spoken through tailgate's HTTP/2 client (workloads/internal/h2),
// the one the gRPC driver uses: each Conn is one HTTP/2 connection carrying
// one request at a time on the worker's goroutine, or, with
// workload.streams above 1, one stream of a connection the Conns of one
// ConnectStreams share (an h2.Mux), with the same connection rules as
// gRPC's calls (see h2.Retryable and idle.go there):
// a connection the server closed, drained (GOAWAY) or pinged while it
// idled is dealt with before the next request; a request the server
// provably did not process (above a GOAWAY's last-stream-id, refused with
// REFUSED_STREAM, or not one byte of it written) goes out once more, on a
// fresh connection and within the same timeout, whatever its method; a
// request that times out resets its stream and keeps the connection.
//
// A request's HTTP/2 header block is rendered at open time when its path
// holds no key: :method, :scheme, :path and :authority (the Host header
// the plan gives, or the target's host), then User-Agent and the plan's
// headers sorted, names lower-cased, and content-length when the body is
// not empty (or the method usually carries one). The headers HTTP/2
// forbids (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding,
// Upgrade, and TE other than "trailers") are left out: they mean nothing
// there, and a server must refuse a request that has them.

// connectionHeaders are the header names HTTP/2 forbids in a request
// (RFC 9113, 8.2.2).
var connectionHeaders = []string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}

// h2Request is a request's HTTP/2 rendering.
type h2Request struct {
	// start holds :method and :scheme; rest :authority and the headers.
	start, rest []byte
	// block is the whole header block when the path and query hold no
	// key and the body none either.
	block []byte
}

// compileH2 renders a request's HTTP/2 header block, as far as it does
// not depend on the operation's key.
func (d *Driver) compileH2(r *request, host string, header http.Header) {
	r.h2.start = h2.AppendStart(nil, r.method, d.scheme)
	rest := h2.AppendLiteral(nil, ":authority", host)
	rest = h2.AppendLiteral(rest, "user-agent", header.Get("User-Agent"))
	names := make([]string, 0, len(header))
	for name := range header {
		lower := strings.ToLower(name)
		if lower == "user-agent" || lower == "content-length" || slices.Contains(connectionHeaders, lower) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lower := strings.ToLower(name)
		for _, value := range header[name] {
			if lower == "te" && !strings.EqualFold(value, "trailers") {
				continue
			}
			rest = h2.AppendLiteral(rest, lower, value)
		}
	}
	r.h2.rest = rest
	if r.target != "" && !r.body.hasKey() {
		r.h2.block = r.appendH2Block(nil, r.target, r.staticBody)
	}
}

// appendH2Block appends the request's header block for path and body.
func (r *request) appendH2Block(b []byte, path string, body []byte) []byte {
	b = append(b, r.h2.start...)
	b = h2.AppendLiteral(b, ":path", path)
	b = append(b, r.h2.rest...)
	if len(body) > 0 || r.sendLength {
		var n [20]byte
		b = h2.AppendLiteral(b, "content-length", strconv.AppendInt(n[:0], int64(len(body)), 10))
	}
	return b
}

// renderH2 renders an operation's header block into c.block (unless the
// request's is static) and its body into c.body, and returns both.
func (c *conn) renderH2(r *request, key []byte) (block, body []byte) {
	body = r.staticBody
	if r.body.hasKey() {
		c.body = r.body.appendTo(c.body[:0], key, nil)
		body = c.body
	}
	if r.h2.block != nil {
		return r.h2.block, body
	}
	c.path = c.path[:0]
	if r.target != "" {
		c.path = append(c.path, r.target...)
	} else {
		c.path = r.path.appendTo(c.path, key, appendEscaped)
		if !r.query.empty() {
			c.path = append(c.path, '?')
			c.path = r.query.appendTo(c.path, key, appendEscaped)
		}
	}
	c.block = append(c.block[:0], r.h2.start...)
	c.block = h2.AppendLiteral(c.block, ":path", c.path)
	c.block = append(c.block, r.h2.rest...)
	if len(body) > 0 || r.sendLength {
		var n [20]byte
		c.block = h2.AppendLiteral(c.block, "content-length", strconv.AppendInt(n[:0], int64(len(body)), 10))
	}
	return c.block, body
}

// doH2 sends one request over HTTP/2 and reads its whole response.
func (c *conn) doH2(ctx context.Context, r *request, op *workloads.Op) error {
	now := time.Now()
	deadline := sock.Deadline(ctx, c.d.timeout)
	gap := now.Sub(c.lastCall)
	c.lastCall = now
	c.Link.Watch(ctx)
	block, body := c.renderH2(r, op.Key)
	for attempt := 0; ; attempt++ {
		// A connection the server closed or drained while it idled is not
		// reused: the request goes out on a fresh one (as after a failed
		// attempt, whose connection is dropped).
		nc, err := c.Ready(now)
		switch {
		case err != nil:
			return err
		case nc == nil:
			if err := c.dialH2(ctx, deadline); err != nil {
				return c.failure(ctx, r, err)
			}
		default:
			if err := nc.SetDeadline(deadline); err != nil {
				c.Drop()
				return c.failure(ctx, r, err)
			}
		}
		if err := ctx.Err(); err != nil {
			c.H.Release()
			return fmt.Errorf("http: %w", err) // checked after the deadline is set, so a later interrupt is not undone
		}
		c.H.SetLazyPings(gap < h2.IdleAfter)
		c.cur, c.keep = r, false
		c.detail = c.detail[:0]
		err = c.H.Call(block, [2][]byte{body}, c)
		if err == nil && c.H.Usable() {
			c.H.Release()
			if r.expect.ok(c.H.Status()) {
				return nil
			}
			return &workloads.StatusError{Kind: statusKind(c.H.Status()), Detail: detail(c.detail)}
		}
		if err == nil {
			// The answer came, and the server is ending the connection.
			code := c.H.Status()
			c.Drop()
			if r.expect.ok(code) {
				return nil
			}
			return &workloads.StatusError{Kind: statusKind(code), Detail: detail(c.detail)}
		}
		if h2.Retryable(err) && attempt == 0 && ctx.Err() == nil {
			// The server did not process the request: once more, on a
			// fresh connection, within the same deadline.
			c.Drop()
			continue
		}
		// A connection that failed, or that the server is ending, is
		// closed; one whose request timed out is kept, its stream reset.
		if te, ok := err.(*h2.TransportError); ok && !te.Timeout || !c.H.Usable() {
			c.Drop()
		} else {
			c.H.Release()
		}
		return c.failure(ctx, r, err)
	}
}

// ConnectStreams opens one HTTP/2 connection for n workers' requests at
// once (see h2.Mux) and sends the HEAD probe on it, as Connect does. The
// server must choose h2 by ALPN (or the plan say h2c): HTTP/1.1 carries
// one request at a time.
func (d *Driver) ConnectStreams(ctx context.Context, n int) ([]workloads.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, max(d.timeout, 5*time.Second))
	defer cancel()
	deadline, _ := ctx.Deadline()
	g := h2.NewGroup(n, d.timeout, 0, 0, func(ctx context.Context, deadline time.Time) (net.Conn, error) {
		nc, proto, err := d.open(ctx, deadline)
		if err == nil {
			err = d.settle(proto)
		}
		if err == nil && proto != protoH2 {
			err = fmt.Errorf("workload.streams %d needs HTTP/2, and the server chose HTTP/1.1 by ALPN: set workload.protocol to h2 (h2c in the clear), or raise workload.connections instead", n)
		}
		if err != nil && nc != nil {
			nc.Close()
		}
		return nc, err
	})
	conns := make([]workloads.Conn, n)
	for i := range conns {
		conns[i] = &conn{d: d, detail: make([]byte, 0, detailLimit), Client: h2.Client{Group: g, Stream: h2.NewStream()}}
	}
	fail := func(err error) ([]workloads.Conn, error) {
		for _, c := range conns {
			c.Close()
		}
		return nil, fmt.Errorf("HEAD %s over HTTP/2: %w", d.probeAt, err)
	}
	m, err := g.Mux(ctx, deadline)
	if err != nil {
		return fail(err)
	}
	c := conns[0].(*conn)
	if err := m.Call(ctx, c.Stream, deadline, d.probeH2, [2][]byte{}, c); err != nil {
		return fail(err)
	}
	return conns, nil
}

// doStream sends one request on a stream of the group's connection and
// reads its whole response. A request the server provably did not process
// goes out once more, within the same deadline, on a fresh connection, as
// in doH2.
func (c *conn) doStream(ctx context.Context, r *request, op *workloads.Op) error {
	deadline := sock.Deadline(ctx, c.d.timeout)
	block, body := c.renderH2(r, op.Key)
	for attempt := 0; ; attempt++ {
		m, err := c.Group.Mux(ctx, deadline)
		if err != nil {
			return c.failure(ctx, r, err)
		}
		c.cur, c.keep = r, false
		c.detail = c.detail[:0]
		err = m.Call(ctx, c.Stream, deadline, block, [2][]byte{body}, c)
		if sent := c.Stream.Sent(); !sent.IsZero() {
			op.Sent = sent
		}
		switch {
		case err == nil:
			if r.expect.ok(c.Stream.Status()) {
				return nil
			}
			return &workloads.StatusError{Kind: statusKind(c.Stream.Status()), Detail: detail(c.detail)}
		case attempt == 0 && h2.Retryable(err) && ctx.Err() == nil && !c.Stream.Closed():
			// The requests in flight on m finish there; this one goes
			// on a fresh connection.
			c.Group.Retire(m)
			continue
		}
		return c.failure(ctx, r, err)
	}
}

// failure turns an HTTP/2 request's failure into the error the engine
// counts.
func (c *conn) failure(ctx context.Context, r *request, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("http: %w (%v)", ctxErr, err)
	}
	var te *h2.TransportError
	if errors.As(err, &te) && te.Timeout {
		return fmt.Errorf("%s %s: no answer within the %s timeout: %w", r.method, c.h2Location(r), c.d.timeout, context.DeadlineExceeded)
	}
	var se *h2.StreamError
	if errors.As(err, &se) {
		return &workloads.StatusError{Kind: resetKind(se), Detail: se.Error()}
	}
	return fmt.Errorf("%s %s: %w", r.method, c.h2Location(r), err)
}

// h2Location spells out a request's URL for messages.
func (c *conn) h2Location(r *request) string {
	path := r.target
	if path == "" {
		path = string(c.path)
	}
	return c.d.scheme + "://" + c.d.host + path
}

// resetKinds names the RST_STREAM error codes of RFC 9113, 7, so counting
// a reset allocates no kind.
var resetKinds = []string{
	"http2 NO_ERROR", "http2 PROTOCOL_ERROR", "http2 INTERNAL_ERROR", "http2 FLOW_CONTROL_ERROR",
	"http2 SETTINGS_TIMEOUT", "http2 STREAM_CLOSED", "http2 FRAME_SIZE_ERROR", "http2 REFUSED_STREAM",
	"http2 CANCEL", "http2 COMPRESSION_ERROR", "http2 CONNECT_ERROR", "http2 ENHANCE_YOUR_CALM",
	"http2 INADEQUATE_SECURITY", "http2 HTTP_1_1_REQUIRED",
}

// resetKind is how a stream the server reset or drained is counted.
func resetKind(se *h2.StreamError) string {
	switch {
	case se.GoAway:
		return "http2 GOAWAY"
	case int(se.Code) < len(resetKinds):
		return resetKinds[se.Code]
	}
	return "http2 error " + strconv.FormatUint(uint64(se.Code), 10)
}

// dialH2 opens a connection for HTTP/2 (TLS with ALPN h2, or h2c) and
// starts HTTP/2 on it, within deadline.
func (c *conn) dialH2(ctx context.Context, deadline time.Time) error {
	nc, proto, err := c.d.open(ctx, deadline)
	if err != nil {
		return err
	}
	if proto != protoH2 {
		nc.Close()
		return fmt.Errorf("the server did not negotiate HTTP/2 again (ALPN h2, got %q)", proto)
	}
	return c.Start(nc)
}

// status is the :status of the response in progress, or of the last.
func (c *conn) status() int {
	if c.Stream != nil {
		return c.Stream.Status()
	}
	return c.H.Status()
}

// Field takes nothing of a response's headers but its :status, which the
// HTTP/2 client keeps.
func (c *conn) Field(hpack.HeaderField) {}

// Data keeps the start of the body of a response whose status the
// request does not expect, for its error.
func (c *conn) Data(p []byte) {
	if !c.keep {
		if c.cur == nil || c.cur.expect.ok(c.status()) {
			return
		}
		c.keep = true
	}
	if room := detailLimit - len(c.detail); room > 0 {
		c.detail = append(c.detail, p[:min(len(p), room)]...)
	}
}
