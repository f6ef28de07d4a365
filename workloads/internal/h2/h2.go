// Package h2 is the HTTP/2 client layer tailgate's gRPC and HTTP drivers
// share: frames, HPACK, flow control and the connection's lifecycle.
package h2

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// A Conn carries one call at a time: the drivers' engine calls Do from one
// worker per connection. That is all a load generator needs of HTTP/2 for
// one stream per connection, and it makes that path small: streams are
// opened in turn and never interleave, so there is no stream table, no
// writer goroutine and no reader goroutine, and a call is one write of its
// HEADERS and DATA frames and reads of the reply on the worker's
// goroutine. Only a connection that idles between calls is read by another
// goroutine, its watcher (see idle.go). Several calls at once on one
// connection (workload.streams above 1) go through a Mux instead (see
// mux.go), which shares the frame handling below.
//
// What the protocol asks of a client is kept: the preface and SETTINGS
// exchange, acknowledging the server's SETTINGS and answering its PINGs,
// flow control both ways (the client grants the largest windows and tops
// the connection's up; it sends no more than the server grants), HPACK
// decoding of every header block (those of abandoned streams too, which
// keeps the decoder's table in step), CONTINUATION, padding, RST_STREAM and
// GOAWAY. Request headers are encoded as literals that never touch the
// server's table, so each request's block is built once. Frames are only
// consumed once whole in the read buffer, so a call that times out leaves
// the connection in step: its stream is reset with the next call's frames
// and the connection is kept, as grpc-go keeps it.
//
// What a response means (a gRPC status, an HTTP status) is the driver's:
// Call hands the response's header fields and DATA to the call's Receiver
// and says how the stream ended.

// HTTP/2 frame types and flags used here.
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9

	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20

	settingHeaderTableSize      = 0x1
	settingEnablePush           = 0x2
	settingMaxConcurrentStreams = 0x3
	settingInitialWindowSize    = 0x4
	settingMaxFrameSize         = 0x5

	frameHeaderLen = 9
	// maxFrameLen is the largest frame payload the client accepts: the
	// protocol's default, which it does not raise.
	maxFrameLen = 16384
	// maxWindow is the flow-control window the client grants, on the
	// connection and on every stream: the largest there is.
	maxWindow = 1<<31 - 1
	// maxStreamID is where a connection is retired: stream identifiers
	// cannot be reused.
	maxStreamID = 1<<31 - 1 - 2
	// maxHeaderBlock bounds a reply's header block, CONTINUATIONs included.
	maxHeaderBlock = 1 << 20
	// unlimitedStreams stands for a server that set no
	// SETTINGS_MAX_CONCURRENT_STREAMS.
	unlimitedStreams = 1 << 30
)

// clientPreface opens every connection, with the client's SETTINGS (no
// push, the largest stream window) and a WINDOW_UPDATE that opens the
// connection's window as wide.
var clientPreface = func() []byte {
	b := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	b = appendFrameHeader(b, 12, frameSettings, 0, 0)
	b = binary.BigEndian.AppendUint16(b, settingEnablePush)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint16(b, settingInitialWindowSize)
	b = binary.BigEndian.AppendUint32(b, maxWindow)
	b = appendFrameHeader(b, 4, frameWindowUpdate, 0, 0)
	b = binary.BigEndian.AppendUint32(b, maxWindow-65535)
	return b
}()

func appendFrameHeader(b []byte, length int, typ, flags byte, stream uint32) []byte {
	b = append(b, byte(length>>16), byte(length>>8), byte(length), typ, flags)
	return binary.BigEndian.AppendUint32(b, stream&(1<<31-1))
}

// The RST_STREAM error codes the client reads or sends by name.
const (
	// ErrCodeRefusedStream says the server did not process the stream.
	ErrCodeRefusedStream = 0x7
	// ErrCodeCancel is what the client resets a timed-out stream with.
	ErrCodeCancel = 0x8
)

// StreamError ends a call whose stream the server reset (RST_STREAM with
// Code), or left unprocessed above the last-stream-id of a GOAWAY.
type StreamError struct {
	Code uint32
	// GoAway says the server is draining the connection and will never
	// process the stream.
	GoAway bool
}

