package h2

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Calls at once on one connection (workload.streams above 1): the engine
// runs a worker per stream, and the streams of one connection share a Mux.
// Each worker still makes its calls on its own goroutine, from its own
// intended start, with a Stream of its own:
//
//   - Sending: a call takes a stream, waiting first come first served
//     while the server's SETTINGS_MAX_CONCURRENT_STREAMS are all in use
//     (that wait is in its latency, and Stream.Sent says when it went
//     out, so the engine counts it late). It queues its frames under the
//     Mux's lock, so stream identifiers go out in order, and writes what
//     is queued, unless another call is writing, which then writes its
//     frames too. No lock is held while a write blocks but the writer's
//     own, so the reader never waits on a server that stopped reading.
//   - Reading: one goroutine per connection reads every frame, under the
//     lock, and hands each call its outcome; the call's Receiver is
//     called from it, never after the call returned. It answers PINGs and
//     SETTINGS at once, keeps the connection's window topped up, and sees
//     a GOAWAY or a close whether calls are in flight or not, so a Mux
//     needs no idle watcher. The hand-off to the waiting call is the cost
//     of multiplexing: a Conn of one call at a time reads its reply on the
//     caller's goroutine.
//   - Failures: a connection that fails fails every call on it (they may
//     have been processed), and the calls waiting for a stream as not
//     written. Calls above a GOAWAY's last-stream-id and calls waiting for
//     a stream on a draining connection end with a StreamError that is
//     Unprocessed, as do calls the server refused (REFUSED_STREAM): the
//     driver sends them once more, as one at a time (see Retryable and
//     Group). A drained connection closes once its last call ends.
//   - A call that times out, is interrupted or whose Stream is closed gives
//     its stream up (RST_STREAM CANCEL) and leaves the connection to the
//     others; one waiting for a stream gives its place up.

// Where a Stream's call is, guarded by Mux.mu.
const (
	phaseIdle    = iota // no call
	phaseWaiting        // waiting for a stream
	phaseGranted        // given a stream, not yet told
	phaseOpen           // its stream is open
	phaseEnded          // its outcome is in err
)

// Mux is an HTTP/2 connection that carries several calls at once, each
// made with a Stream of its own, from any goroutine.
type Mux struct {
	c *Conn
	// mu guards the fields below and c's state: its send buffer, windows,
	// stream identifiers, decoder and GOAWAY.
	mu      sync.Mutex
	streams map[uint32]*Stream
	active  int // streams open or granted
	// waiting calls get a stream in turn.
	waiting []*Stream
	// windowWait is closed when a send window grows; nil while no call
	// waits for one.
	windowWait chan struct{}
	// broken says why the connection ended, once it did.
	broken error
	// wmu is held while writing; spare is the buffer frames are queued in
	// while the other is written.
	wmu          sync.Mutex
	spare        []byte
	writeTimeout time.Duration
	// readerDone is closed when the reader stopped.
	readerDone chan struct{}
}

// errDrained ends a connection whose last call ended after a GOAWAY.
var errDrained = errors.New("http2: the connection was drained (GOAWAY) and its last call ended")

// NewMux starts HTTP/2 on an open connection, as New does, and the
// goroutine that reads it. Each write must end within writeTimeout.
func NewMux(nc net.Conn, writeTimeout time.Duration) (*Mux, error) {
	c, err := start(nc, false)
	if err != nil {
		return nil, err
	}
	// The reader waits for frames however long calls take; writes have
	// deadlines of their own.
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	m := newMux(c, writeTimeout)
	go m.readLoop()
	return m, nil
}

func newMux(c *Conn, writeTimeout time.Duration) *Mux {
	m := &Mux{c: c, streams: map[uint32]*Stream{}, writeTimeout: writeTimeout, readerDone: make(chan struct{})}
	c.mux = m
	return m
}

// Usable says whether the connection may take another call.
func (m *Mux) Usable() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.broken == nil && m.c.Usable()
}

