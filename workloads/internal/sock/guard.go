package sock

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// longAgo is a deadline in the past: setting it fails pending I/O at once.
var longAgo = time.Unix(1, 0)

// Guard holds a driver connection's network connection against the three
// goroutines that touch it: the worker that performs operations on it, the
// engine that may Close it while an operation hangs, and a canceled
// context's interrupt. The zero value holds no connection.
type Guard struct {
	// Name prefixes the errors of a connection broken while its run was
	// canceled ("redis", "memcache").
	Name string

	mu     sync.Mutex
	nc     net.Conn // nil when broken; the next operation dials again
	closed bool
	// watched is the Done channel of the context an interrupt is
	// registered for. Only the worker reads and writes it.
	watched   <-chan struct{}
	stopWatch func() bool

	// The worker's side: raw I/O on a plain TCP connection (nil over
	// TLS) and the buffered reader over whichever carries the stream.
	sc *Conn
	r  *bufio.Reader

	// The worker's record of the held connection, for the idle check and
	// the retry rules (see Ready and Replayable).
	tc      *tls.Conn       // the TLS connection, nil on plain TCP
	tlsSrc  counter         // the stream bufio reads over TLS, counted
	raw     syscall.RawConn // the TCP socket underneath, for the peek
	used    time.Time       // the last Ready (or Adopt) on it
	reused  bool            // Ready found it held: it carried an exchange before
	wrote   int             // bytes of the last request written (over TLS)
	sending int             // its length
	mark    uint64          // bytes received when the last request was sent
	stray   bool            // bytes were waiting unread when it was sent
	peekFn  func(fd uintptr)
	peekBuf [1]byte
	peekN   int
	peekErr syscall.Errno
}

// counter counts the bytes read through it: over TLS it tells whether a
// byte of a reply arrived.
type counter struct {
	r io.Reader
	n uint64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

// Current returns the held connection (nil when there is none) and whether
// the Guard was closed.
func (g *Guard) Current() (nc net.Conn, closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nc, g.closed
}

// Hold holds a freshly dialed connection. When the Guard was closed
// meanwhile, it closes nc and returns net.ErrClosed.
func (g *Guard) Hold(nc net.Conn) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		nc.Close()
		return net.ErrClosed
	}
	g.nc = nc
	return nil
}

// Adopt holds a freshly dialed connection (see Hold) and returns the
// buffered reader (of readSize bytes, reused across connections) to read
// its stream from: raw socket reads on plain TCP, the connection itself
// over TLS.
func (g *Guard) Adopt(nc net.Conn, readSize int) (*bufio.Reader, error) {
	if err := g.Hold(nc); err != nil {
		return nil, err
	}
	var src io.Reader
	g.sc, g.tc, g.raw = nil, nil, nil
	g.used, g.reused, g.wrote, g.mark, g.stray = time.Now(), false, 0, 0, false
	if sc, ok := New(nc); ok {
		g.sc, g.raw, src = sc, sc.rc, sc
	} else {
		g.tlsSrc = counter{r: nc}
		src = &g.tlsSrc
		var under net.Conn = nc
		if tc, ok := nc.(*tls.Conn); ok {
			g.tc, under = tc, tc.NetConn()
		}
		if s, ok := under.(syscall.Conn); ok && rawIOAvailable {
			g.raw, _ = s.SyscallConn()
		}
	}
	if g.r == nil {
		g.r = bufio.NewReaderSize(src, readSize)
	} else {
		g.r.Reset(src)
	}
	return g.r, nil
}

// Send sends a request: on a raw connection it goes out with the next read,
// which then waits for the reply; over TLS it is written at once.
func (g *Guard) Send(b []byte) error {
	g.mark, g.stray = g.received(), g.r != nil && g.r.Buffered() > 0
	if g.sc != nil {
		g.sc.Send(b)
		return nil
	}
	g.wrote, g.sending = 0, len(b)
	nc, _ := g.Current()
	if nc == nil {
		return net.ErrClosed
	}
	n, err := nc.Write(b)
	g.wrote = n
	return err
}

