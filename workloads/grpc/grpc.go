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
// method (the message lists what is offered), a streaming method, a body
// that is not JSON or does not match the request message.
//
// The body is the request message in protobuf's JSON mapping; {{key}} in it
// is replaced by the operation's key as JSON string text. See body for how
// the wire bytes are built per operation. Calls go out through a codec that
// passes those bytes through and does not decode responses. Headers are sent
// as metadata, names lower-cased; the reflection calls at open time carry the
// first request's headers, for servers that want credentials on every call.
//
// Counting: status OK is a success; any other code is a
// *workloads.StatusError of Kind "grpc Unavailable" etc., except that a call
// outliving the workload's timeout is a timeout.
//
// Each Conn is one grpc.ClientConn (one HTTP/2 connection), so the plan's
// connections are real connections. A Conn that loses its server reconnects
// on its own, backing off up to one second between attempts; calls fail
// fast meanwhile.
package grpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tailgate-dev/tailgate/workloads"
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
	creds    credentials.TransportCredentials
	timeout  time.Duration
	requests []request
	describe string
}

var _ workloads.Driver = (*Driver)(nil)

// request is one plan request, resolved and compiled.
type request struct {
	method string // "/package.Service/Method"
	body   *body
	md     metadata.MD
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
		d.creds = credentials.NewTLS(cfg)
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
		cc, cerr := d.newClient(false)
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
		if md.IsStreamingClient() || md.IsStreamingServer() {
			return nil, fmt.Errorf("%s: is a streaming method; tailgate sends unary calls", what)
		}
		b, err := compileBody(md.Input(), r.Body, w.Keys.Prefix, w.Keys.Count, types)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		d.requests = append(d.requests, request{method: "/" + services[i] + "/" + methods[i], body: b, md: headers[i]})
	}
	return d, nil
}

// newClient makes a ClientConn to the target; raw ones send prebuilt bytes.
// It does not connect yet.
func (d *Driver) newClient(raw bool) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(d.creds),
		grpc.WithUserAgent(UserAgent),
		grpc.WithDisableServiceConfig(),
		grpc.WithConnectParams(grpc.ConnectParams{
			// A server that comes back gets load again within a second.
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: max(d.timeout, time.Second),
		}),
	}
	if raw {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	}
	return grpc.NewClient(d.addr, opts...)
}

// Connect opens one ClientConn and proves a gRPC server answers on it: a
// grpc.health.v1 Check, where any answer, even Unimplemented, will do; only
// a failure to connect (Unavailable) or no answer in time fails.
func (d *Driver) Connect(ctx context.Context) (workloads.Conn, error) {
	cc, err := d.newClient(true)
	if err != nil {
		return nil, err
	}
	probeCtx, cancel := context.WithTimeout(ctx, max(d.timeout, 5*time.Second))
	err = cc.Invoke(probeCtx, healthCheck, &message{}, discard)
	cancel()
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		cc.Close()
		return nil, err
	}
	return &conn{d: d, cc: cc, own: &message{data: make(mem.BufferSlice, 1)}}, nil
}

// Describe names the target.
func (d *Driver) Describe() string { return d.describe }

// Close releases nothing: every ClientConn belongs to its Conn.
func (d *Driver) Close() error { return nil }

// conn is one ClientConn, used by one worker, with the buffers its
// operations build messages in.
type conn struct {
	d    *Driver
	cc   *grpc.ClientConn
	own  *message // the message of templated and JSON bodies
	wire []byte
	text []byte
}

var _ workloads.Conn = (*conn)(nil)

// discard receives responses; the raw codec leaves it untouched.
var discard = &message{}

// Do makes one unary call.
func (c *conn) Do(ctx context.Context, op *workloads.Op) error {
	r := &c.d.requests[op.Kind]
	msg, err := c.message(r.body, op.Key)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, c.d.timeout)
	defer cancel()
	if r.md != nil {
		callCtx = metadata.NewOutgoingContext(callCtx, r.md)
	}
	err = c.cc.Invoke(callCtx, r.method, msg, discard)
	if err == nil {
		return nil
	}
	if msg == c.own {
		// The transport may still hold the bytes of a failed call: build
		// the next message somewhere new.
		c.own = &message{data: make(mem.BufferSlice, 1)}
		c.wire = nil
	}
	return c.classify(ctx, callCtx, err)
}

// message returns the request message of one operation.
func (c *conn) message(b *body, key []byte) (*message, error) {
	switch {
	case b.static != nil:
		return b.static, nil
	case b.tmpl != nil:
		c.wire = b.tmpl.appendTo(c.wire[:0], key)
	default:
		var err error
		if c.wire, c.text, err = b.json.appendTo(c.wire[:0], c.text, key); err != nil {
			return nil, err
		}
	}
	c.own.data[0] = mem.SliceBuffer(c.wire)
	return c.own, nil
}

// classify turns a failed call into the error the engine counts.
func (c *conn) classify(ctx, callCtx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("grpc: %w (%v)", ctxErr, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if st.Code() == codes.DeadlineExceeded && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("grpc: no answer within the %s timeout: %w", c.d.timeout, context.DeadlineExceeded)
	}
	return &workloads.StatusError{Kind: codeKind(st.Code()), Detail: st.Message()}
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

// Close closes the ClientConn.
func (c *conn) Close() error { return c.cc.Close() }

// rawCodec sends a *message's bytes as they are and leaves responses
// undecoded: tailgate counts answers, it does not read them. It names itself
// "proto", the content subtype servers expect for protobuf bytes; it is only
// used through ForceCodecV2, never registered.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*message)
	if !ok {
		return nil, fmt.Errorf("grpc: raw codec cannot send a %T", v)
	}
	return m.data, nil
}

func (rawCodec) Unmarshal(mem.BufferSlice, any) error { return nil }

func (rawCodec) Name() string { return "proto" }
