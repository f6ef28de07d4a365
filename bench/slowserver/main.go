// Command slowserver is an HTTP server with a controllable service time, for
// measuring tailgate's verdicts: every request waits a log-normal time with
// the given median and shape, then answers 200. It listens on loopback only.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/tailgate-dev/tailgate/internal/hrtimer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	median := flag.Duration("median", 2*time.Millisecond, "median service time")
	sigma := flag.Float64("sigma", 0.5, "log-normal shape (standard deviation of the log)")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(os.Stderr, "slowserver: -addr %q: only loopback addresses are served\n", *addr)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "slowserver: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().String())
	// A bounded free list, not a sync.Pool: a pool drops idle sleepers at
	// each collection without closing their timers.
	sleepers := make(chan *hrtimer.Waiter, 1024)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		z := rng.NormFloat64()
		mu.Unlock()
		var s *hrtimer.Waiter
		select {
		case s = <-sleepers:
		default:
			waiter := hrtimer.New()
			s = &waiter
		}
		s.Wait(time.Duration(float64(*median) * math.Exp(*sigma*z)))
		select {
		case sleepers <- s:
		default:
			s.Close()
		}
		w.Write([]byte("ok\n"))
	})
	if err := http.Serve(l, handler); err != nil {
		fmt.Fprintf(os.Stderr, "slowserver: %v\n", err)
		os.Exit(1)
	}
}
