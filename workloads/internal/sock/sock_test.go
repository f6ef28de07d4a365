package sock

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
)

// echoServer answers every connection by sending back what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	return testserver.ServeTCP(t, func(c net.Conn) { io.Copy(c, c) })
}

func dial(t *testing.T, addr string) (net.Conn, *Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c, ok := New(nc)
	if !ok {
		t.Fatal("New refused a TCP connection")
	}
	return nc, c
}

func TestARequestQueuedBySendIsWrittenByTheNextRead(t *testing.T) {
	_, c := dial(t, echoServer(t))
	for _, size := range []int{1, 100, 8 << 20} { // the last is more than a socket takes at once
		want := bytes.Repeat([]byte{byte(size)}, size)
		c.Send(want)
		got := make([]byte, 0, size)
		buf := make([]byte, 64<<10)
		for len(got) < size {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("%d bytes: after %d: %v", size, len(got), err)
			}
			got = append(got, buf[:n]...)
		}
		if !bytes.Equal(got, want) || !c.Sent() {
			t.Fatalf("%d bytes: echoed %d, equal %v, Sent %v", size, len(got), bytes.Equal(got, want), c.Sent())
		}
	}
}

func TestWriteWritesAll(t *testing.T) {
	received := make(chan []byte, 1)
	addr := testserver.ServeTCP(t, func(c net.Conn) { // reads everything, slowly at first
		time.Sleep(50 * time.Millisecond)
		b, _ := io.ReadAll(c)
		received <- b
	})
	nc, c := dial(t, addr)
	want := bytes.Repeat([]byte("tailgate"), 1<<20) // more than the socket takes at once
	if n, err := c.Write(want); err != nil || n != len(want) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	nc.(*net.TCPConn).CloseWrite()
	if got := <-received; !bytes.Equal(got, want) {
		t.Fatalf("the server got %d bytes, equal %v", len(got), bytes.Equal(got, want))
	}
}

func TestDeadlinesAndCloseEndAWait(t *testing.T) {
	// The server accepts and never answers.
	nc, c := dial(t, testserver.ServeTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) }))
	nc.SetDeadline(time.Now().Add(50 * time.Millisecond))
	c.Send([]byte("ping"))
	if _, err := c.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if !c.Sent() {
		t.Error("the request went out before the deadline, but Sent says not")
	}
	nc.SetDeadline(time.Time{})
	time.AfterFunc(50*time.Millisecond, func() { nc.Close() })
	if _, err := c.Read(make([]byte, 16)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("got %v, want net.ErrClosed", err)
	}
}

func TestAClosedPeerIsTheEndOfTheStream(t *testing.T) {
	_, c := dial(t, testserver.ServeTCP(t, func(c net.Conn) { c.Write([]byte("bye")) }))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "bye" {
		t.Fatalf("got %q, %v", buf[:n], err)
	}
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

func TestNewRefusesWhatIsNotPlainTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok := New(a); ok {
		t.Fatal("New took a pipe")
	}
}

func TestAUnixSocketIsReadAndWrittenRawAndEndsAsTCPDoes(t *testing.T) {
	path := t.TempDir() + "/echo.sock"
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 5)
		io.ReadFull(c, buf)
		c.Write(buf)
		c.Close() // then the end of the stream
	}()
	nc, err := DialNet(context.Background(), net.Dialer{}, "unix", path, time.Now().Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, ok := New(nc)
	if !ok {
		t.Fatal("New refused a unix stream connection")
	}
	c.Send([]byte("hello"))
	got := make([]byte, 0, 5)
	buf := make([]byte, 16)
	for len(got) < 5 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello" || !c.Sent() || c.Received() != 5 {
		t.Fatalf("echoed %q, Sent %v, Received %d", got, c.Sent(), c.Received())
	}
	if _, err := c.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("after the server closed: %v, want io.EOF", err)
	}
}
