package memcache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
	"github.com/tailgate-dev/tailgate/workloads/memcache"
)

// The operation kinds of spec's mix.
const (
	kindGet = 0
	kindSet = 1
)

// spec is a small get/set workload against target.
func spec(target string) *workloads.Spec {
	return &workloads.Spec{
		Component: slo.Component{
			Name:   "cache",
			Target: target,
			Workload: slo.Workload{
				Rate:         200,
				Arrival:      slo.ArrivalUniform,
				Connections:  2,
				Timeout:      500 * time.Millisecond,
				Keys:         slo.Keys{Count: 100, Distribution: slo.DistributionUniform, Prefix: "tailgate:"},
				ValueSize:    32,
				Mix:          []slo.MixEntry{{Operation: "get", Weight: 90}, {Operation: "set", Weight: 10}},
				MaxErrorRate: 0.5,
			},
		},
		Duration: time.Second,
		Seed:     1,
	}
}

// connect opens the driver for s and one connection, closed with the test.
func connect(t testing.TB, s *workloads.Spec) workloads.Conn {
	_, c := testserver.Connect(t, s)
	return c
}

func op(kind int, key string, value []byte) *workloads.Op {
	return &workloads.Op{Kind: kind, Key: []byte(key), Value: value}
}

// rawGet reads a key back with a plain client, to check what the driver wrote.
func rawGet(t *testing.T, addr, key string) string {
	t.Helper()
	return exchange(t, "tcp", addr, "get "+key+"\r\n", "END")
}

func TestSetStoresTheValueAndGetReadsItBack(t *testing.T) {
	srv := testserver.Memcached(t)
	c := connect(t, spec("memcache://"+srv.Addr))
	ctx := context.Background()
	if err := c.Do(ctx, op(kindSet, "tailgate:1", []byte("hello"))); err != nil {
		t.Fatalf("set: %v", err)
	}
	if got := rawGet(t, srv.Addr, "tailgate:1"); got != "VALUE tailgate:1 0 5\r\nhello\r\nEND\r\n" {
		t.Fatalf("the server holds %q", got)
	}
	for range 3 { // the hit's value is consumed: the stream stays in step
		if err := c.Do(ctx, op(kindGet, "tailgate:1", nil)); err != nil {
			t.Fatalf("get of a stored key: %v", err)
		}
	}
}

func TestGetOfAMissingKeyIsASuccess(t *testing.T) {
	srv := testserver.Memcached(t)
	c := connect(t, spec("memcache://"+srv.Addr))
	if err := c.Do(context.Background(), op(kindGet, "tailgate:absent", nil)); err != nil {
		t.Fatalf("a miss is an answer, got %v", err)
	}
}

func TestATooLargeValueIsAServerErrorAndTheConnectionStaysUsable(t *testing.T) {
	srv := testserver.Memcached(t, "-I", "1k", "-o", "slab_chunk_max=1024")
	c := connect(t, spec("memcache://"+srv.Addr))
	ctx := context.Background()
	err := c.Do(ctx, op(kindSet, "tailgate:big", bytes.Repeat([]byte("x"), 4096)))
	var se *workloads.StatusError
	if !errors.As(err, &se) || se.Kind != memcache.KindServerError {
		t.Fatalf("got %v, want a %q StatusError", err, memcache.KindServerError)
	}
	if kind := workloads.ErrorKind(err); kind != "memcache SERVER_ERROR" {
		t.Errorf("ErrorKind = %q", kind)
	}
	if !strings.Contains(se.Detail, "too large") {
		t.Errorf("Detail = %q, want the server's message", se.Detail)
	}
	if err := c.Do(ctx, op(kindSet, "tailgate:small", []byte("ok"))); err != nil {
		t.Fatalf("set after a SERVER_ERROR: %v", err)
	}
}