// Close fails the calls in flight and closes the connection.
func (m *Mux) Close() { m.fail(net.ErrClosed) }

// Stream is one caller's way of making calls on Muxes, one at a time: the
// call's state, the signal that its outcome came, and its timer.
type Stream struct {
	call
	phase int
	err   error
	done  chan struct{}
	timer *time.Timer
	// sent is when a call held back for a stream went out.
	sent time.Time
	// closed is closed by Close, ending a call in progress at once.
	closed    chan struct{}
	closeOnce sync.Once
}

// NewStream makes a Stream.
func NewStream() *Stream {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Stream{done: make(chan struct{}, 1), timer: t, closed: make(chan struct{})}
}

// Status is the :status of the last call's response; 0 before one came.
func (s *Stream) Status() int { return s.status }

// Sent is when the last call went out, if it was held back for a stream
// (the server's limit was reached); zero when it went out at once.
func (s *Stream) Sent() time.Time { return s.sent }

// Close ends the call in progress at once, with net.ErrClosed, and every
// later call. It reports whether it closed s, and not an earlier Close.
func (s *Stream) Close() (first bool) {
	s.closeOnce.Do(func() {
		close(s.closed)
		first = true
	})
	return first
}

// Closed says whether Close was called.
func (s *Stream) Closed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// signal wakes the call of s; its channel holds one signal, and a call
// takes each before the next can come.
func signal(s *Stream) {
	select {
	case s.done <- struct{}{}:
	default:
	}
}

// grant gives free streams to waiting calls; mu is held.
func (m *Mux) grant() {
	for len(m.waiting) > 0 && m.active < m.c.peerMaxStreams {
		s := m.waiting[0]
		m.waiting[0] = nil
		m.waiting = m.waiting[1:]
		m.active++
		s.phase = phaseGranted
		signal(s)
	}
}

// windowGrew wakes calls waiting for a send window; mu is held.
func (m *Mux) windowGrew() {
	if m.windowWait != nil {
		close(m.windowWait)
		m.windowWait = nil
	}
}

// end hands an open or waiting call its outcome; mu is held.
func (m *Mux) end(s *Stream, outcome error) {
	s.phase = phaseEnded
	s.err = outcome
	signal(s)
}

// goAway takes a GOAWAY: calls above last were not processed and end now,
// as do calls waiting for a stream; the rest go on. mu is held.
func (m *Mux) goAway(last uint32) {
	for id, s := range m.streams {
		if id > last {
			delete(m.streams, id)
			m.active--
			m.end(s, &StreamError{GoAway: true})
		}
	}
	for _, s := range m.waiting {
		m.end(s, &StreamError{GoAway: true})
	}
	clear(m.waiting)
	m.waiting = m.waiting[:0]
}

// fail ends the connection: every call on it fails with err, and the
// calls waiting for a stream as not written.
func (m *Mux) fail(err error) {
	m.mu.Lock()
	if m.broken == nil {
		m.broken = err
		for id, s := range m.streams {
			delete(m.streams, id)
			m.end(s, &TransportError{Err: err})
		}
		for _, s := range m.waiting {
			m.end(s, &TransportError{Err: err, Unwritten: true})
		}
		clear(m.waiting)
		m.waiting, m.active = m.waiting[:0], 0
		m.windowGrew()
	}
	m.mu.Unlock()
	m.c.nc.Close()
}

// drained says whether a draining connection's last call ended; mu is
// held.
func (m *Mux) drained() bool {
	return m.c.goAway && m.active == 0 && len(m.waiting) == 0 && m.broken == nil
}