func (e *StreamError) Error() string {
	if e.GoAway {
		return "the connection is draining (GOAWAY): the call was not processed"
	}
	return fmt.Sprintf("stream terminated by RST_STREAM with error code: %d", e.Code)
}

// Unprocessed says the server provably did not process the stream: it
// refused it (REFUSED_STREAM, RFC 9113, 8.7) or it is above a GOAWAY's
// last-stream-id (RFC 9113, 6.8).
func (e *StreamError) Unprocessed() bool { return e.GoAway || e.Code == ErrCodeRefusedStream }

// TransportError is a failure of the connection itself; the call's stream
// did not end. Timeout says the socket's deadline passed; Unwritten says
// it failed before any byte of the call was written.
type TransportError struct {
	Err       error
	Timeout   bool
	Unwritten bool
}

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// Retryable says whether a call's outcome proves that the server did not
// process the call, so it may go out again on a fresh connection (see
// idle.go for the rules).
func Retryable(err error) bool {
	switch e := err.(type) {
	case *StreamError:
		return e.Unprocessed()
	case *TransportError:
		return e.Unwritten
	}
	return false
}

// Receiver takes what a call's response carries besides :status: every
// other field of its header blocks (headers, then trailers) and the
// payload of every DATA frame, padding removed. The slices are valid only
// during the call.
type Receiver interface {
	Field(f hpack.HeaderField)
	Data(p []byte)
}

// Conn is one HTTP/2 connection; its methods run on one goroutine, but
// for the idle watcher's (see idle.go). A Mux's Conn is shared under the
// Mux's lock instead.
type Conn struct {
	nc  net.Conn
	sc  *sock.Conn // raw I/O of a plain TCP connection; nil over TLS
	r   *bufio.Reader
	out []byte
	dec *hpack.Decoder

	nextStream uint32
	// peerMaxFrame, peerMaxStreams and the send windows are what the
	// server allows.
	peerMaxFrame     int
	peerMaxStreams   int
	peerStreamWindow int64
	connWindow       int64
	// unacked counts DATA received since the connection's window was
	// last topped up.
	unacked int64
	// goAway is set once the server said it ends the connection; streams
	// above lastStream were never processed.
	goAway     bool
	lastStream uint32
	// resetStream is a timed-out stream to reset with the next frames.
	resetStream uint32
	// lazyPings lets PING acknowledgements wait for the next call's write
	// (see Call); pongs holds those waiting.
	lazyPings bool
	pongs     []byte
	// written counts the bytes the call in progress wrote itself; queued
	// says the rest went to the read that waits for the reply (see send).
	written int
	queued  bool

	// Between calls (see idle.go): the state, shared with the watcher;
	// when the last call began (Unix nanoseconds); the timer that starts
	// the watcher; mu guards stopWatch and the watcher's deadline.
	state     atomic.Int32
	lastUse   atomic.Int64
	idle      *time.Timer
	mu        sync.Mutex
	stopWatch bool
	watchDone chan struct{}
	// dead says why the watcher found the connection unusable.
	dead error

	// cur is the call in progress, nil between calls; one is the storage
	// of the calls made one at a time. mux is set for a Mux's connection,
	// whose calls are in its table instead.
	cur *call
	one call
	mux *Mux
	// The header block being decoded: blockFor is its stream's call (nil
	// for a stream no call waits on).
	blockFor    *call
	blockStream uint32
	blockEnds   bool // the header block being decoded ends its stream
	inBlock     bool
	blockLen    int
}

// call is one stream's call: its send window and what the response said
// so far.
type call struct {
	id          uint32
	window      int64
	recv        Receiver
	headersSeen bool // the response's HEADERS (not the trailers) came
	status      int
}

// open readies the call for stream id, its response going to recv.
func (s *call) open(id uint32, window int64, recv Receiver) {
	s.id, s.window, s.recv = id, window, recv
	s.headersSeen, s.status = false, 0
}

