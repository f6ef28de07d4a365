package sock

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// Dial opens a TCP connection to addr with dialer, within deadline, and
// sets that deadline on it for the exchange that follows.
func Dial(ctx context.Context, dialer net.Dialer, addr string, deadline time.Time) (net.Conn, error) {
	return DialNet(ctx, dialer, "tcp", addr, deadline)
}

// DialNet is Dial on another network: "unix" dials the socket at path addr.
func DialNet(ctx context.Context, dialer net.Dialer, network, addr string, deadline time.Time) (net.Conn, error) {
	dialer.Deadline = deadline
	nc, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(deadline); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// Handshake starts TLS on nc as a client; on failure it closes nc.
func Handshake(ctx context.Context, nc net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}
