package h2

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// captureConn stands for the network connection of a Conn whose input
// the test supplies: it keeps what the client writes.
type captureConn struct {
	net.Conn // nil: only Write is called
	out      bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error) { return c.out.Write(p) }

// grpcReply is a Receiver that keeps a gRPC call's status and message, as
// the gRPC driver reads them.
type grpcReply struct {
	status  int // -1 until a grpc-status came
	message string
}

func (g *grpcReply) Field(f hpack.HeaderField) {
	switch f.Name {
	case "grpc-status":
		if n, err := strconv.Atoi(f.Value); err == nil {
			g.status = n
		}
	case "grpc-message":
		g.message = f.Value
	}
}

func (g *grpcReply) Data([]byte) {}

// readerConn is a Conn reading the server's side of a connection from
// in, after the preface and SETTINGS exchange, with a call open on stream.
func readerConn(in []byte, stream uint32) (*Conn, *captureConn, *grpcReply) {
	w := &captureConn{}
	c := &Conn{nc: w, nextStream: stream, peerMaxFrame: maxFrameLen, peerStreamWindow: 65535, connWindow: 65535}
	c.dec = hpack.NewDecoder(4096, c.field)
	c.r = bufio.NewReaderSize(bytes.NewReader(in), 2*(frameHeaderLen+maxFrameLen))
	reply := &grpcReply{status: -1}
	c.begin(reply)
	return c, w, reply
}

// readCalls reads frames as calls in turn would (a call ends, the next
// opens two streams on), until the input ends or the connection fails, and
// returns each call's outcome.
func readCalls(c *Conn, reply *grpcReply) []error {
	var outcomes []error
	for range 10000 {
		done, err := c.readOne()
		if done || err != nil {
			outcomes = append(outcomes, c.outcome(err))
		}
		if err != nil && !errors.As(err, new(*StreamError)) {
			return outcomes
		}
		if done {
			*reply = grpcReply{status: -1}
			c.begin(reply)
		}
	}
	return outcomes
}

// checkWrites fails t unless the client wrote only well-formed SETTINGS
// and PING acknowledgements: all the reader sends of its own.
func checkWrites(t *testing.T, w *captureConn) {
	t.Helper()
	fr := http2.NewFramer(nil, bytes.NewReader(w.out.Bytes()))
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("the client wrote a malformed frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				t.Fatalf("the client wrote SETTINGS that are not an acknowledgement")
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				t.Fatalf("the client wrote a PING that is not an acknowledgement")
			}
		default:
			t.Fatalf("the client wrote %v", f.Header())
		}
	}
}

// rawFrame is a frame of the type, flags and stream, with the payload.
func rawFrame(typ, flags byte, stream uint32, payload ...byte) []byte {
	return append(appendFrameHeader(nil, len(payload), typ, flags, stream), payload...)
}

// addSeeds adds to f's corpus the seed responses, then each of seeds.
func addSeeds(f *testing.F, seeds [][]byte) {
	for _, r := range seedResponses {
		f.Add(r.build())
	}
	for _, seed := range seeds {
		f.Add(seed)
	}
}

// FuzzFrameReader feeds the client's frame reader whatever a server might
// send: it must neither panic nor loop, fail a connection only with an
// error, and answer only with acknowledgements.
func FuzzFrameReader(f *testing.F) {
	addSeeds(f, [][]byte{
		rawFrame(frameHeaders, flagEndHeaders|flagPadded, 1, 200, 0x88),                                  // padding longer than the frame
		rawFrame(frameHeaders, flagEndHeaders|flagPriority, 1, 0, 0, 0),                                  // a priority cut short
		rawFrame(frameContinuation, flagEndHeaders, 1, 0x88),                                             // CONTINUATION with no HEADERS
		append(rawFrame(frameHeaders, 0, 1, 0x88), rawFrame(framePing, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8)...), // a block interrupted
		append(rawFrame(frameHeaders, 0, 1, 0x88), rawFrame(frameContinuation, flagEndHeaders, 3)...),    // CONTINUATION of another stream
		rawFrame(frameGoAway, 0, 0, 0, 0, 0),                                                             // GOAWAY cut short
		rawFrame(frameGoAway, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),                                              // GOAWAY below the call
		rawFrame(framePriority, 0, 1, 0, 0, 0, 3),                                                        // PRIORITY of the wrong size
		rawFrame(framePriority, 0, 0, 0, 0, 0, 3, 16),                                                    // PRIORITY on stream 0
		rawFrame(frameRSTStream, 0, 1, 0, 0, 0, ErrCodeRefusedStream),                                    // refused
		rawFrame(frameRSTStream, 0, 1, 0, 0),                                                             // RST_STREAM of the wrong size
		rawFrame(frameSettings, 0, 0, 0, settingInitialWindowSize, 0x80, 0, 0, 0),                        // a window too large
		rawFrame(frameSettings, 0, 0, 0, settingMaxFrameSize, 0, 0, 0, 1),                                // a frame size too small
		rawFrame(frameSettings, 0, 0, 1),                                                                 // SETTINGS of the wrong size
		rawFrame(frameWindowUpdate, 0, 1, 0x7f, 0xff, 0xff, 0xff),                                        // the largest increment
		rawFrame(frameData, flagPadded|flagEndStream, 1, 4, 0),                                           // DATA padded past its end
		rawFrame(frameData, 0, 0, 1),                                                                     // DATA on stream 0
		rawFrame(framePushPromise, flagEndHeaders, 1, 0, 0, 0, 2),                                        // push, though it is off
		rawFrame(0xfa, 0xff, 7, 1, 2, 3),                                                                 // an unknown frame
		appendFrameHeader(nil, maxFrameLen+1, frameData, 0, 1),                                           // a frame above the maximum
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, w, reply := readerConn(in, 3)
		readCalls(c, reply)
		if c.blockLen > maxHeaderBlock {
			t.Fatalf("a header block of %d bytes was taken", c.blockLen)
		}
		if c.unacked < 0 || c.connWindow < -maxWindow || c.one.window < -maxWindow {
			t.Fatalf("flow control out of range: unacked %d, windows %d and %d", c.unacked, c.connWindow, c.one.window)
		}
		checkWrites(t, w)
	})
}

