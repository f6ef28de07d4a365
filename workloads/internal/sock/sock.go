// Package sock reads and writes the drivers' plain TCP connections with raw
// system calls on their non-blocking descriptors, and parks in the
// runtime's network poller only when the kernel has nothing ready.
//
// The net package goes through the runtime's blocking-call protocol
// (entersyscall, exitsyscall) for every read and write, and an idle
// process's system monitor is woken by each: at tens of thousands of
// operations a second that is a large share of a load generator's CPU. A
// read or write on a non-blocking socket never blocks, so it needs none of
// it. And a request-reply exchange knows that the reply cannot be there
// the instant the request left: Send queues the request, and the next Read
// writes it after arming the poller and waits for the reply without a read
// that would only say "not yet".
//
// Deadlines, Close and the errors the engine classifies (timeouts, closed
// connections, resets) behave as on the net.Conn underneath, which still
// owns the descriptor.
package sock

import (
	"io"
	"net"
	"os"
	"syscall"
)

// Conn is a TCP (or unix stream) connection read and written with raw
// system calls. Like a
// bufio.Reader over it, it is used by one goroutine at a time; SetDeadline
// and Close on the net.Conn may come from others.
type Conn struct {
	rc syscall.RawConn
	// send is written by the next Read, before it waits for the reply.
	send []byte
	// cut is set when a failure left part of a queued request unwritten.
	cut bool
	// wrote counts the bytes of the request Send queued that went out.
	wrote int
	// got counts the bytes Read returned over the connection's life.
	got uint64

	// State of the call in progress, so the callbacks, bound once, need
	// no closure per call.
	buf     []byte
	n       int
	errno   syscall.Errno
	errOp   string
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
}

// New wraps a plain TCP or unix stream connection; ok is false for
// anything else (a TLS connection, say), which the caller keeps using as
// it is.
func New(nc net.Conn) (c *Conn, ok bool) {
	if !rawIOAvailable {
		return nil, false
	}
	var sc syscall.Conn
	switch nc := nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *net.UnixConn:
		sc = nc
	default:
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	c = &Conn{rc: rc}
	c.readFn, c.writeFn = c.readReady, c.writeReady
	return c, true
}

// Send queues b, a request, to be written by the next Read. b must stay
// unchanged until then.
func (c *Conn) Send(b []byte) { c.send, c.cut, c.wrote = b, false, 0 }

// Sent reports whether all that Send queued was written: false while it
// waits for the next Read, or when a failure cut it short.
func (c *Conn) Sent() bool { return len(c.send) == 0 && !c.cut }

// Wrote is how many bytes of the request Send queued went out: 0 when a
// failure came before its first byte.
func (c *Conn) Wrote() int { return c.wrote }

// Received is how many bytes Read has returned since the connection was
// wrapped: a count that has not moved since a request was sent means not
// one byte of its reply arrived.
func (c *Conn) Received() uint64 { return c.got }

// Read writes what Send queued, then reads what is there, waiting in the
// poller while nothing is.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		c.buf, c.n, c.errno = p, 0, 0
		err := c.rc.Read(c.readFn)
		c.buf = nil
		if err == nil && c.errno != 0 {
			err = os.NewSyscallError(c.errOp, c.errno)
		}
		if err != nil {
			c.cut = c.cut || len(c.send) > 0
			c.send = nil
			return 0, err
		}
		if len(c.send) > 0 {
			// The socket took part of the request: write the rest,
			// waiting for room, and read again.
			rest := c.send
			c.send = nil
			n, err := c.Write(rest)
			c.wrote += n
			if err != nil {
				c.cut = true
				return 0, err
			}
			continue
		}
		if c.n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		c.got += uint64(c.n)
		return c.n, nil
	}
}

// readReady runs with the poller armed for reading: it writes a queued
// request (and then waits for the reply), or reads.
func (c *Conn) readReady(fd uintptr) bool {
	if len(c.send) > 0 {
		n, errno := sysWrite(fd, c.send)
		switch {
		case errno == syscall.EAGAIN:
			return true // no room at all: Read writes it the slow way
		case errno != 0:
			c.errno, c.errOp = errno, "write"
			return true
		}
		c.send = c.send[n:]
		c.wrote += n
		return len(c.send) > 0 // all out: wait for the reply
	}
	if len(c.buf) == 0 {
		return true
	}
	n, errno := sysRead(fd, c.buf)
	switch errno {
	case syscall.EAGAIN:
		return false
	case 0:
		c.n = n
	default:
		c.errno, c.errOp = errno, "read"
	}
	return true
}

// Write writes all of p, waiting in the poller while the socket is full.
func (c *Conn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		c.buf, c.n, c.errno = p[written:], 0, 0
		err := c.rc.Write(c.writeFn)
		c.buf = nil
		written += c.n
		if err != nil {
			return written, err
		}
		if c.errno != 0 {
			return written, os.NewSyscallError("write", c.errno)
		}
	}
	return written, nil
}

func (c *Conn) writeReady(fd uintptr) bool {
	n, errno := sysWrite(fd, c.buf)
	switch errno {
	case syscall.EAGAIN:
		return false
	case 0:
		c.n = n
	default:
		c.errno = errno
	}
	return true
}
