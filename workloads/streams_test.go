package workloads

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeMux is a multiplexing driver for engine tests: every Conn of one
// ConnectStreams call shares one "connection", and Do runs fakeDrivers[host]
// with the Conn's connection and stream numbers.
type fakeMux struct {
	do func(ctx context.Context, conn, stream int, op *Op) error

	mu      sync.Mutex
	connect []int // the n of every ConnectStreams call
}

var fakeMuxes sync.Map // host → *fakeMux

func init() {
	Register("fakemux", func(_ context.Context, target *url.URL, _ *Spec) (Driver, error) {
		m, _ := fakeMuxes.Load(target.Host)
		return m.(*fakeMux), nil
	})
}

var _ Multiplexer = (*fakeMux)(nil)

func (m *fakeMux) Connect(ctx context.Context) (Conn, error) {
	conns, err := m.ConnectStreams(ctx, 1)
	if err != nil {
		return nil, err
	}
	return conns[0], nil
}

func (m *fakeMux) ConnectStreams(_ context.Context, n int) ([]Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.connect = append(m.connect, n)
	out := make([]Conn, n)
	for i := range out {
		out[i] = fakeStream{m: m, conn: len(m.connect) - 1, stream: i}
	}
	return out, nil
}

func (*fakeMux) Describe() string { return "fakemux" }
func (*fakeMux) Close() error     { return nil }

type fakeStream struct {
	m            *fakeMux
	conn, stream int
}

func (s fakeStream) Do(ctx context.Context, op *Op) error { return s.m.do(ctx, s.conn, s.stream, op) }
func (fakeStream) Close() error                           { return nil }

func TestStreamsRunAWorkerPerStream(t *testing.T) {
	var seen sync.Map // [2]int{conn, stream} → true
	m := &fakeMux{do: func(_ context.Context, conn, stream int, op *Op) error {
		seen.Store([2]int{conn, stream}, true)
		if op.Index%4 == 0 {
			// Held back for a stream, as when the server's limit is reached.
			time.Sleep(3 * time.Millisecond)
			op.Sent = time.Now()
		}
		return nil
	}}
	fakeMuxes.Store(t.Name(), m)
	t.Cleanup(func() { fakeMuxes.Delete(t.Name()) })
	s := fakeSpec("fakemux://"+t.Name(), 200, time.Second)
	s.Component.Workload.Connections, s.Component.Workload.Streams = 2, 4
	res, err := Run(context.Background(), []*Spec{s}, Options{})
	require.NoError(t, err)

	assert.Equal(t, []int{4, 4}, m.connect, "one ConnectStreams of 4 streams per connection")
	n := 0
	seen.Range(func(_, _ any) bool { n++; return true })
	assert.Equal(t, 8, n, "8 workers, one per stream, all used")
	all := res.Components[0].Operation("all")
	assert.EqualValues(t, 200, all.Count)
	assert.GreaterOrEqual(t, all.Late, int64(50), "every operation held back 3 ms is late")
	assert.GreaterOrEqual(t, all.LatencyNS.P90, int64(3*time.Millisecond), "the wait is in the latency")
	assert.Less(t, all.ServiceNS.P90, int64(3*time.Millisecond), "service time starts when the operation went out")
}

func TestStreamsNeedAMultiplexingDriver(t *testing.T) {
	target := fakeTarget(t, func(context.Context, *Op) error { return nil })
	s := fakeSpec(target, 100, time.Second)
	s.Component.Workload.Streams = 4
	_, err := Run(context.Background(), []*Spec{s}, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `component "c": workload.streams 4: fake carries one operation at a time per connection`)
}
