package grpc

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tailgate-dev/tailgate/internal/testserver"
)

// h2Peer is a bare HTTP/2 server on loopback, written with x/net's framer,
// for what real servers do only by chance: a GOAWAY or a refusal aimed at
// a chosen stream, a close or a PING at a chosen moment. answer decides
// what each call (a request stream that ended) gets; nth counts the calls
// of its connection from 1.
type h2Peer struct {
	addr   string
	answer func(pc *peerConn, stream uint32, nth int)

	conns    atomic.Int64 // accepted
	answered atomic.Int64 // calls answered OK
	pingAcks atomic.Int64 // PING acknowledgements received
	ended    atomic.Int64 // connections the client closed
}

// peerConn is one connection of an h2Peer; its writes may come from timers
// as well as from the goroutine serving it.
type peerConn struct {
	peer *h2Peer
	id   int64 // from 1, in the order accepted
	nc   net.Conn

	mu  sync.Mutex
	fr  *http2.Framer
	enc *hpack.Encoder
	hb  bytes.Buffer
}

func startH2Peer(t *testing.T, answer func(pc *peerConn, stream uint32, nth int)) *h2Peer {
	t.Helper()
	p := &h2Peer{answer: answer}
	p.addr = testserver.ServeTCP(t, func(nc net.Conn) {
		pc := &peerConn{peer: p, id: p.conns.Add(1), nc: nc}
		pc.serve()
	})
	return p
}

// serve reads the client's frames: it acknowledges SETTINGS and PINGs and
// hands each ended request stream to answer.
func (pc *peerConn) serve() {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(pc.nc, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	pc.fr = http2.NewFramer(pc.nc, pc.nc)
	pc.enc = hpack.NewEncoder(&pc.hb)
	pc.locked(func() { pc.fr.WriteSettings() })
	nth := 0
	for {
		f, err := pc.fr.ReadFrame()
		if err != nil {
			if err == io.EOF {
				pc.peer.ended.Add(1)
			}
			return
		}
		ended := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				pc.locked(func() { pc.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if f.IsAck() {
				pc.peer.pingAcks.Add(1)
			} else {
				pc.locked(func() { pc.fr.WritePing(true, f.Data) })
			}
		case *http2.HeadersFrame:
			ended = f.StreamEnded()
		case *http2.DataFrame:
			ended = f.StreamEnded()
		}
		if ended {
			nth++
			pc.peer.answer(pc, f.Header().StreamID, nth)
		}
	}
}

func (pc *peerConn) locked(write func()) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	write()
}

// headers writes a header block of name-value pairs on stream.
func (pc *peerConn) headers(stream uint32, end bool, kv ...string) {
	pc.hb.Reset()
	for i := 0; i < len(kv); i += 2 {
		pc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	pc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: pc.hb.Bytes(), EndStream: end, EndHeaders: true})
}

// ok answers the call on stream with an empty message and status OK;
// pingFirst puts a PING before the trailers, as grpc-go's servers do to
// estimate the bandwidth-delay product.
func (pc *peerConn) ok(stream uint32, pingFirst bool) {
	// Counted before it is written: the client may check the count as
	// soon as it has the answer.
	pc.peer.answered.Add(1)
	pc.locked(func() {
		pc.headers(stream, false, ":status", "200", "content-type", "application/grpc")
		pc.fr.WriteData(stream, false, []byte{0, 0, 0, 0, 0})
		if pingFirst {
			pc.fr.WritePing(false, [8]byte{'t', 'a', 'i', 'l', 'g', 'a', 't', 'e'})
		}
		pc.headers(stream, true, "grpc-status", "0")
	})
}

func (pc *peerConn) goAway(last uint32) {
	pc.locked(func() { pc.fr.WriteGoAway(last, http2.ErrCodeNo, nil) })
}

func (pc *peerConn) refuse(stream uint32) {
	pc.locked(func() { pc.fr.WriteRSTStream(stream, http2.ErrCodeRefusedStream) })
}

func (pc *peerConn) ping() {
	pc.locked(func() { pc.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}) })
}

// reset ends the connection with a TCP reset rather than a close.
func (pc *peerConn) reset() {
	if tc, ok := pc.nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	pc.nc.Close()
}
