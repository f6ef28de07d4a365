package workloads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// Op is one operation the engine asks a driver to perform. The engine owns it
// and reuses it: a driver must not keep Key or Value after Do returns.
type Op struct {
	// Kind indexes the component's operations (Spec.Operations): a mix entry
	// for key-value protocols, a request for HTTP and gRPC.
	Kind int
	// Index is the operation's place in the run's global, seeded sequence.
	Index uint64
	// Key is the drawn key, prefix included.
	Key []byte
	// KeyIndex is the drawn key's number, for drivers that format their own.
	KeyIndex uint64
	// Value is the payload of writes, of a size drawn from the plan's
	// value_size and content cut from the component's seeded source.
	Value []byte
	// Sent is set by a driver that had to hold the operation back before
	// sending it (a connection whose streams were all in use, up to the
	// server's limit): the instant it went out. The engine zeroes it before
	// each Do; zero means sent when Do was called. An operation held back
	// past LateAfter counts as late, and its service time starts at Sent.
	Sent time.Time
	// Hits and Misses are the driver's answer to a read: how many of the
	// keys it read had a value and how many had none (a GET sets one of
	// them to 1). The engine zeroes both before each operation and counts
	// them on the operation's record when it succeeds.
	Hits, Misses int32
	// Keys are the keys of an operation of several (see MultiKey), Key
	// first, each drawn like Key; nil for an operation of one key.
	Keys [][]byte
	// Messages is a streaming call's answer: how many response messages
	// it received; FirstMessageLead is how long before the call completed
	// the first of them came. When Messages is above 0, the engine records
	// the operation's latency to its first message (its latency less the
	// lead, so from the intended start too) beside its latency to the end.
	// Drivers of unary operations leave both zero; the engine zeroes them
	// before each operation and counts them only when it succeeds.
	Messages         int32
	FirstMessageLead time.Duration
	// Node is set by a driver that spreads operations over several
	// servers (a NodeReporter: the nodes of a Redis Cluster, a Memcached
	// server list): 1 + the index in Nodes of the server that answered
	// the operation, or that it failed on; 0 when the driver does not
	// say. The engine zeroes it before each operation.
	Node int
}

// NodeReporter is a Driver whose operations are each served by one of
// several servers: the engine records the measured operations of each
// node apart (by Op.Node), and the result shows them beside the
// component's.
type NodeReporter interface {
	// Nodes names the servers by address, in the order Op.Node counts
	// them; a node found during the run is added at the end. The engine
	// calls it once the load is over, before it closes the driver.
	Nodes() []string
}

// PipelineConn is a Conn that can have several operations in flight on its
// connection, answered in order; the engine drives one through it when
// the workload's pipeline is above 1. Its methods are called from the
// connection's worker only.
//
// A *StatusError from Receive is an answer: the stream is in step and
// the other requests in flight stay so. Any other error of Flush, Await
// or Receive leaves the stream out of step: the engine counts every
// request in flight as failed with it and calls Abandon.
type PipelineConn interface {
	Conn
	// Queue renders op's request into the connection's send buffer and
	// does not keep op.Key or op.Value. With nothing in flight it readies
	// the connection first, dialing again within deadline if it is broken.
	Queue(ctx context.Context, op *Op, deadline time.Time) error
	// Flush writes every queued request by deadline.
	Flush(ctx context.Context, deadline time.Time) error
	// Await waits until the next reply begins to arrive, or until until,
	// and reports whether one is there to Receive; with until in the past
	// it only looks at what was read already, without waiting.
	Await(ctx context.Context, until time.Time) (bool, error)
	// Receive reads the reply to the oldest request in flight, op (with
	// the Kind it was queued with), by deadline, and sets op's Hits and
	// Misses.
	Receive(ctx context.Context, op *Op, deadline time.Time) error
	// Abandon closes the connection after a failure: the requests in
	// flight are lost, and the next Queue dials again.
	Abandon()
}

// KeyspaceConn is a Conn whose target stores keys: it writes one key for
// prefill and deletes one for cleanup. A driver whose connections do not
// implement it refuses plans with prefill or cleanup.
type KeyspaceConn interface {
	Conn
	// Fill writes op.Value at op.Key, with the run's expiry.
	Fill(ctx context.Context, op *Op) error
	// Delete deletes op.Key.
	Delete(ctx context.Context, op *Op) error
}

// MultiKey is implemented by drivers some of whose operations take
// several keys, such as memcached's multi-key get: the engine draws
// KeysPerOp(kind) keys into Op.Keys for those operations.
type MultiKey interface {
	// KeysPerOp is how many keys an operation of the kind (an Op.Kind)
	// takes; 1 or less means Key alone.
	KeysPerOp(kind int) int
}

// Conn is one connection's worth of a driver: the engine runs one worker per
// connection and calls Do from that worker only. A Conn must survive errors:
// after a broken connection the next Do reconnects.
type Conn interface {
	Do(ctx context.Context, op *Op) error
	Close() error
}

