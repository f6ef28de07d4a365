package workloads

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// fakeDrivers are in-process targets for engine tests, by URL host:
// fake://NAME runs fakeDrivers[NAME] for each operation.
var (
	fakeMu      sync.Mutex
	fakeDrivers = map[string]func(ctx context.Context, op *Op) error{}
	fakeNext    int
)

func init() {
	Register("fake", func(_ context.Context, target *url.URL, _ *Spec) (Driver, error) {
		fakeMu.Lock()
		defer fakeMu.Unlock()
		return fakeDriver{do: fakeDrivers[target.Host]}, nil
	})
}

type fakeDriver struct {
	do func(ctx context.Context, op *Op) error
}

func (d fakeDriver) Connect(context.Context) (Conn, error) { return fakeConn(d), nil }
func (fakeDriver) Describe() string                        { return "fake" }
func (fakeDriver) Close() error                            { return nil }

type fakeConn fakeDriver

func (c fakeConn) Do(ctx context.Context, op *Op) error { return c.do(ctx, op) }
func (fakeConn) Close() error                           { return nil }

// fakeTarget registers an operation for a test and returns its target.
func fakeTarget(t testing.TB, do func(ctx context.Context, op *Op) error) string {
	t.Helper()
	fakeMu.Lock()
	defer fakeMu.Unlock()
	fakeNext++
	name := "t" + strconv.Itoa(fakeNext)
	fakeDrivers[name] = do
	t.Cleanup(func() {
		fakeMu.Lock()
		defer fakeMu.Unlock()
		delete(fakeDrivers, name)
	})
	return "fake://" + name
}

func fakeSpec(target string, rate float64, duration time.Duration) *Spec {
	return &Spec{
		Component: slo.Component{Name: "c", Target: target, Workload: slo.Workload{
			Rate: rate, Arrival: slo.ArrivalUniform, Connections: 4, Timeout: time.Second, ValueSize: 8, MaxErrorRate: 1,
			Keys: slo.Keys{Count: 100, Distribution: slo.DistributionUniform, Prefix: "k"},
			Mix:  []slo.MixEntry{{Operation: "get", Weight: 3}, {Operation: "set", Weight: 1}},
		}},
		Duration: duration, Seed: 7, Interval: 100 * time.Millisecond,
	}
}

func decodeAll(t *testing.T, encoded string) *hdrhistogram.Histogram {
	t.Helper()
	h, err := hdrhistogram.Decode([]byte(encoded))
	require.NoError(t, err)
	return h
}

// The collector's bookkeeping must lose nothing: every measured operation
// is in its interval, in the whole-run latency histogram and in the
// service-time histogram, bucket for bucket.
func TestTheRecordHoldsEveryOperationOnce(t *testing.T) {
	var calls sync.Map
	clock := newSimClock(t)
	target := fakeTarget(t, func(ctx context.Context, op *Op) error {
		calls.Store(op.Index, true)
		// Latencies from 20 us to 3 ms, so many buckets are used.
		clock.sleep(ctx, time.Duration(20+op.Index%30*100)*time.Microsecond)
		return nil
	})
	res, err := Run(context.Background(), []*Spec{fakeSpec(target, 1000, time.Second)}, Options{Clock: clock})
	require.NoError(t, err)
	c := res.Components[0]
	total := requireEveryOperationOnce(t, c)
	assert.EqualValues(t, 1000, total, "1 s at 1000/s, uniform")
	assert.EqualValues(t, 1000, c.Operation("all").Count)
	n := 0
	calls.Range(func(_, _ any) bool { n++; return true })
	assert.Equal(t, 1000, n, "each operation was performed once")
}

