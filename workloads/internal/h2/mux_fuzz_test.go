package h2

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }
func (c *captureConn) Close() error                     { return nil }

// muxReaderConn is a Mux reading the server's side of a connection from
// in, after the preface and SETTINGS exchange, with calls open on streams
// 1, 3 and 5, each with a reply of its own.
func muxReaderConn(in []byte) (*Mux, *captureConn, []*Stream) {
	w := &captureConn{}
	c := &Conn{nc: w, nextStream: 7, peerMaxFrame: maxFrameLen, peerMaxStreams: unlimitedStreams, peerStreamWindow: 65535, connWindow: 65535}
	c.dec = hpack.NewDecoder(4096, c.field)
	c.r = bufio.NewReaderSize(bytes.NewReader(in), 2*(frameHeaderLen+maxFrameLen))
	m := newMux(c, time.Second)
	var streams []*Stream
	for id := uint32(1); id <= 5; id += 2 {
		s := NewStream()
		s.open(id, c.peerStreamWindow, &grpcReply{status: -1})
		s.phase = phaseOpen
		m.streams[id] = s
		m.active++
		streams = append(streams, s)
	}
	return m, w, streams
}

// FuzzMuxFrameReader feeds a Mux's reader whatever a server might send
// while three calls are in flight: it must neither panic nor loop, end
// every call exactly once (the input's end fails the connection, so every
// call has an outcome), keep its count of streams in step, and answer
// only with acknowledgements.
func FuzzMuxFrameReader(f *testing.F) {
	addSeeds(f, [][]byte{
		rawFrame(frameGoAway, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0),                                           // GOAWAY above stream 3
		rawFrame(frameRSTStream, 0, 3, 0, 0, 0, ErrCodeRefusedStream),                                 // stream 3 refused
		rawFrame(frameSettings, 0, 0, 0, settingMaxConcurrentStreams, 0, 0, 0, 1),                     // one stream at a time
		rawFrame(frameSettings, 0, 0, 0, settingInitialWindowSize, 0, 1, 0, 0),                        // a larger window for open streams
		rawFrame(frameWindowUpdate, 0, 5, 0, 0, 1, 0),                                                 // a stream's window
		append(rawFrame(frameHeaders, 0, 1, 0x88), rawFrame(frameContinuation, flagEndHeaders, 3)...), // CONTINUATION of another stream
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, w, streams := muxReaderConn(in)
		m.readLoop()
		if m.broken == nil {
			t.Fatal("the reader stopped with the connection unbroken")
		}
		if len(m.streams) != 0 || len(m.waiting) != 0 {
			t.Fatalf("%d calls left in the table, %d waiting, after the connection failed", len(m.streams), len(m.waiting))
		}
		for _, s := range streams {
			if s.phase != phaseEnded {
				t.Fatalf("the call on stream %d did not end (phase %d)", s.id, s.phase)
			}
			select {
			case <-s.done:
			default:
				t.Fatalf("the call on stream %d was not told its outcome", s.id)
			}
			if s.status != 0 && s.status < 200 && s.headersSeen {
				t.Fatalf("stream %d took an interim status %d as its response", s.id, s.status)
			}
		}
		c := m.c
		if c.blockLen > maxHeaderBlock {
			t.Fatalf("a header block of %d bytes was taken", c.blockLen)
		}
		if c.unacked < 0 || c.connWindow < -maxWindow {
			t.Fatalf("flow control out of range: unacked %d, window %d", c.unacked, c.connWindow)
		}
		checkWrites(t, w)
	})
}