// Multiplexer is a Driver whose connections carry several operations at
// once (HTTP/2 streams). For a workload with streams > 1 the engine calls
// ConnectStreams instead of Connect, once per connection: the n Conns it
// returns share one connection, each used by one worker, so up to n
// operations are in flight on it, each measured from its own intended
// start. A driver that is no Multiplexer cannot run streams > 1.
type Multiplexer interface {
	ConnectStreams(ctx context.Context, n int) ([]Conn, error)
}

// Driver opens connections to one component's target.
type Driver interface {
	// Connect opens one connection and proves the target answers, so an
	// unreachable target fails before load starts.
	Connect(ctx context.Context) (Conn, error)
	// Describe says what the driver talks to, for reports (secrets redacted).
	Describe() string
	Close() error
}

// Opener builds a driver for a component. target is the parsed target URL.
type Opener func(ctx context.Context, target *url.URL, spec *Spec) (Driver, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes a driver available for a URL scheme; drivers call it from
// init. Registering a scheme twice panics, as it is a programming error.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("workloads: driver registered twice for scheme " + scheme)
	}
	openers[scheme] = open
}

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	out := make([]string, 0, len(openers))
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// ErrUnsupportedScheme is returned for a target whose scheme no driver speaks.
var ErrUnsupportedScheme = errors.New("unsupported target scheme")

// ErrUnreachable wraps a failure to reach a target before load starts.
var ErrUnreachable = errors.New("target unreachable")

// Open builds the driver for spec's target.
func Open(ctx context.Context, spec *Spec) (Driver, error) {
	target := spec.Component.Target
	u, err := slo.ParseTarget(target)
	if err != nil {
		return nil, fmt.Errorf("component %q: target %q: %w", spec.Component.Name, Redact(target, spec.Secrets), redactErr(err, spec.Secrets))
	}
	scheme := u.Scheme
	if scheme == "embedded" {
		scheme = "embedded:" + u.Opaque
	}
	openersMu.RLock()
	open, ok := openers[scheme]
	openersMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("component %q: target %q: %w %q (tailgate speaks %s)", spec.Component.Name,
			Redact(target, spec.Secrets), ErrUnsupportedScheme, u.Scheme, strings.Join(Schemes(), ", "))
	}
	spec, err = withBodyFiles(spec)
	if err != nil {
		return nil, err
	}
	return open(ctx, u, spec)
}

// MaxBodyFile is the largest request body a body_file may hold (64 MiB).
const MaxBodyFile = 64 << 20

// withBodyFiles reads the body_file of every request that names one, once,
// before load, and returns a spec whose requests carry them as bodies
// ({{key}} in them is replaced as in an inline body); spec itself is left
// as it is. The plan-size limit does not apply to these files.
func withBodyFiles(spec *Spec) (*Spec, error) {
	reqs := spec.Component.Workload.Requests
	copied := false
	for i := range reqs {
		if reqs[i].BodyFile == "" {
			continue
		}
		if !copied {
			own := *spec
			own.Component.Workload.Requests = append([]slo.Request(nil), reqs...)
			spec, reqs, copied = &own, own.Component.Workload.Requests, true
		}
		r := &reqs[i]
		path := r.BodyPath
		if path == "" {
			path = r.BodyFile
		}
		body, err := readBodyFile(path)
		if err != nil {
			return nil, fmt.Errorf("component %q: request %q: body_file %q: %w", spec.Component.Name, r.Name, r.BodyFile, err)
		}
		r.Body = body
	}
	return spec, nil
}

// readBodyFile reads a body file of at most MaxBodyFile bytes.
func readBodyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	n, err := io.Copy(&b, io.LimitReader(f, MaxBodyFile+1))
	if err != nil {
		return "", err
	}
	if n > MaxBodyFile {
		return "", fmt.Errorf("over %d bytes (64 MiB), the most a request body may be", MaxBodyFile)
	}
	return b.String(), nil
}

// StatusError is a driver's error for a response the server gave but that is
// not a success (an HTTP status, a gRPC code, a server error reply).
type StatusError struct {
	// Kind is how the error is counted, e.g. "http 503", "grpc Unavailable".
	Kind string
	// Detail is the server's message, if any.
	Detail string
}

func (e *StatusError) Error() string {
	if e.Detail == "" {
		return e.Kind
	}
	return e.Kind + ": " + e.Detail
}

// AsStatus is the StatusError err is or wraps, nil when there is none. A
// nil err costs no allocation (errors.As's target would), so a driver may
// ask on every reply.
func AsStatus(err error) *StatusError {
	if err == nil {
		return nil
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// Error kinds that the engine counts errors by, besides StatusError kinds.
const (
	KindTimeout  = "timeout"
	KindRefused  = "refused"
	KindReset    = "reset"
	KindClosed   = "closed"
	KindUnsent   = result.KindUnsent
	KindCanceled = "canceled"
	KindOther    = "other"
)

// ErrorKind classifies an operation's error for the per-kind counts.
func ErrorKind(err error) string {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return se.Kind
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return KindReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return KindClosed
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	return KindOther
}