// requireEveryOperationOnce checks that every operation of c is in its
// interval, in the whole-run latency histogram and in the service-time
// histogram, bucket for bucket, and returns how many the operation kinds
// hold together.
func requireEveryOperationOnce(t *testing.T, c result.ComponentResult) int64 {
	t.Helper()
	var total int64
	for _, op := range append(c.Operations[:len(c.Operations)-1:len(c.Operations)-1], *c.Operation("all")) {
		whole := decodeAll(t, op.Histogram)
		service := decodeAll(t, op.ServiceHistogram)
		sum, clientSum := result.NewHistogram(), result.NewHistogram()
		for _, iv := range op.Intervals {
			require.Zero(t, sum.Merge(decodeAll(t, iv.Histogram)))
			require.Zero(t, clientSum.Merge(decodeAll(t, iv.ClientDelayHistogram)))
		}
		assert.Equal(t, op.Count, whole.TotalCount(), op.Name)
		assert.Equal(t, op.Count, service.TotalCount(), "%s: one service time per operation", op.Name)
		require.NotNil(t, op.ClientDelayNS, op.Name)
		client, lessClient := decodeAll(t, op.ClientDelayHistogram), decodeAll(t, op.LatencyLessClientHistogram)
		assert.Equal(t, op.Count, client.TotalCount(), "%s: one client delay per operation", op.Name)
		assert.Equal(t, op.Count, lessClient.TotalCount(), "%s: one latency less client delay per operation", op.Name)
		assert.LessOrEqual(t, lessClient.Max(), whole.Max(), "%s: removing a delay never lengthens a latency", op.Name)
		assert.Equal(t, whole.Export().Counts, sum.Export().Counts, "%s: the intervals add up to the whole, bucket for bucket", op.Name)
		assert.Equal(t, client.Export().Counts, clientSum.Export().Counts, "%s: the intervals' client delays add up to the whole's", op.Name)
		if op.Name != "all" {
			total += op.Count
		}
	}
	return total
}

// A worker whose slice of an interval fills (sliceSamples of one kind)
// hands it over and goes on in another of the same interval: the record
// still holds every operation once, in its interval.
func TestAWorkerThatFillsItsSliceLosesNothing(t *testing.T) {
	var calls atomic.Int64
	clock := newSimClock(t)
	target := fakeTarget(t, func(ctx context.Context, op *Op) error {
		calls.Add(1)
		return nil
	})
	spec := fakeSpec(target, 50_000, time.Second)
	spec.Component.Workload.Connections = 1
	spec.Interval = time.Second
	res, err := Run(context.Background(), []*Spec{spec}, Options{Clock: clock})
	require.NoError(t, err)
	c := res.Components[0]
	get := c.Operation("get")
	require.Len(t, get.Intervals, 1)
	require.Greater(t, get.Intervals[0].Count, int64(sliceSamples), "the one worker filled a slice of its one interval")
	assert.EqualValues(t, 50_000, requireEveryOperationOnce(t, c), "1 s at 50,000/s, uniform")
	assert.EqualValues(t, 50_000, calls.Load(), "each operation was performed once")
}

