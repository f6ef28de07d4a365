package sock

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Pipeline is what a connection of a line-based protocol (Redis's RESP,
// memcached's text and meta protocols) keeps to exchange commands one at a
// time or pipelined: the held network connection, the reader of its
// replies, the buffer commands are rendered into and how many of them
// await their replies. Embedded in a driver's connection, it provides
// Close and the Flush, Await and Abandon of workloads.PipelineConn; the
// driver renders commands and reads replies.
type Pipeline struct {
	// Link holds the network connection against Close and interrupts.
	Link Guard
	// R reads the connection's replies; Dial sets it.
	R *bufio.Reader
	// Out is the command being sent, or the pipeline's queued commands.
	Out []byte
	// InFlight counts the pipeline's commands queued or sent and not yet
	// answered.
	InFlight int
}

// Dial dials network addr within deadline, starts TLS on it when cfg is
// not nil, and holds the connection (see Guard.Adopt) with a read buffer
// of readSize bytes, reused across connections.
func (p *Pipeline) Dial(ctx context.Context, dialer net.Dialer, network, addr string, cfg *tls.Config, readSize int, deadline time.Time) error {
	nc, err := DialNet(ctx, dialer, network, addr, deadline)
	if err != nil {
		return err
	}
	if cfg != nil {
		if nc, err = Handshake(ctx, nc, cfg); err != nil {
			return err
		}
	}
	r, err := p.Link.Adopt(nc, readSize)
	if err != nil {
		return err
	}
	p.R = r
	return nil
}

// Send writes the command in Out: on a raw connection it goes out with
// the next read, which then waits for the reply.
func (p *Pipeline) Send() error { return p.Link.Send(p.Out) }

// Begin prepares the queueing of a command: with nothing in flight it
// readies the connection as a single exchange does (see Guard.Ready),
// dialing again when it is broken and checking it when it sat idle, and
// empties Out.
func (p *Pipeline) Begin(ctx context.Context, deadline time.Time, d Redialer) error {
	if p.InFlight > 0 {
		return nil
	}
	if err := p.Link.Ready(ctx, deadline, d); err != nil {
		return err
	}
	p.Out = p.Out[:0]
	return nil
}

// Flush writes every queued command with one write. With nothing in
// flight nothing is queued: Out may still hold the last command sent
// alone (Send), which must not go out again, and Flush writes nothing.
func (p *Pipeline) Flush(ctx context.Context, deadline time.Time) error {
	if p.InFlight == 0 {
		return nil
	}
	return p.Link.Flush(ctx, &p.Out, deadline)
}

// Await waits for the next reply to begin, until until.
func (p *Pipeline) Await(ctx context.Context, until time.Time) (bool, error) {
	return p.Link.Await(ctx, p.R, until)
}

// Next waits, until deadline, for the reply to the oldest command in
// flight; a failure breaks the connection.
func (p *Pipeline) Next(ctx context.Context, deadline time.Time) error {
	if err := p.Link.ReadBy(ctx, deadline); err != nil {
		return p.Link.Broken(ctx, err)
	}
	return nil
}

// Settle accounts for the reply to the oldest command in flight, which
// reading gave err: a reply read whole (err nil), or an answer after which
// the stream is still in step (inStep), takes the command off the count
// and err is returned; any other error breaks the connection.
func (p *Pipeline) Settle(ctx context.Context, err error, inStep bool) error {
	if err == nil || inStep {
		p.InFlight--
		return err
	}
	return p.Link.Broken(ctx, err)
}

// Abandon drops the connection and what was in flight on it.
func (p *Pipeline) Abandon() {
	p.Link.Drop()
	p.InFlight = 0
	p.Out = p.Out[:0]
}

// Close closes the connection; an operation pending on it fails at once,
// and later ones fail with net.ErrClosed.
func (p *Pipeline) Close() error { return p.Link.Close() }

// ReadLine returns the next reply line without its CRLF; the slice is only
// valid until the next read. A line longer than the reader's buffer is an
// error named for protocol ("redis", "memcache"), and a line cut short by
// the end of the stream is io.ErrUnexpectedEOF.
func (p *Pipeline) ReadLine(protocol string) ([]byte, error) {
	line, err := p.R.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%s: reply line longer than %d bytes", protocol, p.R.Size())
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