// received counts the bytes read from the held connection's stream.
func (g *Guard) received() uint64 {
	if g.sc != nil {
		return g.sc.Received()
	}
	return g.tlsSrc.n
}

// Answered reports whether any byte came from the server since the last
// Send, or was waiting unread when it was sent: once true, a failure of
// the exchange may have come after the server processed the request.
func (g *Guard) Answered() bool { return g.stray || g.received() != g.mark }

// Reused reports whether the connection the last Ready readied was held
// already, and so carried an exchange before (the probe of Connect, or an
// operation), rather than dialed by that Ready.
func (g *Guard) Reused() bool { return g.reused }

// wroteNothing reports whether not one byte of the last request went out.
func (g *Guard) wroteNothing() bool {
	if g.sc != nil {
		return g.sc.Wrote() == 0
	}
	return g.wrote == 0
}

// wroteAll reports whether all of the last request went out.
func (g *Guard) wroteAll() bool {
	if g.sc != nil {
		return g.sc.Sent()
	}
	return g.wrote == g.sending
}

// Watch makes a cancellation of ctx end the pending operation at once. It
// registers once per context, so a worker calling it every operation with
// the same context pays a comparison.
func (g *Guard) Watch(ctx context.Context) {
	done := ctx.Done()
	if done == g.watched {
		return
	}
	var stop func() bool
	if done != nil {
		stop = context.AfterFunc(ctx, g.interrupt)
	}
	g.watched = done
	g.mu.Lock()
	old := g.stopWatch
	g.stopWatch = stop
	g.mu.Unlock()
	if old != nil {
		old()
	}
}

// interrupt fails the pending I/O of the connection; it runs on the
// goroutine of a canceled context.
func (g *Guard) interrupt() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.nc != nil {
		g.nc.SetDeadline(longAgo)
	}
}

// Drop closes the held connection after a failure: the next operation
// dials again.
func (g *Guard) Drop() {
	g.mu.Lock()
	nc := g.nc
	g.nc = nil
	g.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
}

// Close closes the held connection for good; an operation pending on it
// fails at once, and later ones see closed from Current.
func (g *Guard) Close() error {
	g.mu.Lock()
	nc, stop := g.nc, g.stopWatch
	g.nc, g.stopWatch, g.closed = nil, nil, true
	g.mu.Unlock()
	if stop != nil {
		stop()
	}
	if nc != nil {
		return nc.Close()
	}
	return nil
}