// An operation is only counted as unsent when the run's end and the timeout
// after it have passed before its worker could send it. A stall of the
// whole process that long (a machine too loaded to run the test binary for
// seconds) turns every remaining operation into one: this is the failure a
// loaded race-enabled suite can show in the interleaved tests, whose
// segments last 1.5 s.
func TestOnlyAStallPastTheEndAndTheTimeoutLeavesOperationsUnsent(t *testing.T) {
	t.Run("workers held up less than the timeout send everything, late", func(t *testing.T) {
		var once sync.Map
		clock := newSimClock(t)
		target := fakeTarget(t, func(ctx context.Context, op *Op) error {
			if _, held := once.LoadOrStore("first", true); !held {
				clock.sleep(ctx, 600*time.Millisecond) // one worker stuck on one operation
			}
			return nil
		})
		s := fakeSpec(target, 400, 500*time.Millisecond)
		res, err := Run(context.Background(), []*Spec{s}, Options{Clock: clock})
		require.NoError(t, err)
		all := res.Components[0].Operation("all")
		assert.Zero(t, all.ErrorKinds[KindUnsent])
		assert.EqualValues(t, 200, all.Count)
	})
	t.Run("a stall past the end and the timeout leaves the rest unsent", func(t *testing.T) {
		clock := newSimClock(t)
		release := clock.Now().Add(800 * time.Millisecond)
		target := fakeTarget(t, func(ctx context.Context, op *Op) error {
			clock.wait(ctx, release) // every worker stuck at once, as when the process stalls
			return nil
		})
		s := fakeSpec(target, 400, 500*time.Millisecond)
		s.Component.Workload.Timeout = 200 * time.Millisecond
		res, err := Run(context.Background(), []*Spec{s}, Options{Clock: clock})
		require.NoError(t, err) // max_error_rate 100%
		all := res.Components[0].Operation("all")
		assert.Equal(t, int64(4), all.Count, "the four operations the workers were stuck on")
		assert.EqualValues(t, 200-4, all.ErrorKinds[KindUnsent])
		assert.Zero(t, all.ClientUnsent, "the target held every worker: the operations left unsent are its own")
	})
	for _, pipeline := range []int{1, 4} {
		t.Run(fmt.Sprintf("a generator frozen past the end leaves the rest unsent on its own account, pipeline %d", pipeline), func(t *testing.T) {
			frozenGeneratorLeavesItsOwnUnsent(t, pipeline)
		})
		t.Run(fmt.Sprintf("a generator starved throughout leaves the rest unsent on its own account, pipeline %d", pipeline), func(t *testing.T) {
			all := starvedOrSlow(t, pipeline, 1)
			assert.Positive(t, all.ErrorKinds[KindUnsent])
			assert.Equal(t, all.ErrorKinds[KindUnsent], all.ClientUnsent,
				"every reply was noticed as late as the runner's wake-ups were: the target answered at once")
			// The backlog is the generator's: the latency less the client
			// delay holds only the service times, replies noticed late.
			took := 20 * time.Millisecond * time.Duration(pipeline)
			assert.Greater(t, time.Duration(all.LatencyNS.P99), 4*took)
			assert.Less(t, quantile(t, all.LatenciesLessClient, 0.99), 2*took)
		})
		t.Run(fmt.Sprintf("a generator starved of 60%% of each operation's time leaves the rest unsent on its own account, pipeline %d", pipeline), func(t *testing.T) {
			// 8 ms of the target's an operation, 10 ms apart on each
			// connection: a generator never late keeps up. Weighed on
			// the lane of the worker that drew them alone, 42 of 60 were
			// tailgate's (44 of 56 pipelined).
			all := starvedOrSlow(t, pipeline, 0.6)
			assert.Positive(t, all.ErrorKinds[KindUnsent])
			assert.Equal(t, all.ErrorKinds[KindUnsent], all.ClientUnsent, "weighed on every connection's ideal timeline, not the drawing worker's alone")
		})
		t.Run(fmt.Sprintf("a target as slow leaves the rest unsent on its own account, pipeline %d", pipeline), func(t *testing.T) {
			all := starvedOrSlow(t, pipeline, 0)
			assert.Positive(t, all.ErrorKinds[KindUnsent])
			assert.Zero(t, all.ClientUnsent, "the same service times, the runner woken on time: the target took them")
			took := 20 * time.Millisecond * time.Duration(pipeline)
			assert.Greater(t, quantile(t, all.LatenciesLessClient, 0.99), 4*took, "the backlog the target made is its own")
		})
	}
}

// quantile is the q-quantile of the histogram read returns.
func quantile(t *testing.T, read func() (*hdrhistogram.Histogram, error), q float64) time.Duration {
	t.Helper()
	h, err := read()
	require.NoError(t, err)
	require.Positive(t, h.TotalCount())
	return time.Duration(h.ValueAtQuantile(q * 100))
}

// A target that stalls now and then, on a runner that notices every reply
// late: the operations queued behind a stall are answered quickly once it
// is over, so their service times are short and the wait is in their
// latency. The latency less the client delay holds that wait, the
// target's, and not the runner's lateness.
func TestTheLatencyLessClientHoldsTheWaitBehindAStallingTarget(t *testing.T) {
	const late = 3 * time.Millisecond
	sim := newSimClock(t)
	target := fakeTarget(t, func(ctx context.Context, op *Op) error {
		own := time.Millisecond
		if op.Index%100 == 50 {
			own = 60 * time.Millisecond // every 100th operation stalls
		}
		sim.sleep(ctx, own+late) // the reply noticed late
		return nil
	})
	s := fakeSpec(target, 200, 2*time.Second)
	s.Component.Workload.Connections = 1
	res, err := Run(context.Background(), []*Spec{s}, Options{Clock: latingClock{sim, late}})
	require.NoError(t, err)
	all := res.Components[0].Operation("all")
	require.Zero(t, all.Errors)
	service := time.Duration(all.ServiceNS.P99)
	assert.Less(t, service, 10*time.Millisecond, "one operation in 100 stalls: the service times' p99 is short")
	// Behind each stall a dozen operations queue, 5 ms apart: the p99 is
	// the stall's own latency or the first one's behind it, some 60 ms.
	// The latency less the client delay holds all of it but the runner's
	// lateness: in sending, and in noticing the stalled reply.
	latency, own := time.Duration(all.LatencyNS.P99), quantile(t, all.LatenciesLessClient, 0.99)
	assert.Greater(t, latency, 50*time.Millisecond)
	assert.Greater(t, own, latency-3*late, "the wait behind the stall is the target's")
	assert.LessOrEqual(t, own, latency)
}