// New starts HTTP/2 on an open connection: it sends the preface and
// SETTINGS and reads the server's SETTINGS, which must come first. The
// caller holds the connection, as after Acquire, until it calls Release.
func New(nc net.Conn) (*Conn, error) {
	c, err := start(nc, true)
	if err != nil {
		return nil, err
	}
	c.startIdleWatch()
	return c, nil
}

// start starts HTTP/2 on nc, through its raw socket when raw is set and
// it has one (see sock.New).
func start(nc net.Conn, raw bool) (*Conn, error) {
	c := &Conn{nc: nc, nextStream: 1, peerMaxFrame: maxFrameLen, peerMaxStreams: unlimitedStreams, peerStreamWindow: 65535, connWindow: 65535}
	c.dec = hpack.NewDecoder(4096, c.field)
	var src io.Reader = nc
	if sc, ok := sock.New(nc); ok && raw {
		c.sc, src = sc, sc
	}
	c.r = bufio.NewReaderSize(src, 2*(frameHeaderLen+maxFrameLen))
	c.out = append(c.out[:0], clientPreface...)
	if _, err := c.flush(); err != nil {
		return nil, err
	}
	typ, flags, _, payload, err := c.readFrame()
	if err != nil {
		return nil, err
	}
	if typ != frameSettings || flags&flagAck != 0 {
		return nil, errors.New("http2: the server did not start with SETTINGS: does it speak HTTP/2?")
	}
	if err := c.settings(payload); err != nil {
		return nil, err
	}
	c.r.Discard(frameHeaderLen + len(payload))
	if _, err := c.flush(); err != nil {
		return nil, err
	}
	return c, nil
}

// Usable says whether the connection may carry another call.
func (c *Conn) Usable() bool { return !c.goAway && c.nextStream <= maxStreamID }

// SetLazyPings lets the acknowledgements of PINGs read during the next
// calls wait for the following call's frames instead of a write of their
// own; drivers set it while calls come faster than IdleAfter.
func (c *Conn) SetLazyPings(lazy bool) { c.lazyPings = lazy }

// Status is the :status of the last call's response; 0 before one came.
func (c *Conn) Status() int { return c.one.status }

// flush writes the pending frames now and says how many bytes went out.
func (c *Conn) flush() (int, error) {
	if len(c.out) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if c.sc != nil {
		n, err = c.sc.Write(c.out)
	} else {
		n, err = c.nc.Write(c.out)
	}
	c.out = c.out[:0]
	return n, err
}

// flushCall writes the call's pending frames now; a failure before any
// byte of the call was written is marked so.
func (c *Conn) flushCall() error {
	n, err := c.flush()
	c.written += n
	if err != nil {
		return &TransportError{Err: err, Unwritten: c.unwritten()}
	}
	return nil
}

// send queues the pending frames to go out with the next read, which then
// waits for the reply; over TLS, or when frames are already buffered (so
// the next read may not come from the socket), it writes them now. c.out
// is only appended to again after that read.
func (c *Conn) send() error {
	if c.sc != nil && c.r.Buffered() == 0 {
		c.sc.Send(c.out)
		c.out = c.out[:0]
		c.queued = true
		return nil
	}
	return c.flushCall()
}

// unwritten says whether not one byte of the call in progress went out.
func (c *Conn) unwritten() bool {
	return c.written == 0 && (!c.queued || c.sc.Wrote() == 0)
}

// begin opens the next stream for a call whose response goes to recv.
func (c *Conn) begin(recv Receiver) {
	c.one.open(c.nextStream, c.peerStreamWindow, recv)
	c.cur = &c.one
	c.nextStream += 2
	c.written, c.queued = 0, false
}

