package grpc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
)

// Compression, as gRPC has it: a message whose flag byte is 1 is
// compressed with the codec its stream's grpc-encoding header names. Every
// call advertises gzip in grpc-accept-encoding, so a server that
// compresses its replies may; a workload with compression: gzip also
// compresses its requests (grpc-encoding: gzip). A compressed reply is
// decompressed whole and so checked: a corrupt one, or one whose codec was
// not offered, fails its call, as it would fail grpc-go's client.

// The codecs tailgate speaks, as grpc-encoding names them.
const (
	encodingGzip     = "gzip"
	encodingIdentity = "identity"
)

// maxReceive is the largest compressed reply message checked, before and
// after decompression: grpc-go's default limit on received messages.
const maxReceive = 4 << 20

// messageReader follows the gRPC messages of a reply across its DATA
// frames: it counts them, and keeps a compressed one until it is whole, to
// check it.
type messageReader struct {
	head   [5]byte
	inHead int // bytes of head read
	left   int // bytes of the message still to come
	count  int // whole messages
	keep   []byte
	// err is the first bad message's outcome.
	err *callError
	// stamp says to note when the first whole message came, in first.
	stamp bool
	first time.Time
}

func (m *messageReader) reset(stamp bool) {
	m.inHead, m.left, m.count, m.keep, m.err = 0, 0, 0, m.keep[:0], nil
	m.stamp = stamp
}

// data takes DATA bytes of a reply whose grpc-encoding is encoding;
// compressed messages are checked with the gunzipper at *gz, made at the
// first.
func (m *messageReader) data(p []byte, encoding string, gz **gunzipper) {
	for len(p) > 0 && m.err == nil {
		if m.inHead < len(m.head) {
			n := copy(m.head[m.inHead:], p)
			m.inHead += n
			p = p[n:]
			if m.inHead < len(m.head) {
				return
			}
			m.left = int(binary.BigEndian.Uint32(m.head[1:]))
			switch m.head[0] {
			case 0:
			case 1:
				switch {
				case encoding == "" || encoding == encodingIdentity:
					m.err = &callError{code: codes.Internal, msg: "grpc: compressed flag set with identity or empty encoding"}
				case encoding != encodingGzip:
					m.err = &callError{code: codes.Unimplemented, msg: fmt.Sprintf("grpc: Decompressor is not installed for grpc-encoding %q", encoding)}
				case m.left > maxReceive:
					m.err = &callError{code: codes.ResourceExhausted, msg: fmt.Sprintf("grpc: received message larger than max (%d vs. %d)", m.left, maxReceive)}
				}
			default:
				m.err = &callError{code: codes.Internal, msg: fmt.Sprintf("grpc: received unexpected payload format %d", m.head[0])}
			}
			if m.err != nil {
				return
			}
		}
		n := min(m.left, len(p))
		if m.head[0] == 1 {
			m.keep = append(m.keep, p[:n]...)
		}
		m.left -= n
		p = p[n:]
		if m.left == 0 {
			m.end(gz)
		}
	}
}

// end counts a whole message and checks a compressed one.
func (m *messageReader) end(gz **gunzipper) {
	if m.head[0] == 1 {
		if *gz == nil {
			*gz = new(gunzipper)
		}
		if err := (*gz).check(m.keep); err != nil {
			m.err = &callError{code: codes.Internal, msg: "grpc: failed to decompress the received message: " + err.Error()}
		}
		m.keep = m.keep[:0]
	}
	if m.count == 0 && m.stamp {
		m.first = time.Now()
	}
	m.count++
	m.inHead = 0
}

// outcome is the messages' verdict on a reply whose status is OK: its
// first bad message, or a message the stream ended in the middle of.
func (m *messageReader) outcome() error {
	switch {
	case m.err != nil:
		return m.err
	case m.inHead > 0:
		return &callError{code: codes.Internal, msg: "server closed the stream in the middle of a message"}
	}
	return nil
}

// gunzipper decompresses messages to check them, reusing its state.
type gunzipper struct {
	src   bytes.Reader
	zr    gzip.Reader
	limit io.LimitedReader
}

// check decompresses b and discards what comes out.
func (g *gunzipper) check(b []byte) error {
	g.src.Reset(b)
	if err := g.zr.Reset(&g.src); err != nil {
		return err
	}
	g.limit = io.LimitedReader{R: &g.zr, N: maxReceive + 1}
	n, err := io.Copy(io.Discard, &g.limit)
	if err != nil {
		return err
	}
	if n > maxReceive {
		return fmt.Errorf("decompressed message larger than max (%d)", maxReceive)
	}
	return nil
}

// gzipper compresses request messages, reusing its state.
type gzipper struct {
	out bytes.Buffer
	zw  *gzip.Writer
}

// compress returns msg gzip-compressed, in a buffer valid until the next
// call.
func (g *gzipper) compress(msg []byte) []byte {
	g.out.Reset()
	if g.zw == nil {
		g.zw = gzip.NewWriter(&g.out)
	} else {
		g.zw.Reset(&g.out)
	}
	g.zw.Write(msg) // a bytes.Buffer does not fail
	g.zw.Close()
	return g.out.Bytes()
}