// starvedOrSlow runs 500 ms at 400/s on 4 connections with a 200 ms
// timeout, every operation taking 20 ms (pipelined, a batch pipeline deep
// 20 ms × pipeline) from its send to tailgate reading its reply, which
// keeps up with at most half the asked rate. Of that time, the share
// starved is tailgate short of CPU throughout: it notices each reply that
// late, and every wait of its own (the pacing, the runner probe) ends that
// late too; the rest is the target's. Starved 1, the target answers at
// once; 0, the target takes it all and tailgate is on time.
func starvedOrSlow(t *testing.T, pipeline int, starved float64) *result.OperationResult {
	t.Helper()
	took := 20 * time.Millisecond * time.Duration(pipeline)
	sim := newSimClock(t)
	var clock Clock = sim
	if starved > 0 {
		clock = latingClock{sim, time.Duration(float64(took) * starved)}
	}
	target := fakeTarget(t, func(ctx context.Context, op *Op) error {
		sim.sleep(ctx, took)
		return nil
	})
	if pipeline > 1 {
		var st *store
		st, target = newStore(t, took)
		st.sim = sim
	}
	res := runBehind(t, target, clock, pipeline)
	all := res.Components[0].Operation("all")
	assert.Less(t, all.Count, int64(150), "at most half of the 200 asked, and the timeout's share")
	assert.Equal(t, int64(200), all.Count+all.ErrorKinds[KindUnsent], "every operation succeeded or went unsent")
	return all
}

// runBehind runs target for 500 ms at 400/s with a 200 ms timeout on
// clock, pipeline deep, for the tests of operations left unsent.
func runBehind(t *testing.T, target string, clock Clock, pipeline int) *result.Result {
	t.Helper()
	s := fakeSpec(target, 400, 500*time.Millisecond)
	s.Component.Workload.Timeout = 200 * time.Millisecond
	s.Component.Workload.Pipeline = pipeline
	res, err := Run(context.Background(), []*Spec{s}, Options{Clock: clock})
	require.NoError(t, err) // max_error_rate 100%
	return res
}

// latingClock is a simulated clock on which every wait of tailgate's ends
// late by a fixed delay: a load generator short of CPU throughout.
type latingClock struct {
	*simClock
	late time.Duration
}

func (c latingClock) NewSleeper() Sleeper {
	return latingSleeper{c.simClock.NewSleeper(), c.late}
}

type latingSleeper struct {
	Sleeper
	late time.Duration
}

func (s latingSleeper) Until(ctx context.Context, t time.Time) bool {
	return s.Sleeper.Until(ctx, t.Add(s.late))
}

// frozenGeneratorLeavesItsOwnUnsent runs 500 ms at 400/s, the generator
// frozen from 300 ms to past the end and the 200 ms timeout, against a
// target that answers at once (pipelined pipeline deep, when above 1).
func frozenGeneratorLeavesItsOwnUnsent(t *testing.T, pipeline int) {
	sim := newSimClock(t)
	now := sim.Now()
	clock := freezingClock{sim, now.Add(startDelay + 300*time.Millisecond), now.Add(time.Second)}
	target := fakeTarget(t, func(ctx context.Context, op *Op) error { return nil })
	if pipeline > 1 {
		_, target = newStore(t, 0)
	}
	res := runBehind(t, target, clock, pipeline)
	all := res.Components[0].Operation("all")
	assert.EqualValues(t, 120, all.Count, "the operations due before the freeze")
	assert.EqualValues(t, 80, all.ErrorKinds[KindUnsent], "the rest, woken past the end and the timeout")
	assert.Equal(t, all.ErrorKinds[KindUnsent], all.ClientUnsent, "a generator never late would have sent every one of them, the target answering at once")
	var kinds int64
	for _, op := range res.Components[0].Operations[:2] {
		kinds += op.ClientUnsent
	}
	assert.Equal(t, all.ClientUnsent, kinds, "all's are its operations'")
}