// Call sends one request and reads its response to the end. block is the
// request's header block (see HeaderBlock); the body is body[0] followed
// by body[1], either or both empty (a request without a body ends its
// stream with its HEADERS). The response's fields and DATA go to recv,
// its :status to Status. The outcome is nil (the stream ended after a
// response), a *StreamError or a *TransportError.
func (c *Conn) Call(block []byte, body [2][]byte, recv Receiver) error {
	c.begin(recv)
	c.out = append(c.out, c.pongs...)
	c.pongs = c.pongs[:0]
	if c.resetStream != 0 {
		c.out = appendFrameHeader(c.out, 4, frameRSTStream, 0, c.resetStream)
		c.out = binary.BigEndian.AppendUint32(c.out, ErrCodeCancel)
		c.resetStream = 0
	}
	if c.unacked > maxWindow/2 {
		c.out = appendFrameHeader(c.out, 4, frameWindowUpdate, 0, 0)
		c.out = binary.BigEndian.AppendUint32(c.out, uint32(c.unacked))
		c.unacked = 0
	}
	left := len(body[0]) + len(body[1])
	c.out = appendHeaders(c.out, c.one.id, block, c.peerMaxFrame, left == 0)
	pending := body
	for left > 0 {
		n := c.appendData(&c.one, &pending, left)
		if n == 0 {
			// Out of window: send what is queued and read until the
			// server grants more (or answers already).
			if err := c.flushCall(); err != nil {
				return err
			}
			done, err := c.readOne()
			if err != nil || done {
				return c.outcome(err)
			}
			continue
		}
		left -= n
		if len(c.out) >= maxQueued && left > 0 {
			// A large body goes out as it is framed, not all at once.
			if err := c.flushCall(); err != nil {
				return err
			}
		}
	}
	if err := c.send(); err != nil {
		return err
	}
	for {
		done, err := c.readOne()
		if err != nil || done {
			return c.outcome(err)
		}
	}
}

// maxQueued is how many bytes of frames a call queues before it writes
// them, so a large body does not sit in memory twice.
const maxQueued = 256 << 10

// appendHeaders appends a request's HEADERS frame, and CONTINUATIONs when
// the block is longer than a frame; end ends the stream with it.
func appendHeaders(out []byte, stream uint32, block []byte, maxFrame int, end bool) []byte {
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), maxFrame)
		typ, flags := byte(frameContinuation), byte(0)
		if first {
			typ = frameHeaders
			if end {
				flags |= flagEndStream
			}
		}
		if n == len(block) {
			flags |= flagEndHeaders
		}
		out = appendFrameHeader(out, n, typ, flags, stream)
		out = append(out, block[:n]...)
		block = block[n:]
	}
	return out
}

// appendData queues the next DATA frame of s's body, the left bytes of
// pending, as far as the windows allow, and says how many bytes it took:
// 0 when a window is closed. The frame that takes the last byte ends the
// stream.
func (c *Conn) appendData(s *call, pending *[2][]byte, left int) int {
	room := int(min(int64(c.peerMaxFrame), c.connWindow, s.window))
	if room <= 0 {
		return 0
	}
	n := min(room, left)
	flags := byte(0)
	if n == left {
		flags = flagEndStream
	}
	c.out = appendFrameHeader(c.out, n, frameData, flags, s.id)
	for k := n; k > 0; {
		take := min(k, len(pending[0]))
		c.out = append(c.out, pending[0][:take]...)
		pending[0] = pending[0][take:]
		k -= take
		if len(pending[0]) == 0 {
			pending[0], pending[1] = pending[1], nil
		}
	}
	c.connWindow -= int64(n)
	s.window -= int64(n)
	return n
}

// outcome turns the end of a call into its result.
func (c *Conn) outcome(err error) error {
	c.one.recv = nil
	c.cur = nil
	return streamOutcome(err, func() { c.resetStream = c.one.id })
}

// streamOutcome is what ended a call's stream, as its result: nil, a
// *StreamError or a *TransportError; timedOut runs when the call timed
// out, so its stream is reset.
func streamOutcome(err error, timedOut func()) error {
	if err == nil {
		return nil
	}
	var te *TransportError
	var se *StreamError
	switch {
	case errors.As(err, &te):
		if te.Timeout {
			timedOut()
		}
		return err
	case errors.As(err, &se):
		return err
	}
	return &TransportError{Err: err}
}

// readOne reads and handles one frame of the call one at a time; done
// says its stream ended.
func (c *Conn) readOne() (done bool, err error) {
	typ, flags, stream, payload, err := c.readFrame()
	if err != nil {
		return false, err
	}
	defer c.r.Discard(frameHeaderLen + len(payload))
	s, done, err := c.handle(typ, flags, stream, payload)
	return done && s == c.cur && s != nil, err
}