// flush writes the queued frames, unless another call is writing: that one
// then writes them after its own, as it looks again once it let go of the
// writer's lock. A write that fails fails the connection.
func (m *Mux) flush() {
	c := m.c
	for {
		if !m.wmu.TryLock() {
			return
		}
		m.mu.Lock()
		buf := c.out
		c.out = m.spare[:0]
		m.mu.Unlock()
		var err error
		if len(buf) > 0 {
			if err = c.nc.SetWriteDeadline(time.Now().Add(m.writeTimeout)); err == nil {
				_, err = c.nc.Write(buf)
			}
		}
		// Frames queued while this write held the writer's lock, by a
		// call that then could not take it, go now. The writer's lock is
		// let go under mu: a call that queues after this look takes it.
		m.mu.Lock()
		m.spare = buf[:0]
		m.wmu.Unlock()
		more := len(c.out) > 0 && m.broken == nil
		m.mu.Unlock()
		if err != nil {
			m.fail(&TransportError{Err: err, Timeout: errors.Is(err, os.ErrDeadlineExceeded)})
			return
		}
		if !more {
			return
		}
	}
}

// readLoop is the connection's reader: it runs until the connection ends.
func (m *Mux) readLoop() {
	defer close(m.readerDone)
	c := m.c
	for {
		typ, flags, id, payload, err := c.readFrame()
		if err != nil {
			m.fail(err)
			return
		}
		m.mu.Lock()
		if m.broken != nil {
			m.mu.Unlock()
			return
		}
		s, done, err := c.handle(typ, flags, id, payload)
		c.r.Discard(frameHeaderLen + len(payload))
		if err != nil && (s == nil || !isStreamError(err)) {
			m.mu.Unlock()
			m.fail(err)
			return
		}
		if s != nil && (done || err != nil) {
			m.finish(m.streams[s.id], err)
		}
		if c.unacked > maxWindow/2 {
			c.out = appendFrameHeader(c.out, 4, frameWindowUpdate, 0, 0)
			c.out = binary.BigEndian.AppendUint32(c.out, uint32(c.unacked))
			c.unacked = 0
		}
		queued := len(c.out) > 0
		drained := m.drained()
		m.mu.Unlock()
		if drained {
			m.fail(errDrained)
			return
		}
		if queued {
			m.flush()
		}
	}
}

// finish hands an open call its outcome; mu is held.
func (m *Mux) finish(s *Stream, outcome error) {
	if s == nil || s.phase != phaseOpen {
		return
	}
	delete(m.streams, s.id)
	m.active--
	m.end(s, outcome)
	m.grant()
}

