// Package http is tailgate's HTTP driver: the plan's named requests over
// HTTP/1.1 keep-alive connections, through one net/http Transport per
// component tuned for load: at most the plan's connections, all kept alive,
// no proxy from the environment.
//
// Targets: http://[user:password@]host[:port][/base] and https://. A base path
// is put in front of every request's path; a user and password become a
// Basic Authorization header unless a request sets its own.
//
// A request's path (query included) and body may hold {{key}}, replaced by
// the operation's key: escaped in the path and query (letters, digits and
// -._~:@ are kept, everything else is %XX), as is in the body. The rest of
// the path is sent as written, except that bytes outside printable ASCII are
// %XX-encoded. Templates are split at open time, so an operation does no
// parsing.
//
// Counting: a response whose status is listed in the request's
// expect_status is a success, and only those; without expect_status every
// 2xx is. Any other status is a *workloads.StatusError of Kind "http 503"
// etc. Redirects are not followed: a 3xx is a status like any other. Every
// response body is read to its end (the latency includes it) and closed, so
// connections are reused. The workload's timeout bounds each request, body
// included. Headers are sent as given; the Go client's transparent gzip is
// off, so what is sent is what the plan says.
package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
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

// Driver loads one HTTP target through one transport (connection pool)
// shared by its Conns.
type Driver struct {
	transport *http.Transport
	scheme    string
	host      string
	requests  []request
	timeout   time.Duration
	probe     *url.URL
	describe  string
}

var _ workloads.Driver = (*Driver)(nil)

// request is one plan request, compiled for sending.
type request struct {
	method string
	// url is shared by every operation when the path holds no key.
	url   *url.URL
	path  template
	query template
	body  template
	// staticBody is the body when it holds no key.
	staticBody []byte
	// header is shared, read-only, by every operation of the request.
	header http.Header
	host   string
	expect statusSet
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
	conns := max(w.Connections, 1)
	transport := &http.Transport{
		Proxy: nil, // the target is what the plan names, never a proxy from the environment
		DialContext: (&net.Dialer{
			Timeout:   max(w.Timeout, 5*time.Second),
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: max(w.Timeout, 5*time.Second),
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	transport.Protocols = new(http.Protocols)
	transport.Protocols.SetHTTP1(true)
	describe := workloads.Redact(target.Redacted(), spec.Secrets)
	if target.Scheme == "https" {
		cfg, err := workloads.TLSConfig(w.TLS)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", name, err)
		}
		transport.TLSClientConfig = cfg
		if cfg.InsecureSkipVerify {
			describe += " (certificate checks off)"
		}
	}
	d := &Driver{
		transport: transport,
		scheme:    target.Scheme,
		host:      target.Host,
		timeout:   w.Timeout,
		describe:  describe,
	}
	if d.timeout <= 0 {
		d.timeout = defaultTimeout
	}
	base := strings.TrimSuffix(target.EscapedPath(), "/")
	d.probe = &url.URL{Scheme: d.scheme, Host: d.host, Opaque: base + "/"}
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

// compile prepares one plan request: templates split, headers built, the
// URL shared when it holds no key.
func (d *Driver) compile(pr *slo.Request, base, auth string) (request, error) {
	r := request{method: strings.ToUpper(pr.Method), header: http.Header{}}
	if r.method == "" {
		r.method = http.MethodGet
	}
	if !validMethod(r.method) {
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
		r.url = &url.URL{Scheme: d.scheme, Host: d.host, Opaque: r.path.static(), RawQuery: r.query.static()}
	}
	for name, value := range pr.Headers {
		if strings.EqualFold(name, "Host") {
			r.host = value
			continue
		}
		r.header.Set(name, value)
	}
	if auth != "" && r.header.Get("Authorization") == "" {
		r.header.Set("Authorization", auth)
	}
	if r.header.Get("User-Agent") == "" {
		r.header.Set("User-Agent", UserAgent)
	}
	if err := r.expect.set(pr.ExpectStatus); err != nil {
		return r, err
	}
	return r, nil
}

// validMethod reports whether m is an HTTP token.
func validMethod(m string) bool {
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return m != ""
}

// Connect proves the target answers HTTP: any response to a HEAD of the
// base path, even 404, means it is reachable. The connection it opened
// stays in the shared pool.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, max(d.timeout, 5*time.Second))
	defer cancel()
	req := (&http.Request{
		Method: http.MethodHead, URL: d.probe, Host: d.host,
		Header: http.Header{"User-Agent": {UserAgent}},
	}).WithContext(ctx)
	resp, err := d.transport.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("HEAD %s: %w", location(d.probe), err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &conn{d: d}, nil
}

// Describe names the target, password redacted.
func (d *Driver) Describe() string { return d.describe }

// Close closes the pool's idle connections.
func (d *Driver) Close() error {
	d.transport.CloseIdleConnections()
	return nil
}

// conn is one worker's handle on the shared client, with the buffers its
// operations render into.
type conn struct {
	d    *Driver
	path []byte
	body *body
}

var _ workloads.Conn = (*conn)(nil)

// Do sends one request and reads its whole response.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	r := &c.d.requests[op.Kind]
	u := r.url
	if u == nil {
		u = &url.URL{Scheme: c.d.scheme, Host: c.d.host, Opaque: c.render(&r.path, op.Key), RawQuery: c.render(&r.query, op.Key)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.d.timeout)
	defer cancel()
	req := &http.Request{Method: r.method, URL: u, Header: r.header, Host: r.host}
	if !r.body.empty() {
		b := c.nextBody()
		if r.body.hasKey() {
			b.buf = r.body.appendTo(b.buf[:0], op.Key, nil)
			b.data = b.buf
		} else {
			b.data = r.staticBody
		}
		req.Body = b
		req.ContentLength = int64(len(b.data))
	}
	// The transport, not an http.Client: a client would copy the headers
	// of every request in case of a redirect, which is never followed.
	resp, err := c.d.transport.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.method, location(u), err)
	}
	if r.expect.ok(resp.StatusCode) {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading the response body: %w", err)
		}
		return nil
	}
	return statusError(resp)
}

// location spells out a request URL for messages (url.URL.String does not,
// with Opaque set).
func location(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.RequestURI()
}

// render expands a path or query template with the key escaped. The result
// is the one allocation a templated URL costs.
func (c *conn) render(t *template, key []byte) string {
	if !t.hasKey() {
		return t.static()
	}
	c.path = t.appendTo(c.path[:0], key, appendEscaped)
	return string(c.path)
}

// nextBody returns the Conn's request body for reuse when the transport has
// closed it, which may happen after the response: an unclosed one may still
// be read, so a new one takes its place.
func (c *conn) nextBody() *body {
	if c.body == nil || !c.body.closed.Load() {
		c.body = &body{}
	}
	c.body.closed.Store(false)
	c.body.off = 0
	return c.body
}

// Close releases nothing: connections belong to the driver's pool.
func (c *conn) Close() error { return nil }

// body is a request body a Conn reuses once the transport has closed it.
type body struct {
	buf    []byte // the rendered body of a templated request
	data   []byte // what is sent: buf, or a request's static body
	off    int
	closed atomic.Bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

func (b *body) Close() error {
	b.closed.Store(true)
	return nil
}

// statusError reads the start of an unexpected response's body as the
// error's detail, drains the rest and closes it.
func statusError(resp *http.Response) error {
	head := make([]byte, detailLimit)
	n, _ := io.ReadFull(resp.Body, head)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &workloads.StatusError{Kind: statusKind(resp.StatusCode), Detail: detail(head[:n])}
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