// streamFor is the call on stream id, or nil when no call waits on it.
func (c *Conn) streamFor(id uint32) *call {
	if c.mux != nil {
		if s := c.mux.streams[id]; s != nil {
			return &s.call
		}
		return nil
	}
	if c.cur != nil && c.cur.id == id {
		return c.cur
	}
	return nil
}

// handle handles one frame. s is the call whose stream the frame ended
// (done) or failed (a *StreamError); any other error fails the
// connection. A Mux's reader calls it under the Mux's lock.
func (c *Conn) handle(typ, flags byte, stream uint32, payload []byte) (s *call, done bool, err error) {
	if c.inBlock && typ != frameContinuation {
		return nil, false, errors.New("http2: a header block was interrupted")
	}
	switch typ {
	case frameData, frameHeaders, frameRSTStream, frameContinuation, framePriority:
		if stream == 0 {
			return nil, false, fmt.Errorf("http2: a frame of type %d on stream 0", typ)
		}
	}
	switch typ {
	case frameData:
		// Padding counts against flow control like the data.
		c.unacked += int64(len(payload))
		data := payload
		if flags&flagPadded != 0 {
			if data, err = unpad(payload); err != nil {
				return nil, false, err
			}
		}
		s := c.streamFor(stream)
		if s == nil {
			return nil, false, nil
		}
		if !s.headersSeen {
			return nil, false, errors.New("http2: DATA before the response's HEADERS")
		}
		if s.recv != nil && len(data) > 0 {
			s.recv.Data(data)
		}
		return s, flags&flagEndStream != 0, nil
	case frameHeaders:
		frag := payload
		if flags&flagPadded != 0 {
			if frag, err = unpad(frag); err != nil {
				return nil, false, err
			}
		}
		if flags&flagPriority != 0 {
			if len(frag) < 5 {
				return nil, false, errors.New("http2: short HEADERS frame")
			}
			frag = frag[5:]
		}
		c.blockStream, c.blockEnds, c.blockFor = stream, flags&flagEndStream != 0, c.streamFor(stream)
		c.blockLen = 0
		return c.headerFragment(frag, flags&flagEndHeaders != 0)
	case frameContinuation:
		if !c.inBlock || stream != c.blockStream {
			return nil, false, errors.New("http2: CONTINUATION out of place")
		}
		return c.headerFragment(payload, flags&flagEndHeaders != 0)
	case frameRSTStream:
		if len(payload) != 4 {
			return nil, false, errors.New("http2: RST_STREAM of the wrong size")
		}
		s := c.streamFor(stream)
		if s == nil {
			return nil, false, nil
		}
		return s, true, &StreamError{Code: binary.BigEndian.Uint32(payload)}
	case frameSettings:
		if stream != 0 {
			return nil, false, errors.New("http2: SETTINGS on a stream")
		}
		if flags&flagAck != 0 {
			return nil, false, nil
		}
		if err := c.settings(payload); err != nil {
			return nil, false, err
		}
		if c.mux != nil {
			// The reader writes the acknowledgement once it let go of
			// the lock; a new limit or window may let calls go on.
			c.mux.grant()
			c.mux.windowGrew()
			return nil, false, nil
		}
		_, err := c.flush()
		return nil, false, err
	case framePing:
		if len(payload) != 8 {
			return nil, false, errors.New("http2: PING of the wrong size")
		}
		if flags&flagAck != 0 {
			return nil, false, nil
		}
		if c.mux != nil {
			c.out = appendFrameHeader(c.out, 8, framePing, flagAck, 0)
			c.out = append(c.out, payload...)
			return nil, false, nil
		}
		// grpc-go servers ping once per call to estimate the bandwidth-
		// delay product. Between calls that come in quick succession,
		// the acknowledgement goes out with the next call's frames
		// instead of in a write of its own; otherwise at once.
		c.pongs = appendFrameHeader(c.pongs, 8, framePing, flagAck, 0)
		c.pongs = append(c.pongs, payload...)
		if c.lazyPings {
			return nil, false, nil
		}
		c.out = append(c.out, c.pongs...)
		c.pongs = c.pongs[:0]
		_, err := c.flush()
		return nil, false, err
	case frameGoAway:
		if len(payload) < 8 {
			return nil, false, errors.New("http2: GOAWAY of the wrong size")
		}
		c.goAway = true
		c.lastStream = binary.BigEndian.Uint32(payload) & (1<<31 - 1)
		if c.mux != nil {
			c.mux.goAway(c.lastStream)
			return nil, false, nil
		}
		if c.cur != nil && c.cur.id > c.lastStream {
			// Not processed, and never will be: the call may go out
			// again on another connection.
			return c.cur, true, &StreamError{GoAway: true}
		}
		return nil, false, nil
	case frameWindowUpdate:
		if len(payload) != 4 {
			return nil, false, errors.New("http2: WINDOW_UPDATE of the wrong size")
		}
		inc := int64(binary.BigEndian.Uint32(payload) & (1<<31 - 1))
		if stream == 0 {
			c.connWindow += inc
		} else if s := c.streamFor(stream); s != nil {
			s.window += inc
		} else {
			return nil, false, nil
		}
		if c.mux != nil {
			c.mux.windowGrew()
		}
		return nil, false, nil
	case framePushPromise:
		return nil, false, errors.New("http2: PUSH_PROMISE, though push is off")
	case framePriority:
		if len(payload) != 5 {
			return nil, false, errors.New("http2: PRIORITY of the wrong size")
		}
	}
	return nil, false, nil // PRIORITY and unknown frames are ignored
}