// Deadline is the end of an operation that starts now: timeout from now,
// or the context's deadline if that is sooner.
func Deadline(ctx context.Context, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// Redialer dials a Guard's connection again, with Adopt (see Ready).
type Redialer interface {
	Redial(ctx context.Context, deadline time.Time) error
}

// IdleCheckAfter is how long a held connection may sit unused before Ready
// checks that the server did not close it. Below it Ready checks nothing:
// at such gaps a connection carries a hundred or more operations a second,
// where one system call more each would show in the client's CPU, while
// servers and proxies close idle connections after a second or more.
const IdleCheckAfter = 5 * time.Millisecond

// idleCheckAfter is IdleCheckAfter, changed only by tests.
var idleCheckAfter = IdleCheckAfter

// CheckIdleAfter makes Ready check connections idle longer than after
// instead of IdleCheckAfter, until restore is called. It is for tests
// that make a server close a connection between the check and the
// request, and must not be called while connections are in use.
func CheckIdleAfter(after time.Duration) (restore func()) {
	old := idleCheckAfter
	idleCheckAfter = after
	return func() { idleCheckAfter = old }
}

// tlsSettle bounds the read that processes what a TLS server sent to an
// idle connection (see Ready).
const tlsSettle = time.Millisecond

// Ready readies the held connection for an operation that must end by
// deadline: it redials when no connection is held and sets the deadline
// on the one held otherwise, then makes a cancellation of ctx end the
// operation (Watch). It returns net.ErrClosed once the Guard is closed, a
// failure of either step through Broken, and the context's error when the
// run ended, checked after the deadline is set, so a later interrupt is
// not undone.
//
// A held connection that sat idle longer than IdleCheckAfter is checked
// first, without blocking and without reading a byte of the stream:
//
//   - plain TCP: a peek at the socket (recvfrom of one byte, MSG_PEEK |
//     MSG_DONTWAIT). Nothing to read (EAGAIN) is a live connection. The end
//     of the stream (the server's FIN), an error (its RST) or bytes
//     nobody asked for (an unsolicited reply, such as a server's farewell
//     before it closes) are a connection the server is done with.
//   - TLS: first a read through the TLS connection with a deadline that
//     has passed, which processes the records it already holds (read
//     along with the last reply) and touches nothing else; then the same
//     peek underneath. Pending bytes there may be a post-handshake message
//     (a session ticket, a key update), which the connection must
//     process, or close_notify: a read through the TLS connection, bounded
//     by tlsSettle, tells them apart. A timeout of either read means only
//     handshake messages came (a timeout does not break a tls.Conn);
//     application data, the end of the stream or an alert mean the
//     connection is done with.
//   - bytes already in the buffered reader are unsolicited too.
//
// A connection found done with is closed and a new one dialed, so the
// operation goes out on a fresh connection; its latency still runs from
// its intended start, so the reconnect shows in it. A server may still
// close a connection between the check and the request: Replayable says
// which operations may then be sent again.
func (g *Guard) Ready(ctx context.Context, deadline time.Time, d Redialer) error {
	nc, closed := g.Current()
	if closed {
		return net.ErrClosed
	}
	now := time.Now()
	if nc != nil && now.Sub(g.used) > idleCheckAfter && !g.alive(now) {
		g.Drop()
		nc = nil
	}
	if nc == nil {
		if err := d.Redial(ctx, deadline); err != nil {
			return g.Broken(ctx, err)
		}
		g.reused = false
	} else {
		if err := nc.SetDeadline(deadline); err != nil {
			return g.Broken(ctx, err)
		}
		g.reused = true
	}
	g.used = now
	g.Watch(ctx)
	return ctx.Err()
}

// alive checks an idle held connection (see Ready).
func (g *Guard) alive(now time.Time) bool {
	if g.raw == nil {
		return true // not a socket: nothing to check
	}
	if g.r != nil && g.r.Buffered() > 0 {
		return false
	}
	// Records the TLS connection read along with the last reply wait in
	// its buffer, not in the socket: a read whose deadline has passed
	// processes them and reads nothing more.
	if g.tc != nil && !g.settle(longAgo) {
		return false
	}
	if g.peekFn == nil {
		g.peekFn = g.peek
	}
	g.peekN, g.peekErr = 0, 0
	if err := g.raw.Control(g.peekFn); err != nil {
		return false // closed meanwhile
	}
	switch {
	case g.peekErr == syscall.EAGAIN:
		return true
	case g.peekErr != 0, g.peekN == 0, g.tc == nil:
		return false
	}
	return g.settle(now.Add(tlsSettle))
}

// settle reads through the TLS connection until deadline: true when that
// only processed handshake messages and timed out, false for application
// data, the end of the stream or an alert.
func (g *Guard) settle(deadline time.Time) bool {
	if err := g.tc.SetReadDeadline(deadline); err != nil {
		return false
	}
	n, err := g.tc.Read(g.peekBuf[:])
	return n == 0 && isTimeout(err)
}

// peek looks at the socket's first pending byte without taking it or
// waiting for it.
func (g *Guard) peek(fd uintptr) {
	g.peekN, g.peekErr = sysPeek(fd, g.peekBuf[:1])
}

// Replayable reports whether an operation that failed with err, on the
// connection the last Ready readied, may be sent once more, on a new
// connection, because the server provably did not process it. The rules,
// as net/http's transport keeps them (shouldRetryRequest, isReplayable):
//
//   - Only on a reused connection (see Reused): a fresh one that fails
//     was not closed while idle, and sending again would only double the
//     load on a server that refuses.
//   - Never when the run was canceled, and never after a timeout: a
//     server too slow to answer may yet process the request.
//   - Any operation whose request did not get out at all (not one byte
//     written: the connection was reset or closed under it) may go again.
//   - An idempotent operation (idempotent: a read such as Redis GET or
//     memcached get, HTTP GET or HEAD) whose request was written whole may
//     go again when the stream ended (EOF) or was reset before one byte of
//     the reply came (see Answered): the server closed the connection as
//     the request arrived.
//   - Anything else (a write that may have been processed, a reply cut
//     short) stays an error, counted by its kind.
//
// The caller drops the connection and calls Ready again, with the
// operation's deadline, and replays once at most.
func (g *Guard) Replayable(ctx context.Context, err error, idempotent bool) bool {
	if err == nil || !g.reused || ctx.Err() != nil || isTimeout(err) || !peerGone(err) {
		return false
	}
	if g.wroteNothing() {
		return true
	}
	return idempotent && g.wroteAll() && !g.Answered()
}

// peerGone reports whether err says the server closed or reset the
// connection.
func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// Broken closes a connection whose stream can no longer be trusted (the
// next operation dials again) and returns err, or the context's error
// wrapping it when the run was canceled meanwhile.
func (g *Guard) Broken(ctx context.Context, err error) error {
	g.Drop()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%v)", g.Name, ctxErr, err)
	}
	return err
}