// frozen connects to a memcached with the given operation timeout and
// then stops the server (SIGSTOP), which is thawed when the test ends.
func frozen(t *testing.T, timeout time.Duration) (workloads.Conn, *testserver.Server) {
	t.Helper()
	srv := testserver.Memcached(t)
	s := spec("memcache://" + srv.Addr)
	s.Component.Workload.Timeout = timeout
	c := connect(t, s)
	srv.Freeze()
	srv.WaitFrozen()
	t.Cleanup(srv.Thaw)
	return c, srv
}

func TestAClientErrorIsCountedAndTheNextOperationReconnects(t *testing.T) {
	srv := testserver.Memcached(t)
	c := connect(t, spec("memcache://"+srv.Addr))
	ctx := context.Background()
	// A key past memcached's 250-byte limit cannot come from a valid plan,
	// but it is the one sure way to make a real server say CLIENT_ERROR.
	err := c.Do(ctx, op(kindSet, strings.Repeat("k", 300), []byte("v")))
	if kind := workloads.ErrorKind(err); kind != memcache.KindClientError {
		t.Fatalf("got %v (kind %q), want %q", err, kind, memcache.KindClientError)
	}
	// The value line the server did not expect would read as a command; a
	// fresh connection answers the next operation correctly.
	if err := c.Do(ctx, op(kindSet, "tailgate:2", []byte("v"))); err != nil {
		t.Fatalf("set after a CLIENT_ERROR: %v", err)
	}
	if err := c.Do(ctx, op(kindGet, "tailgate:2", nil)); err != nil {
		t.Fatalf("get after a CLIENT_ERROR: %v", err)
	}
}

func TestAFrozenServerTimesOutAndIsUsedAgainOnceThawed(t *testing.T) {
	c, srv := frozen(t, 100*time.Millisecond)
	ctx := context.Background()
	began := time.Now()
	err := c.Do(ctx, op(kindGet, "tailgate:1", nil))
	took := time.Since(began)
	srv.Thaw()
	if kind := workloads.ErrorKind(err); kind != workloads.KindTimeout {
		t.Fatalf("got %v (kind %q), want a timeout", err, kind)
	}
	if took > 2*time.Second {
		t.Errorf("the timed-out operation took %s with a 100ms timeout", took)
	}
	var lastErr error
	for range 20 {
		if lastErr = c.Do(ctx, op(kindSet, "tailgate:1", []byte("v"))); lastErr == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the thawed server was not used again: %v", lastErr)
}

func TestAServerThatGoesAwayFailsOperationsUntilItComesBack(t *testing.T) {
	srv := testserver.Memcached(t)
	c := connect(t, spec("memcache://"+srv.Addr))
	ctx := context.Background()
	if err := c.Do(ctx, op(kindSet, "tailgate:1", []byte("v"))); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	for i := range 3 {
		err := c.Do(ctx, op(kindGet, "tailgate:1", nil))
		if err == nil {
			t.Fatalf("operation %d succeeded against a killed server", i)
		}
		switch kind := workloads.ErrorKind(err); kind {
		case workloads.KindClosed, workloads.KindReset, workloads.KindRefused:
		default:
			t.Fatalf("operation %d: got %v (kind %q), want closed, reset or refused", i, err, kind)
		}
	}
	srv.Restart()
	if err := c.Do(ctx, op(kindSet, "tailgate:1", []byte("v"))); err != nil {
		t.Fatalf("the restarted server was not used again: %v", err)
	}
	if err := c.Do(ctx, op(kindGet, "tailgate:1", nil)); err != nil {
		t.Fatal(err)
	}
}

func TestACanceledContextEndsAPendingOperationAtOnce(t *testing.T) {
	c, _ := frozen(t, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	began := time.Now()
	err := c.Do(ctx, op(kindGet, "tailgate:1", nil))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("the canceled operation took %s", took)
	}
}

func TestCloseEndsAPendingOperationAndLaterOnes(t *testing.T) {
	c, _ := frozen(t, 30*time.Second)
	done := make(chan error, 1)
	go func() { done <- c.Do(context.Background(), op(kindGet, "tailgate:1", nil)) }()
	time.Sleep(100 * time.Millisecond)
	c.Close() // as the engine does under operations stuck at an interrupt
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the pending operation succeeded on a closed connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the pending operation")
	}
	if err := c.Do(context.Background(), op(kindGet, "tailgate:1", nil)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Do after Close: got %v, want net.ErrClosed", err)
	}
}

