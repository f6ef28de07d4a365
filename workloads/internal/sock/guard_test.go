package sock

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
)

// client is the smallest driver over a Guard: it dials addr (over TLS when
// tls is set) and exchanges lines.
type client struct {
	addr  string
	tls   *tls.Config
	link  Guard
	r     *bufio.Reader
	dials int
}

func (c *client) Redial(ctx context.Context, deadline time.Time) error {
	nc, err := Dial(ctx, net.Dialer{}, c.addr, deadline)
	if err != nil {
		return err
	}
	if c.tls != nil {
		if nc, err = Handshake(ctx, nc, c.tls); err != nil {
			return err
		}
	}
	c.dials++
	c.r, err = c.link.Adopt(nc, 4096)
	return err
}

// ready readies the connection for an exchange within a second.
func (c *client) ready(t *testing.T) {
	t.Helper()
	if err := c.link.Ready(context.Background(), time.Now().Add(time.Second), c); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

// exchange sends a line and reads the one that answers it.
func (c *client) exchange(line string) (string, error) {
	if err := c.link.Send([]byte(line + "\n")); err != nil {
		return "", err
	}
	reply, err := c.r.ReadString('\n')
	if err != nil {
		return reply, err
	}
	return reply[:len(reply)-1], nil
}

// lineServer serves every connection with serve, which gets the
// connection and a reader over it; it returns the listener's address.
func lineServer(t *testing.T, cfg *tls.Config, serve func(nc net.Conn, r *bufio.Reader)) string {
	t.Helper()
	return testserver.ServeTCP(t, func(nc net.Conn) {
		if cfg != nil {
			nc = tls.Server(nc, cfg)
			defer nc.Close()
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		serve(nc, bufio.NewReader(nc))
	})
}

// reset closes nc with an RST instead of a FIN.
func reset(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	nc.(*net.TCPConn).SetLinger(0)
	nc.Close()
}

// echoLines answers each line with itself, n times, then does then.
func echoLines(n int, then func(nc net.Conn)) func(net.Conn, *bufio.Reader) {
	return func(nc net.Conn, r *bufio.Reader) {
		for range n {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := nc.Write([]byte(line)); err != nil {
				return
			}
		}
		then(nc)
	}
}

// drain reads nc until the client closes it.
func drain(nc net.Conn) { io.Copy(io.Discard, nc) }

// idleLongerThanTheCheck waits past IdleCheckAfter, and for whatever the
// server did meanwhile to reach the client.
func idleLongerThanTheCheck() { time.Sleep(IdleCheckAfter + 50*time.Millisecond) }

func TestReadyRedialsAConnectionTheServerIsDoneWith(t *testing.T) {
	cert := testserver.NewCertificate(t)
	roots := cert.Roots()
	tests := []struct {
		name string
		then func(nc net.Conn) // what the server does after the first exchange
		gone bool
	}{
		{"it closed the connection (FIN)", func(nc net.Conn) { nc.Close() }, true},
		{"it reset the connection (RST)", reset, true},
		{"it sent a reply nobody asked for", func(nc net.Conn) { nc.Write([]byte("bye\n")); drain(nc) }, true},
		{"it keeps the connection open", drain, false},
	}
	for _, transport := range []string{"tcp", "tls"} {
		for _, tt := range tests {
			t.Run(transport+": "+tt.name, func(t *testing.T) {
				var srvCfg *tls.Config
				c := &client{}
				if transport == "tls" {
					srvCfg = cert.Server
					c.tls = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
				}
				c.addr = lineServer(t, srvCfg, echoLines(1, tt.then))
				defer c.link.Close()
				c.ready(t)
				if got, err := c.exchange("one"); err != nil || got != "one" {
					t.Fatalf("first exchange: %q, %v", got, err)
				}
				idleLongerThanTheCheck()
				c.ready(t)
				if redialed := c.dials == 2; redialed != tt.gone {
					t.Fatalf("dials %d: want a redial %v", c.dials, tt.gone)
				}
				if c.link.Reused() == tt.gone {
					t.Errorf("Reused = %v on a connection dialed again %v", c.link.Reused(), tt.gone)
				}
				if tt.gone {
					if got, err := c.exchange("two"); err != nil || got != "two" {
						t.Fatalf("on the new connection: %q, %v", got, err)
					}
				}
			})
		}
	}
}

// recordingCache is a TLS session cache that notes what it is given.
type recordingCache struct {
	mu   sync.Mutex
	puts int
}

func (c *recordingCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (c *recordingCache) Put(string, *tls.ClientSessionState) {
	c.mu.Lock()
	c.puts++
	c.mu.Unlock()
}

// A TLS 1.3 server sends session tickets after the handshake, which the
// client reads only with its next read: waiting on an idle connection, they
// are processed, and the connection is kept.
func TestReadyKeepsATLSConnectionWithPostHandshakeMessagesPending(t *testing.T) {
	cert := testserver.NewCertificate(t)
	roots := cert.Roots()
	cache := &recordingCache{}
	c := &client{tls: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13, ClientSessionCache: cache}}
	c.addr = lineServer(t, cert.Server, echoLines(1, func(net.Conn) {}))
	defer c.link.Close()
	c.ready(t) // dials and shakes hands; the tickets are in flight
	idleLongerThanTheCheck()
	c.ready(t)
	if c.dials != 1 {
		t.Fatalf("dials %d: pending session tickets made a live connection look closed", c.dials)
	}
	cache.mu.Lock()
	puts := cache.puts
	cache.mu.Unlock()
	if puts == 0 {
		t.Fatal("no session ticket was processed: the case under test did not happen")
	}
	if got, err := c.exchange("one"); err != nil || got != "one" {
		t.Fatalf("exchange on the kept connection: %q, %v", got, err)
	}
}

// A connection used again at once is not checked: the hot path pays
// nothing, and Replayable decides what a failure there may do.
func TestReplayableSaysWhatTheServerProvablyDidNotProcess(t *testing.T) {
	defer func(d time.Duration) { idleCheckAfter = d }(idleCheckAfter)
	idleCheckAfter = time.Hour // the server closes "between the check and the request"
	tests := []struct {
		name string
		// second is what the server does after answering the first line;
		// closed is closed when it is done.
		second     func(nc net.Conn, r *bufio.Reader)
		idempotent bool
		replayable bool
	}{
		{"the server reset the connection before the request was written", func(nc net.Conn, _ *bufio.Reader) { reset(nc) }, false, true},
		{"it read a read and closed the connection without a byte of reply", readThen(func(nc net.Conn) { nc.Close() }), true, true},
		{"it read a read and reset the connection without a byte of reply", readThen(reset), true, true},
		{"it read a write and closed the connection", readThen(func(nc net.Conn) { nc.Close() }), false, false},
		{"it read a read and cut its reply short", readThen(func(nc net.Conn) { nc.Write([]byte("tw")); nc.Close() }), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var once sync.Once
			c := &client{}
			c.addr = lineServer(t, nil, func(nc net.Conn, r *bufio.Reader) {
				defer once.Do(func() { close(done) })
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				nc.Write([]byte(line))
				if line == "one\n" {
					tt.second(nc, r)
				}
			})
			defer c.link.Close()
			c.ready(t)
			if got, err := c.exchange("one"); err != nil || got != "one" {
				t.Fatalf("first exchange: %q, %v", got, err)
			}
			if tt.name == "the server reset the connection before the request was written" {
				<-done
				time.Sleep(50 * time.Millisecond) // for the RST to arrive
			}
			c.ready(t)
			_, err := c.exchange("two")
			if err == nil {
				t.Fatal("the second exchange succeeded")
			}
			if got := c.link.Replayable(context.Background(), err, tt.idempotent); got != tt.replayable {
				t.Fatalf("Replayable(%v, idempotent %v) = %v, want %v (answered %v)", err, tt.idempotent, got, tt.replayable, c.link.Answered())
			}
			if tt.replayable {
				c.link.Drop()
				c.ready(t)
				if c.link.Reused() {
					t.Fatal("the replay's connection is the old one")
				}
				if got, err := c.exchange("two"); err != nil || got != "two" {
					t.Fatalf("the replay: %q, %v", got, err)
				}
				if c.link.Replayable(context.Background(), io.EOF, true) {
					t.Error("a failure on a fresh connection is replayable")
				}
			}
		})
	}
}

// readThen reads the next line and does then, answering nothing.
func readThen(then func(nc net.Conn)) func(net.Conn, *bufio.Reader) {
	return func(nc net.Conn, r *bufio.Reader) {
		if _, err := r.ReadString('\n'); err == nil {
			then(nc)
		}
	}
}

func TestReplayableNeverAfterATimeoutOrACancel(t *testing.T) {
	c := &client{}
	c.addr = lineServer(t, nil, echoLines(1, drain))
	defer c.link.Close()
	c.ready(t)
	if _, err := c.exchange("one"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.link.Ready(ctx, time.Now().Add(20*time.Millisecond), c); err != nil {
		t.Fatal(err)
	}
	_, err := c.exchange("two")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a timeout", err)
	}
	if c.link.Replayable(ctx, err, true) {
		t.Error("a timed-out read is replayable")
	}
	cancel()
	if c.link.Replayable(ctx, io.EOF, true) {
		t.Error("an operation of a canceled run is replayable")
	}
}