// Write writes b at once, by deadline, for pipelined requests that must
// not wait for the next read (see Send for one request at a time).
func (g *Guard) Write(b []byte, deadline time.Time) error {
	g.mark, g.stray = g.received(), g.r != nil && g.r.Buffered() > 0
	nc, _ := g.Current()
	if nc == nil {
		return net.ErrClosed
	}
	if err := nc.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if g.sc != nil {
		_, err := g.sc.Write(b)
		return err
	}
	_, err := nc.Write(b)
	return err
}

// ReadBy makes the next reads of the held connection fail at deadline,
// for a pipeline that waits for replies of requests sent at different
// times. It returns the context's error when the run ended, checked after
// the deadline is set, so an interrupt is not undone.
func (g *Guard) ReadBy(ctx context.Context, deadline time.Time) error {
	nc, _ := g.Current()
	if nc == nil {
		return net.ErrClosed
	}
	if err := nc.SetReadDeadline(deadline); err != nil {
		return err
	}
	return ctx.Err()
}

// IsTimeout reports whether err is a deadline that passed.
func IsTimeout(err error) bool { return isTimeout(err) }

// Flush writes a pipeline's queued commands with one write and empties the
// queue; a failed write breaks the connection.
func (g *Guard) Flush(ctx context.Context, queued *[]byte, deadline time.Time) error {
	if len(*queued) == 0 {
		return nil
	}
	err := g.Write(*queued, deadline)
	*queued = (*queued)[:0]
	if err != nil {
		return g.Broken(ctx, err)
	}
	return nil
}

// Await waits, until until, for the next reply of a pipeline to begin on r:
// true when a byte is buffered or arrives in time, false when until passes
// first. Any other read failure breaks the connection.
func (g *Guard) Await(ctx context.Context, r *bufio.Reader, until time.Time) (bool, error) {
	if r.Buffered() > 0 {
		return true, nil
	}
	if !until.After(time.Now()) {
		return false, nil
	}
	if err := g.ReadBy(ctx, until); err != nil {
		return false, g.Broken(ctx, err)
	}
	if _, err := r.Peek(1); err != nil {
		if IsTimeout(err) && ctx.Err() == nil {
			return false, nil
		}
		return false, g.Broken(ctx, err)
	}
	return true, nil
}
