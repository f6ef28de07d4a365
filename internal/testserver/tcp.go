package testserver

import (
	"net"
	"sync"
	"testing"
)

// ServeTCP listens on a free loopback TCP port and serves every connection
// with serve, each on a goroutine of its own; it returns the listener's
// address. When the test ends the listener and every connection still
// open are closed, and ServeTCP waits for serve to return, so that no
// server outlives its test.
func ServeTCP(t testing.TB, serve func(nc net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var open sync.Map
	t.Cleanup(func() {
		l.Close()
		open.Range(func(nc, _ any) bool { nc.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			open.Store(nc, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer open.Delete(nc)
				defer nc.Close()
				serve(nc)
			}()
		}
	}()
	return l.Addr().String()
}
