package h2

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestACallWhoseConnectionWasResetBeforeItsFirstByteIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	reset := make(chan error, 1)
	go func() {
		sc, err := l.Accept()
		if err != nil {
			reset <- err
			return
		}
		// The server's SETTINGS; once the client's preface, SETTINGS and
		// acknowledgement are read, a reset instead of a close.
		sc.Write([]byte{0, 0, 0, frameSettings, 0, 0, 0, 0, 0})
		sc.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = io.ReadFull(sc, make([]byte, len(clientPreface)+frameHeaderLen))
		sc.(*net.TCPConn).SetLinger(0)
		sc.Close()
		reset <- err
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	h, err := New(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer h.StopIdleWatch()
	if err := <-reset; err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // for the reset to arrive
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	err = h.Call(HeaderBlock("POST", "http", l.Addr().String(), "/svc.S/Call", nil), [2][]byte{}, nil)
	if te, ok := err.(*TransportError); !ok || !te.Unwritten || !Retryable(err) {
		t.Fatalf("got %#v, want a transport error of a call not written", err)
	}
}
