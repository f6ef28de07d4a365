package sock

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
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
	var src io.Reader = nc
	g.sc = nil
	if sc, ok := New(nc); ok {
		g.sc, src = sc, sc
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
	if g.sc != nil {
		g.sc.Send(b)
		return nil
	}
	nc, _ := g.Current()
	if nc == nil {
		return net.ErrClosed
	}
	_, err := nc.Write(b)
	return err
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

// Ready readies the held connection for an operation that must end by
// deadline: it redials when no connection is held and sets the deadline
// on the one held otherwise, then makes a cancellation of ctx end the
// operation (Watch). It returns net.ErrClosed once the Guard is closed, a
// failure of either step through Broken, and the context's error when the
// run ended, checked after the deadline is set, so a later interrupt is
// not undone.
func (g *Guard) Ready(ctx context.Context, deadline time.Time, d Redialer) error {
	nc, closed := g.Current()
	switch {
	case closed:
		return net.ErrClosed
	case nc == nil:
		if err := d.Redial(ctx, deadline); err != nil {
			return g.Broken(ctx, err)
		}
	default:
		if err := nc.SetDeadline(deadline); err != nil {
			return g.Broken(ctx, err)
		}
	}
	g.Watch(ctx)
	return ctx.Err()
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