// Call sends one request on a stream of the connection and waits for its
// response to the end, or for deadline, ctx's end or s's Close. block is
// the request's header block (see HeaderBlock), the body body[0] followed
// by body[1]; the response's fields and DATA go to recv, from the reader's
// goroutine, and its :status to s.Status. The outcome is nil (the stream
// ended after a response), a *StreamError, a *TransportError (Timeout
// when the deadline passed), ctx's error or net.ErrClosed.
func (m *Mux) Call(ctx context.Context, s *Stream, deadline time.Time, block []byte, body [2][]byte, recv Receiver) error {
	s.sent = time.Time{}
	if s.Closed() {
		return net.ErrClosed
	}
	s.timer.Reset(time.Until(deadline))
	defer s.timer.Stop()
	c := m.c
	m.mu.Lock()
	switch {
	case m.broken != nil:
		err := m.broken
		m.mu.Unlock()
		return &TransportError{Err: err, Unwritten: true}
	case !c.Usable():
		m.mu.Unlock()
		return &StreamError{GoAway: true}
	}
	s.err = nil
	if m.active >= c.peerMaxStreams || len(m.waiting) > 0 {
		s.phase = phaseWaiting
		m.waiting = append(m.waiting, s)
		m.mu.Unlock()
		if err := s.wait(ctx); err != nil {
			return m.abandon(s, err)
		}
		s.sent = time.Now()
		m.mu.Lock()
		switch {
		case s.phase == phaseEnded: // the connection failed or drained meanwhile
			err := s.err
			s.phase = phaseIdle
			m.mu.Unlock()
			return err
		case m.broken != nil:
			err := m.broken
			s.phase = phaseIdle
			m.mu.Unlock()
			return &TransportError{Err: err, Unwritten: true}
		case !c.Usable():
			m.active--
			s.phase = phaseIdle
			m.grant()
			drained := m.drained()
			m.mu.Unlock()
			if drained {
				m.fail(errDrained)
			}
			return &StreamError{GoAway: true}
		}
	} else {
		m.active++
	}
	s.open(c.nextStream, c.peerStreamWindow, recv)
	c.nextStream += 2
	s.phase = phaseOpen
	m.streams[s.id] = s
	left := len(body[0]) + len(body[1])
	c.out = appendHeaders(c.out, s.id, block, c.peerMaxFrame, left == 0)
	pending := body
	for left > 0 && s.phase == phaseOpen {
		n := c.appendData(&s.call, &pending, left)
		left -= n
		if n > 0 && (len(c.out) < maxQueued || left == 0) {
			continue
		}
		// Out of window, or a large body: send what is queued (and wait
		// until the server grants more).
		var grown chan struct{}
		if n == 0 {
			if m.windowWait == nil {
				m.windowWait = make(chan struct{})
			}
			grown = m.windowWait
		}
		m.mu.Unlock()
		m.flush()
		if grown != nil {
			select {
			case <-grown:
			case <-s.done:
				// The server answered (or the connection failed) before
				// the body was sent: the outcome is in.
				signal(s)
			case <-s.timer.C:
				return m.abandon(s, &TransportError{Err: os.ErrDeadlineExceeded, Timeout: true})
			case <-ctx.Done():
				return m.abandon(s, ctx.Err())
			case <-s.closed:
				return m.abandon(s, net.ErrClosed)
			}
		}
		m.mu.Lock()
	}
	if left > 0 && s.phase == phaseEnded && m.broken == nil {
		// The response came before the whole body went out: the rest is
		// not wanted, and the stream is closed for the server too.
		c.out = appendFrameHeader(c.out, 4, frameRSTStream, 0, s.id)
		c.out = binary.BigEndian.AppendUint32(c.out, ErrCodeCancel)
	}
	m.mu.Unlock()
	m.flush()
	if err := s.wait(ctx); err != nil {
		return m.abandon(s, err)
	}
	m.mu.Lock()
	err := s.err
	s.phase, s.recv = phaseIdle, nil
	m.mu.Unlock()
	return err
}

// wait waits for the call's signal: a stream, or its outcome.
func (s *Stream) wait(ctx context.Context) error {
	select {
	case <-s.done:
		return nil
	case <-s.timer.C:
		return &TransportError{Err: os.ErrDeadlineExceeded, Timeout: true}
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return net.ErrClosed
	}
}

// abandon gives the call's stream, or its place in line, up after a
// timeout, an interrupt or Close, and returns err; the reader no longer
// calls the call's Receiver, and s is ready for the next call.
func (m *Mux) abandon(s *Stream, err error) error {
	c := m.c
	m.mu.Lock()
	switch s.phase {
	case phaseWaiting:
		for i, w := range m.waiting {
			if w == s {
				m.waiting = append(m.waiting[:i], m.waiting[i+1:]...)
				break
			}
		}
	case phaseGranted:
		m.active--
		m.grant()
	case phaseOpen:
		delete(m.streams, s.id)
		m.active--
		m.grant()
		if m.broken == nil {
			c.out = appendFrameHeader(c.out, 4, frameRSTStream, 0, s.id)
			c.out = binary.BigEndian.AppendUint32(c.out, ErrCodeCancel)
		}
	}
	// A signal sent before the call gave up is taken, so the next call
	// does not see it.
	select {
	case <-s.done:
	default:
	}
	s.phase, s.recv = phaseIdle, nil
	// A draining connection whose last call this was closes now.
	drained := m.drained()
	m.mu.Unlock()
	if drained {
		m.fail(errDrained)
	} else {
		m.flush()
	}
	return err
}

// isStreamError reports whether err is or wraps a StreamError (the
// failure of one call, not of the connection); asked only of an error,
// so that the read loop allocates nothing per frame.
func isStreamError(err error) bool {
	var se *StreamError
	return errors.As(err, &se)
}