// headerFragment decodes one fragment of a header block.
func (c *Conn) headerFragment(frag []byte, last bool) (s *call, done bool, err error) {
	c.blockLen += len(frag)
	if c.blockLen > maxHeaderBlock {
		return nil, false, fmt.Errorf("http2: a header block longer than %d bytes", maxHeaderBlock)
	}
	c.inBlock = !last
	if _, err := c.dec.Write(frag); err != nil {
		return nil, false, fmt.Errorf("http2: decoding headers: %w", err)
	}
	if !last {
		return nil, false, nil
	}
	if err := c.dec.Close(); err != nil {
		return nil, false, fmt.Errorf("http2: decoding headers: %w", err)
	}
	s = c.blockFor
	if s == nil {
		return nil, false, nil
	}
	if !s.headersSeen {
		switch {
		case s.status == 0:
			return nil, false, errors.New("http2: a response without :status")
		case s.status < 200:
			// An interim response (100 Continue, 103 Early Hints): the
			// real one follows (RFC 9113, 8.1).
			if c.blockEnds {
				return nil, false, fmt.Errorf("http2: an interim response (%d) ends its stream", s.status)
			}
			s.status = 0
			return nil, false, nil
		}
		s.headersSeen = true
	}
	return s, c.blockEnds, nil
}

// field receives each decoded header field.
func (c *Conn) field(f hpack.HeaderField) {
	s := c.blockFor
	if s == nil {
		return
	}
	if f.Name == ":status" {
		if !s.headersSeen {
			s.status = parseStatus(f.Value)
		}
		return
	}
	if s.recv != nil {
		s.recv.Field(f)
	}
}

// parseStatus reads a :status, three digits; 0 when it is not that.
func parseStatus(v string) int {
	if len(v) != 3 {
		return 0
	}
	n := 0
	for i := 0; i < 3; i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0
		}
		n = n*10 + int(v[i]-'0')
	}
	return n
}

