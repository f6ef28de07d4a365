package h2

import (
	"errors"
	"os"
	"time"
)

// Between calls a connection has no call reading it, yet the server may
// speak: a PING that wants its acknowledgement (grpc-go's keepalive closes
// a connection that does not answer within its timeout), a GOAWAY (a
// maximum connection age or idle time, a proxy's keepalive timeout, a
// server shutting down), or a close. The rules, decided here rather than by
// the next call failing:
//
//  1. A connection idle for IdleAfter is watched: a goroutine, started by
//     the connection's timer, reads it until the next call takes it back.
//     It acknowledges PINGs and SETTINGS at once and keeps HPACK and flow
//     control in step, as the call would.
//  2. A connection the watcher found closed, reset, broken or drained
//     (GOAWAY, which no call is waiting on, so the watcher closes the
//     connection at once, as grpc-go does with a draining connection
//     without streams) is not reused: the next call dials a fresh one. No
//     call was sent on it, so this is no error; the dial is part of the
//     call's latency.
//  3. A call is retried once, on a fresh connection, when the server
//     provably did not process it (see Retryable): its stream is above
//     the last-stream-id of a GOAWAY (RFC 9113, 6.8), the server refused
//     the stream (REFUSED_STREAM, RFC 9113, 8.7), or the connection failed
//     before any byte of the call was written. Anything else (the
//     connection closed or reset after the call was written, a timeout,
//     a status from the server) may have been processed and is an error,
//     counted by kind. grpc-go's transparent retry takes the same calls.
//
// Why a watcher that starts after a pause, and not a reader goroutine per
// connection or a readiness check before each call: a reader hands every
// reply from one goroutine to another, which is what this client exists
// to avoid, and a readiness check costs a system call per call and answers
// no PING while the connection idles. The watcher costs a call three
// atomic operations while calls come faster than IdleAfter; calls that
// come slower pay its hand-over (waking it with a deadline and waiting
// for it to stop), which only low rates, where CPU is plentiful, see.
// Servers wait seconds for a PING's acknowledgement and close idle
// connections after a second or more, both well above IdleAfter.

// IdleAfter is how long a connection waits between calls before it is
// watched. Below it, the acknowledgement of a server's PING goes out with
// the next call's frames instead of in a write of its own: grpc-go servers
// ping once per call to estimate the bandwidth-delay product, and any
// frame answers a liveness check.
const IdleAfter = 100 * time.Millisecond

// The states of a connection between its worker and its watcher.
const (
	stateIdle     int32 = iota // between calls, not watched
	stateBusy                  // the worker has it, for a call or a dial
	stateWatching              // the watcher is reading it
	stateDead                  // the watcher found it unusable; see dead
)

// longAgo is a deadline in the past: setting it fails pending I/O at once.
var longAgo = time.Unix(1, 0)

// Dead says why the idle watcher found the connection unusable; nil while
// it is usable (or held for a call).
func (c *Conn) Dead() error {
	if c.state.Load() != stateDead {
		return nil
	}
	return c.dead
}

// errInUse would mean two goroutines made calls on one connection.
var errInUse = errors.New("http2: the connection is in use by another call")

// startIdleWatch arms the connection's timer; the connection starts busy,
// held by the worker that dialed it.
func (c *Conn) startIdleWatch() {
	c.watchDone = make(chan struct{}, 1)
	c.state.Store(stateBusy)
	c.lastUse.Store(time.Now().UnixNano())
	c.idle = time.AfterFunc(IdleAfter, c.idleCheck)
}

// Acquire takes the connection for a call that starts at now, stopping its
// watcher if one runs. An error says the watcher found the connection
// unusable: the caller dials a fresh one.
func (c *Conn) Acquire(now time.Time) error {
	if !c.state.CompareAndSwap(stateIdle, stateBusy) {
		if err := c.acquireSlow(); err != nil {
			return err
		}
	}
	c.lastUse.Store(now.UnixNano())
	return nil
}

func (c *Conn) acquireSlow() error {
	for !c.state.CompareAndSwap(stateIdle, stateBusy) {
		switch c.state.Load() {
		case stateDead:
			return c.dead
		case stateBusy:
			return errInUse
		case stateWatching:
			c.mu.Lock()
			stopping := c.state.Load() == stateWatching
			if stopping {
				c.stopWatch = true
				c.nc.SetDeadline(longAgo)
			}
			c.mu.Unlock()
			if stopping {
				<-c.watchDone
			}
		}
	}
	return nil
}

// Release hands the connection back after a call; the timer will have it
// watched once it has been idle long enough.
func (c *Conn) Release() { c.state.Store(stateIdle) }

// StopIdleWatch stops the timer of a connection being closed. The caller
// holds the connection (or the watcher found it dead), so no watcher runs.
func (c *Conn) StopIdleWatch() {
	if c.idle != nil {
		c.idle.Stop()
	}
}

// idleCheck runs on the timer: it starts the watcher once the connection
// has been idle IdleAfter, and otherwise arms the timer again.
func (c *Conn) idleCheck() {
	switch c.state.Load() {
	case stateDead:
		return
	case stateIdle:
		left := IdleAfter - time.Since(time.Unix(0, c.lastUse.Load()))
		if left <= 0 && c.state.CompareAndSwap(stateIdle, stateWatching) {
			c.watch()
			return
		}
		if left > 0 {
			c.idle.Reset(left)
			return
		}
	}
	c.idle.Reset(IdleAfter)
}

// watch reads the idle connection until the worker takes it back or the
// connection proves unusable.
func (c *Conn) watch() {
	c.mu.Lock()
	stopped := c.stopWatch
	if !stopped {
		// No deadline while watching: the last call's may pass any time.
		c.nc.SetDeadline(time.Time{})
	}
	c.mu.Unlock()
	var err error
	if !stopped {
		err = c.watchFrames()
	}

	var dead error
	switch {
	case c.goAway:
		dead = errors.New("http2: the server sent GOAWAY while the connection was idle")
	case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		// Stopped by the worker, or by an interrupt meant for a call.
	default:
		dead = err
	}
	if dead != nil {
		c.nc.Close()
	}

	c.mu.Lock()
	stopped = c.stopWatch
	c.stopWatch = false
	if dead != nil {
		c.dead = dead
		c.state.Store(stateDead)
	} else {
		c.state.Store(stateIdle)
	}
	c.mu.Unlock()
	if dead == nil {
		c.idle.Reset(IdleAfter)
	}
	if stopped {
		c.watchDone <- struct{}{}
	}
}

// watchFrames sends the acknowledgements the last call left waiting, then
// handles the server's frames as they come, with no call in progress.
func (c *Conn) watchFrames() error {
	c.cur = nil
	c.lazyPings = false
	c.out = append(c.out, c.pongs...)
	c.pongs = c.pongs[:0]
	if _, err := c.flush(); err != nil {
		return err
	}
	for !c.goAway {
		if _, err := c.readOne(); err != nil {
			return err
		}
	}
	return nil
}