// response is a server's reply to one call, framed as the fuzzer decides:
// padding, a priority and CONTINUATIONs on its header blocks, padding on
// its DATA, and other frames around it (a reply to an abandoned stream, a
// PING, SETTINGS, a WINDOW_UPDATE, a PRIORITY, a GOAWAY that spares it).
type response struct {
	code    uint8
	message string
	data    uint16 // bytes of DATA
	pad     uint8
	split   uint16 // header blocks are cut into fragments of this size
	extras  uint8  // which other frames come too, a bit each
}

var seedResponses = []response{
	{code: 0, message: "", data: 5},
	{code: 14, message: "draining", data: 0, pad: 7, split: 3, extras: 0xff},
	{code: 5, message: "no tailgate:1 100% \n ü", data: 300, pad: 255, split: 1, extras: 0x15},
	{code: 2, message: "x", data: 16000, pad: 0, split: 40, extras: 0x2a},
}

// dataLen is the length of the DATA, within a frame with its padding.
func (r response) dataLen() int { return min(int(r.data), maxFrameLen-1-int(r.pad)) }

// padding is the DATA frame's padding; none, not even its length byte,
// when pad is 0.
func (r response) padding() []byte {
	if r.pad == 0 {
		return nil
	}
	return make([]byte, r.pad)
}

// build frames the response to stream 5, after the abandoned stream 3.
func (r response) build() []byte {
	var buf, block bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	enc := hpack.NewEncoder(&block)
	split := min(max(int(r.split), 1), maxFrameLen-1-int(r.pad)-5)
	headers := func(stream uint32, end bool, fields ...string) {
		block.Reset()
		for i := 0; i < len(fields); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		b := block.Bytes()
		first := b[:min(split, len(b))]
		p := http2.HeadersFrameParam{StreamID: stream, BlockFragment: first, EndStream: end, EndHeaders: len(first) == len(b), PadLength: r.pad}
		if r.extras&0x1 != 0 {
			p.Priority = http2.PriorityParam{StreamDep: 1, Weight: 15}
		}
		fr.WriteHeaders(p)
		for b = b[len(first):]; len(b) > 0; {
			n := min(split, len(b))
			fr.WriteContinuation(stream, n == len(b), b[:n])
			b = b[n:]
		}
	}
	reply := func(stream uint32, code uint8, message string) {
		headers(stream, false, ":status", "200", "content-type", "application/grpc")
		fr.WriteDataPadded(stream, false, make([]byte, r.dataLen()), r.padding())
		headers(stream, true, "grpc-status", fmt.Sprint(code), "grpc-message", encodeGRPCMessage(message))
	}
	if r.extras&0x2 != 0 {
		reply(3, 13, "abandoned")
	}
	if r.extras&0x4 != 0 {
		fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	}
	if r.extras&0x8 != 0 {
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 15})
	}
	if r.extras&0x10 != 0 {
		fr.WriteWindowUpdate(0, 1<<20)
		fr.WriteWindowUpdate(5, 1<<20)
	}
	if r.extras&0x20 != 0 {
		fr.WritePriority(5, http2.PriorityParam{StreamDep: 3, Weight: 200})
	}
	if r.extras&0x40 != 0 {
		fr.WriteGoAway(5, http2.ErrCodeNo, []byte("max_age"))
	}
	reply(5, r.code, r.message)
	return buf.Bytes()
}

// encodeGRPCMessage percent-encodes a status message as grpc-go does.
func encodeGRPCMessage(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzResponseFrames frames a reply in the ways a server may and checks
// the reader takes from it exactly the status and message sent, counting
// every DATA byte (padding included) against flow control.
func FuzzResponseFrames(f *testing.F) {
	for _, r := range seedResponses {
		f.Add(r.code, r.message, r.data, r.pad, r.split, r.extras)
	}
	f.Fuzz(func(t *testing.T, code uint8, message string, data uint16, pad uint8, split uint16, extras uint8) {
		r := response{code: code % 17, message: message, data: data, pad: pad, split: split, extras: extras}
		if len(encodeGRPCMessage(message)) > 4000 {
			t.Skip("a message larger than a frame holds")
		}
		c, w, reply := readerConn(r.build(), 5)
		var err error
		for done := false; !done && err == nil; {
			done, err = c.readOne()
		}
		if err = c.outcome(err); err != nil || c.Status() != 200 {
			t.Fatalf("a reply read as %v, status %d", err, c.Status())
		}
		if reply.status != int(r.code) || reply.message != encodeGRPCMessage(message) {
			t.Fatalf("status %d %q read as %d %q", r.code, message, reply.status, reply.message)
		}
		dataFrames := int64(1)
		if r.extras&0x2 != 0 {
			dataFrames = 2
		}
		want := int64(r.dataLen())
		if r.pad > 0 {
			want += 1 + int64(r.pad)
		}
		if want *= dataFrames; c.unacked != want {
			t.Fatalf("%d DATA bytes counted against flow control, want %d", c.unacked, want)
		}
		checkWrites(t, w)
	})
}