// freezingClock is a simulated clock on which every wait of tailgate's
// that would end in [from, to) ends at to: a load generator frozen for a
// while (its process descheduled, a stop-the-world pause), the target
// untouched.
type freezingClock struct {
	*simClock
	from, to time.Time
}

func (c freezingClock) NewSleeper() Sleeper {
	return freezingSleeper{c.simClock.NewSleeper(), c}
}

type freezingSleeper struct {
	Sleeper
	c freezingClock
}

func (s freezingSleeper) Until(ctx context.Context, t time.Time) bool {
	if !t.Before(s.c.from) && t.Before(s.c.to) {
		t = s.c.to
	}
	return s.Sleeper.Until(ctx, t)
}

// A target that cannot keep up queues the operations behind its replies:
// their latency grows without bound, and none of it is the generator's.
// A generator starved of CPU (one thread, a goroutine that never yields
// but to the runtime's 10 ms preemption) is late by itself: that shows in
// the client delay, and in the runner's wake-up delay.
func TestClientDelayTellsTheGeneratorsLatenessFromTheTargets(t *testing.T) {
	t.Run("a slow target's queue is not client delay", func(t *testing.T) {
		clock := newSimClock(t)
		target := fakeTarget(t, func(ctx context.Context, op *Op) error {
			clock.sleep(ctx, 10*time.Millisecond)
			return nil
		})
		s := fakeSpec(target, 200, time.Second)
		s.Component.Workload.Connections = 1
		s.Component.Workload.Timeout = 5 * time.Second
		res, err := Run(context.Background(), []*Spec{s}, Options{Clock: clock})
		require.NoError(t, err)
		all := res.Components[0].Operation("all")
		require.NotNil(t, all.ClientDelayNS)
		assert.Greater(t, all.LatencyNS.P50, int64(100*time.Millisecond), "half the asked rate: the queue grows")
		assert.Less(t, all.ClientDelayNS.P99, all.LatencyNS.P50/10, "the queue is the target's")
		assert.Greater(t, all.LatencyLessClientNS.P50, all.LatencyNS.P50/2)
	})
	t.Run("a starved generator's lateness is client delay", func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for x := 0; ; x++ {
				if x%(1<<20) == 0 {
					select {
					case <-stop:
						return
					default:
					}
				}
			}
		}()
		target := fakeTarget(t, func(ctx context.Context, op *Op) error { return nil })
		s := fakeSpec(target, 500, time.Second)
		res, err := Run(context.Background(), []*Spec{s}, Options{})
		require.NoError(t, err)
		all := res.Components[0].Operation("all")
		require.NotNil(t, all.ClientDelayNS)
		assert.Greater(t, all.ClientDelayNS.P99, int64(time.Millisecond), "workers wait for the busy goroutine's preemption")
		require.NotNil(t, res.Runner)
		assert.Greater(t, res.Runner.WakeupNS.P99, int64(time.Millisecond), "and so does the probe")
		assert.Positive(t, res.Runner.CPUProbeNS.P50, "the probe's computation is timed")
	})
}

// Closed-loop runs have no intended start: no client delay is recorded.
func TestAClosedLoopRunRecordsNoClientDelay(t *testing.T) {
	clock := newSimClock(t)
	target := fakeTarget(t, func(ctx context.Context, op *Op) error { clock.sleep(ctx, time.Millisecond); return nil })
	s := fakeSpec(target, 0, 200*time.Millisecond)
	res, err := Run(context.Background(), []*Spec{s}, Options{Clock: clock})
	require.NoError(t, err)
	for _, op := range res.Components[0].Operations {
		assert.Nil(t, op.ClientDelayNS, op.Name)
		assert.Empty(t, op.ClientDelayHistogram, op.Name)
	}
}
