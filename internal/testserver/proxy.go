package testserver

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DelayProxy is a loopback TCP proxy that holds every reply of the server
// behind it for a configurable delay: a target whose latency a test turns
// up, in steps between runs or while a run lasts. Requests pass at once.
type DelayProxy struct {
	// Addr is the proxy's host:port on loopback.
	Addr   string
	delay  atomic.Int64
	ln     net.Listener
	wg     sync.WaitGroup
	closed atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

// NewDelayProxy starts a proxy in front of target (host:port) with no
// delay; it stops when the test ends.
func NewDelayProxy(t testing.TB, target string) *DelayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("delay proxy: %v", err)
	}
	p := &DelayProxy{Addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept(target)
	t.Cleanup(p.Close)
	return p
}

// SlowRedis starts a real Redis (with extraArgs, as Redis) behind a delay
// proxy holding every reply for delay: a target whose own latency is past
// an impossible bar whatever the runner, so that a test of a failing bar
// sees it fail rather than put down to a busy runner's wake-ups
// (client-bound), as a bar at the noise of a fast Redis on a loaded
// machine may rightly be. It returns the proxy, whose Addr is the
// target's; closing it takes the target away.
func SlowRedis(t testing.TB, delay time.Duration, extraArgs ...string) *DelayProxy {
	t.Helper()
	p := NewDelayProxy(t, Redis(t, extraArgs...).Addr)
	p.SetDelay(delay)
	return p
}

// SetDelay sets the delay added to every reply from now on.
func (p *DelayProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Delay is the current delay.
func (p *DelayProxy) Delay() time.Duration { return time.Duration(p.delay.Load()) }

// Close stops the proxy and its connections.
func (p *DelayProxy) Close() {
	if p.closed.Swap(true) {
		return
	}
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *DelayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *DelayProxy) accept(target string) {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			client.Close()
			server.Close()
			return
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(server, client)
			server.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.delayed(client, server)
			client.Close()
		}()
	}
}

// delayed copies the server's replies to the client, each read held back
// by the delay. A client that waits for each reply before its next request
// (no pipelining) sees every reply late by the delay. The runtime's sleeps
// on Linux end up to a millisecond late, the same every time: delays are
// best stepped in whole milliseconds. (internal/hrtimer is precise, but
// blocks a thread per waiting connection, which on a busy machine made the
// delays noisier than the rounding.)
func (p *DelayProxy) delayed(client, server net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if d := p.Delay(); d > 0 {
				time.Sleep(d)
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
