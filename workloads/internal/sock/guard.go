package sock

import (
	"context"
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
	mu     sync.Mutex
	nc     net.Conn // nil when broken; the next operation dials again
	closed bool
	// watched is the Done channel of the context an interrupt is
	// registered for. Only the worker reads and writes it.
	watched   <-chan struct{}
	stopWatch func() bool
}

// Current returns the held connection (nil when there is none) and whether
// the Guard was closed.
func (g *Guard) Current() (nc net.Conn, closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nc, g.closed
}

// Adopt holds a freshly dialed connection. When the Guard was closed
// meanwhile, it closes nc and returns net.ErrClosed.
func (g *Guard) Adopt(nc net.Conn) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		nc.Close()
		return net.ErrClosed
	}
	g.nc = nc
	return nil
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
