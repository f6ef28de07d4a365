package h2

import (
	"net"
	"time"

	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// Client is what a connection of the HTTP and gRPC drivers keeps to send
// on HTTP/2: a connection of its own, which makes one call at a time
// (Link and H), or a stream of a connection its group shares (Group and
// Stream, see NewGroup), when the workload sends several calls at once on
// one connection. Embedded in the driver's connection, it provides Close.
type Client struct {
	// Link holds the network connection against Close and interrupts
	// (the HTTP driver's HTTP/1.1 requests go on it too).
	Link sock.Guard
	// H is HTTP/2 on Link, nil until Start and after Drop.
	H *Conn

	// Group is the shared connection's and Stream this connection's; Link
	// and H are unused.
	Group  *Group
	Stream *Stream
}

// Start holds nc in Link and starts HTTP/2 on it; on a failure nc is
// closed.
func (c *Client) Start(nc net.Conn) error {
	if err := c.Link.Hold(nc); err != nil {
		return err
	}
	h, err := New(nc)
	if err != nil {
		c.Drop()
		return err
	}
	c.H = h
	return nil
}

// Ready readies the connection for a call made at now and returns the
// network connection the call goes on, or nil when there is none (H is
// nil) and the caller dials. A connection the server closed or drained
// while it idled, or drained during the last call, is not reused: it is
// dropped first (see Conn.Acquire). After Close, Ready returns
// net.ErrClosed.
func (c *Client) Ready(now time.Time) (net.Conn, error) {
	if c.H != nil && (c.H.Acquire(now) != nil || !c.H.Usable()) {
		c.Drop()
	}
	nc, closed := c.Link.Current()
	if closed {
		if c.H != nil {
			c.Drop()
		}
		return nil, net.ErrClosed
	}
	if c.H == nil {
		return nil, nil
	}
	return nc, nil
}

// Drop closes the connection after a failure, and the HTTP/2 state on it.
func (c *Client) Drop() {
	c.Link.Drop()
	if c.H != nil {
		c.H.StopIdleWatch()
	}
	c.H = nil
}

// Close closes the connection; an operation pending on it fails at once,
// and later ones fail with net.ErrClosed. A stream's Close ends its own
// call, and the shared connection closes with its last stream.
func (c *Client) Close() error {
	if c.Group != nil {
		if c.Stream.Close() {
			c.Group.Release()
		}
		return nil
	}
	return c.Link.Close()
}
