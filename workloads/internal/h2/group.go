package h2

import (
	"context"
	"net"
	"sync"
	"time"
)

// Group is the connection the Streams of one ConnectStreams share: dialed
// at the first call, and again after it failed or drained, by one call
// while the others wait for it. After a failed dial, calls fail fast with
// a *DialError until the next attempt is due (see Backoff).
type Group struct {
	dial         func(ctx context.Context, deadline time.Time) (net.Conn, error)
	writeTimeout time.Duration
	// mu guards the fields below; it is held while dialing.
	mu      sync.Mutex
	m       *Mux
	backoff Backoff
	open    int // Streams not released
	closed  bool
}

// NewGroup makes the Group of n Streams whose connections dial opens;
// writes on them must end within writeTimeout. base and most are the
// Backoff's first and longest wait; 0 turns it off.
func NewGroup(n int, writeTimeout, base, most time.Duration, dial func(ctx context.Context, deadline time.Time) (net.Conn, error)) *Group {
	return &Group{dial: dial, writeTimeout: writeTimeout, open: n, backoff: Backoff{Base: base, Max: most}}
}

// DialError is the failure to open the Group's connection; Waiting says
// the call did not dial but failed fast after the last attempt failed.
type DialError struct {
	Err     error
	Waiting bool
}

func (e *DialError) Error() string { return e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// Mux returns the Group's usable connection, dialing one within deadline
// when there is none. Its errors are net.ErrClosed once every Stream was
// released, and *DialError.
func (g *Group) Mux(ctx context.Context, deadline time.Time) (*Mux, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, net.ErrClosed
	}
	if g.m != nil && g.m.Usable() {
		return g.m, nil
	}
	if g.m != nil {
		g.m.retire()
		g.m = nil
	}
	if err := g.backoff.Wait(time.Now()); err != nil {
		return nil, &DialError{Err: err, Waiting: true}
	}
	nc, err := g.dial(ctx, deadline)
	var m *Mux
	if err == nil {
		if m, err = NewMux(nc, g.writeTimeout); err != nil {
			nc.Close()
		}
	}
	if err != nil {
		g.backoff.Failed(err)
		return nil, &DialError{Err: err}
	}
	g.backoff.Reset()
	g.m = m
	return m, nil
}

// Retire makes the next call dial a fresh connection if m is still the
// Group's: m takes no new calls and closes once its calls have ended. A
// call the server refused goes out again this way, as one at a time.
func (g *Group) Retire(m *Mux) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == m {
		m.retire()
		g.m = nil
	}
}

// Release gives one Stream's share up; the connection closes with the
// last.
func (g *Group) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open--
	if g.open > 0 || g.closed {
		return
	}
	g.closed = true
	if g.m != nil {
		g.m.Close()
		g.m = nil
	}
}

// retire stops new calls on a connection the Group replaces and closes it
// once its calls have ended.
func (m *Mux) retire() {
	m.mu.Lock()
	m.c.goAway = true
	drained := m.drained()
	m.mu.Unlock()
	if drained {
		m.fail(errDrained)
	}
}

// Backoff spaces the attempts to connect after failures: the first wait is
// Base, each next 1.6 times the last, up to Max, with 20% jitter (grpc-go's
// connection backoff). The zero Base never waits.
type Backoff struct {
	Base, Max time.Duration
	wait      time.Duration
	attempts  uint64
	retryAt   time.Time
	err       error
}

// Wait returns the last attempt's error while the next is not due at now.
func (b *Backoff) Wait(now time.Time) error {
	if b.err != nil && now.Before(b.retryAt) {
		return b.err
	}
	return nil
}

// Failed schedules the next attempt after one that failed with err.
func (b *Backoff) Failed(err error) {
	if b.Base <= 0 {
		return
	}
	b.err = err
	if b.wait == 0 {
		b.wait = b.Base
	} else {
		b.wait = min(time.Duration(float64(b.wait)*1.6), b.Max)
	}
	b.attempts++
	// Jitter of ±20%, from the attempt count: no shared random source.
	jitter := float64(b.attempts*0x9e3779b97f4a7c15>>11)/float64(1<<53)*0.4 - 0.2
	b.retryAt = time.Now().Add(time.Duration(float64(b.wait) * (1 + jitter)))
}

// Reset forgets the failures after an attempt that succeeded.
func (b *Backoff) Reset() { b.wait, b.attempts, b.err = 0, 0, nil }