func TestConnectFailsWhenNothingListens(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, spec("memcache://"+addr))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Connect(ctx); workloads.ErrorKind(err) != workloads.KindRefused {
		t.Fatalf("got %v, want connection refused", err)
	}
}

func TestConnectFailsWhenTheServerIsNotMemcached(t *testing.T) {
	addr := testserver.ServeTCP(t, func(nc net.Conn) { nc.Write([]byte("-ERR unknown command 'version'\r\n")) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := workloads.Open(ctx, spec("memcache://"+addr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Connect(ctx); err == nil || !strings.Contains(err.Error(), "not a memcached server") {
		t.Fatalf("got %v, want a not-memcached error", err)
	}
}

func TestOpenRejectsWhatMemcachedCannotTake(t *testing.T) {
	tests := []struct {
		name   string
		target string
		change func(*slo.Workload)
		want   string
	}{
		{"a user without a password in the URL", "memcache://admin@127.0.0.1:11211", nil, "takes a user and a password"},
		{"a user with a space", "memcache://my%20admin:pw@127.0.0.1:11211", nil, `the user "my admin" holds spaces`},
		{"a prefix with a control character", "memcache://127.0.0.1", func(w *slo.Workload) { w.Keys.Prefix = "app\x7f" }, "spaces or control characters"},
		{"a path in the URL", "memcache://127.0.0.1:11211/0", nil, "no path"},
		{"a prefix with a space", "memcache://127.0.0.1", func(w *slo.Workload) { w.Keys.Prefix = "my app:" }, "spaces"},
		{"a prefix too long for a key", "memcache://127.0.0.1", func(w *slo.Workload) { w.Keys.Prefix = strings.Repeat("p", 240) }, "too long"},
		{"an operation memcache does not speak", "memcache://127.0.0.1", func(w *slo.Workload) {
			w.Mix = []slo.MixEntry{{Operation: "del", Weight: 1}}
		}, `operation "del"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(tt.target)
			if tt.change != nil {
				tt.change(&s.Component.Workload)
			}
			d, err := workloads.Open(context.Background(), s)
			if err == nil {
				d.Close()
				t.Fatal("Open accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `component "cache"`) {
				t.Fatalf("error %q does not name the component and say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestOpenUsesTheDefaultPort(t *testing.T) {
	d, err := workloads.Open(context.Background(), spec("memcache://cache.internal"))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Describe(); got != "memcache://cache.internal:11211" {
		t.Fatalf("Describe = %q", got)
	}
}

func TestRunReportsGetAndSetOperations(t *testing.T) {
	srv := testserver.Memcached(t)
	s := spec("memcache://" + srv.Addr)
	comp := testserver.MeasureEveryOperation(t, s)
	if comp.Operation("get").Count <= comp.Operation("set").Count {
		t.Errorf("the 90:10 mix measured %d gets and %d sets", comp.Operation("get").Count, comp.Operation("set").Count)
	}
}

func BenchmarkDo(b *testing.B) {
	srv := testserver.Memcached(b)
	s := spec("memcache://" + srv.Addr)
	c := connect(b, s)
	testserver.BenchmarkGetSet(b, c, kindGet, kindSet, "tailgate:")
}

// stat reads a counter of the server's "stats".
func stat(t *testing.T, addr, name string) int {
	t.Helper()
	n, ok := allStats(t, addr)[name]
	if !ok {
		t.Fatalf("stats has no %s", name)
	}
	return n
}

// A server that closes connections idle for a second (memcached -o
// idle_timeout=1), run at the shape that used to cost errors (3/s over 4
// connections, each idle 1.3 s between operations) and under load, costs
// no errors. memcached closes a connection idle for more than a second of
// its coarse clock, found by a sweep every second or two, so few of these
// gaps are closed: TestAConnectionTheServerClosedWhileIdle makes sure of
// each case.
func TestConnectionsTheServerClosesWhenIdleCostNoErrors(t *testing.T) {
	t.Parallel()
	srv := testserver.Memcached(t, "-o", "idle_timeout=1")
	for _, tt := range []struct {
		name     string
		rate     float64
		duration time.Duration
	}{
		{"3/s over 4 connections", 3, 4 * time.Second},
		{"1000/s over 4 connections", 1000, 2 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("memcache://" + srv.Addr)
			s.Component.Workload.Rate, s.Component.Workload.Connections, s.Duration = tt.rate, 4, tt.duration
			before := stat(t, srv.Addr, "idle_kicks")
			testserver.MeasureEveryOperation(t, s)
			t.Logf("%d idle connections closed by the server", stat(t, srv.Addr, "idle_kicks")-before)
		})
	}
}

// Each case of a connection memcached closed while it sat idle: found
// closed before use, an operation goes out on a new connection, a set
// included. When the server closes it after that check, as the command
// arrives (here: with the check turned off), a get that got no byte of
// reply went unprocessed and is sent again; a set may have been processed
// and stays an error.
func TestAConnectionTheServerClosedWhileIdle(t *testing.T) {
	srv := testserver.Memcached(t, "-o", "idle_timeout=1")
	ctx := context.Background()
	s := spec("memcache://" + srv.Addr)
	checked, replayedGet, unreplayedSet := connect(t, s), connect(t, s), connect(t, s)
	before := stat(t, srv.Addr, "idle_kicks")
	deadline := time.Now().Add(10 * time.Second)
	for stat(t, srv.Addr, "idle_kicks") < before+3 {
		if time.Now().After(deadline) {
			t.Fatal("the server did not close the 3 idle connections within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // for the closes to reach the client

	if err := checked.Do(ctx, op(kindSet, "tailgate:1", []byte("v"))); err != nil {
		t.Fatalf("a set on a connection found closed: %v", err)
	}
	defer sock.CheckIdleAfter(time.Hour)()
	if err := replayedGet.Do(ctx, op(kindGet, "tailgate:1", nil)); err != nil {
		t.Fatalf("the get was not sent again: %v", err)
	}
	err := unreplayedSet.Do(ctx, op(kindSet, "tailgate:1", []byte("v")))
	switch kind := workloads.ErrorKind(err); kind {
	case workloads.KindClosed, workloads.KindReset:
	default:
		t.Fatalf("a set on a connection the server closed: got %v (kind %q), want closed or reset", err, kind)
	}
	if err := unreplayedSet.Do(ctx, op(kindSet, "tailgate:1", []byte("v"))); err != nil {
		t.Fatalf("the next operation did not dial again: %v", err)
	}
}

// A server that refuses a connection is reported in its own words, not as
// "not a memcached server".
func TestARefusingServerIsReportedInItsOwnWords(t *testing.T) {
	authFile := testserver.MemcachedAuthFile(t, "gate:pw-gate-1")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"at its connection limit (-c)", []string{"-c", "24", "-t", "1"}, `refused the connection: memcache ERROR: Too many open connections`},
		{"requiring authentication (-Y)", []string{"-Y", authFile}, `requires authentication: give a user and password in the target URL (memcache://user:password@host): memcache CLIENT_ERROR: unauthenticated`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testserver.Memcached(t, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := workloads.Open(ctx, spec("memcache://"+srv.Addr))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for range 64 { // connect until the server refuses
				c, err := d.Connect(ctx)
				if err != nil {
					if !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("got %q, want it to say %q", err, tt.want)
					}
					return
				}
				defer c.Close()
			}
			t.Fatal("64 connections and no refusal")
		})
	}
}