// settings applies the server's SETTINGS and queues their acknowledgement.
func (c *Conn) settings(p []byte) error {
	if len(p)%6 != 0 {
		return errors.New("http2: SETTINGS of the wrong size")
	}
	for ; len(p) > 0; p = p[6:] {
		id, v := binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[2:])
		switch id {
		case settingInitialWindowSize:
			if v > maxWindow {
				return errors.New("http2: SETTINGS_INITIAL_WINDOW_SIZE out of range")
			}
			// Applies to open streams too (RFC 9113, 6.9.2).
			delta := int64(v) - c.peerStreamWindow
			c.one.window += delta
			if c.mux != nil {
				for _, s := range c.mux.streams {
					s.window += delta
				}
			}
			c.peerStreamWindow = int64(v)
		case settingMaxConcurrentStreams:
			c.peerMaxStreams = int(min(v, unlimitedStreams))
		case settingMaxFrameSize:
			if v < maxFrameLen || v > 1<<24-1 {
				return errors.New("http2: SETTINGS_MAX_FRAME_SIZE out of range")
			}
			c.peerMaxFrame = int(v)
		}
	}
	c.out = appendFrameHeader(c.out, 0, frameSettings, flagAck, 0)
	return nil
}

// readFrame returns the next whole frame without consuming it; the caller
// discards it once handled. The payload is valid until then.
func (c *Conn) readFrame() (typ, flags byte, stream uint32, payload []byte, err error) {
	head, err := c.r.Peek(frameHeaderLen)
	if err != nil {
		return 0, 0, 0, nil, c.readError(err)
	}
	length := int(head[0])<<16 | int(head[1])<<8 | int(head[2])
	if length > maxFrameLen {
		return 0, 0, 0, nil, fmt.Errorf("http2: a frame of %d bytes, above the %d the client allows", length, maxFrameLen)
	}
	typ, flags = head[3], head[4]
	stream = binary.BigEndian.Uint32(head[5:]) & (1<<31 - 1)
	frame, err := c.r.Peek(frameHeaderLen + length)
	if err != nil {
		return 0, 0, 0, nil, c.readError(err)
	}
	return typ, flags, stream, frame[frameHeaderLen:], nil
}

func (c *Conn) readError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &TransportError{Err: err, Timeout: c.sc == nil || c.sc.Sent()}
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("the server closed the connection: %w", io.ErrUnexpectedEOF)
	}
	// A read that fails before the call's first byte went out (the queued
	// write failed at once) leaves the call unwritten.
	return &TransportError{Err: err, Unwritten: c.cur != nil && c.queued && c.unwritten()}
}

func unpad(p []byte) ([]byte, error) {
	if len(p) == 0 || int(p[0]) >= len(p) {
		return nil, errors.New("http2: bad padding")
	}
	return p[1 : len(p)-int(p[0])], nil
}

// HeaderBlock encodes a request's headers in HPACK (see AppendStart and
// AppendLiteral): nothing touches the server's table, so the block is the
// same on every connection and at every call.
func HeaderBlock(method, scheme, authority, path string, fields [][2]string) []byte {
	b := AppendStart(nil, method, scheme)
	b = AppendLiteral(b, ":path", path)
	b = AppendLiteral(b, ":authority", authority)
	for _, f := range fields {
		b = AppendLiteral(b, f[0], f[1])
	}
	return b
}

// AppendStart appends a request's :method and :scheme: from the static
// table when it has them (GET, POST; http, https), literals otherwise.
func AppendStart(b []byte, method, scheme string) []byte {
	switch method {
	case "GET":
		b = append(b, 0x82)
	case "POST":
		b = append(b, 0x83)
	default:
		b = AppendLiteral(b, ":method", method)
	}
	switch scheme {
	case "https":
		return append(b, 0x87)
	case "http":
		return append(b, 0x86)
	}
	return AppendLiteral(b, ":scheme", scheme)
}

// AppendLiteral appends a literal header field without indexing, with a
// literal name, neither Huffman-coded.
func AppendLiteral[T ~string | ~[]byte](b []byte, name string, value T) []byte {
	b = append(b, 0x00)
	b = appendHpackString(b, name)
	return appendHpackString(b, value)
}

func appendHpackString[T ~string | ~[]byte](b []byte, s T) []byte {
	n := uint64(len(s))
	if n < 127 {
		b = append(b, byte(n))
	} else {
		b = append(b, 127)
		n -= 127
		for n >= 128 {
			b = append(b, byte(n&0x7f|0x80))
			n >>= 7
		}
		b = append(b, byte(n))
	}
	return append(b, s...)
}
