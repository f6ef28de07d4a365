package workloads

import (
	"bytes"
	"compress/flate"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

func testSpec(arrival slo.Arrival, rate float64) *Spec {
	return &Spec{
		Component: slo.Component{Name: "c", Target: "redis://127.0.0.1:1", Workload: slo.Workload{
			Rate: rate, Arrival: arrival, Connections: 2, Timeout: time.Second, ValueSize: 16, MaxErrorRate: 0.5,
			Keys: slo.Keys{Count: 1000, Distribution: slo.DistributionZipf, Prefix: "tg:", ZipfS: 1.1},
			Mix:  []slo.MixEntry{{Operation: "get", Weight: 90}, {Operation: "set", Weight: 10}},
		}},
		Duration: 10 * time.Second, Seed: 42,
	}
}

// requireSameArrivals draws n arrivals from a and from b, and requires
// each of a's to be b's.
func requireSameArrivals(t *testing.T, a, b *schedule, n int) {
	t.Helper()
	for range n {
		ia, da := a.next()
		ib, db := b.next()
		require.Equal(t, ia, ib)
		require.Equal(t, da, db)
	}
}

func TestScheduleIsFixedBySeed(t *testing.T) {
	for _, arrival := range []slo.Arrival{slo.ArrivalPoisson, slo.ArrivalUniform} {
		t.Run(string(arrival)+" arrivals repeat exactly run after run", func(t *testing.T) {
			requireSameArrivals(t, newSchedule(testSpec(arrival, 1000)), newSchedule(testSpec(arrival, 1000)), 1000)
		})
	}
	t.Run("another seed gives other arrivals", func(t *testing.T) {
		s := testSpec(slo.ArrivalPoisson, 1000)
		a := newSchedule(s)
		s.Seed = 43
		b := newSchedule(s)
		_, da := a.next()
		_, db := b.next()
		assert.NotEqual(t, da, db)
	})
}

func TestScheduleRates(t *testing.T) {
	tests := []struct {
		arrival slo.Arrival
		tol     float64
	}{{slo.ArrivalUniform, 0.0001}, {slo.ArrivalPoisson, 0.02}}
	for _, tt := range tests {
		t.Run(string(tt.arrival)+" arrivals hold the asked rate", func(t *testing.T) {
			s := newSchedule(testSpec(tt.arrival, 5000))
			n := 0
			for {
				_, due := s.next()
				if due >= 10*time.Second {
					break
				}
				n++
			}
			assert.InEpsilon(t, 50000, n, tt.tol)
		})
	}
}

func TestShardsPartitionTheSingleRunnerSequence(t *testing.T) {
	single := newSchedule(testSpec(slo.ArrivalPoisson, 3000))
	type op struct {
		index uint64
		due   time.Duration
	}
	var want []op
	for range 3000 {
		i, d := single.next()
		want = append(want, op{i, d})
	}
	got := map[uint64]time.Duration{}
	for shard := 1; shard <= 3; shard++ {
		spec := testSpec(slo.ArrivalPoisson, 3000)
		spec.Shard = result.Shard{Index: shard, Count: 3}
		s := newSchedule(spec)
		for range 1000 {
			i, d := s.next()
			_, dup := got[i]
			require.False(t, dup, "operation %d sent by two shards", i)
			assert.Equal(t, uint64(shard-1), i%3)
			got[i] = d
		}
	}
	for _, w := range want {
		assert.Equal(t, w.due, got[w.index], "operation %d", w.index)
	}
}

func TestDrawerDependsOnTheIndexOnly(t *testing.T) {
	spec := testSpec(slo.ArrivalPoisson, 1000)
	a, b := newDrawer(spec, valueSource(spec)), newDrawer(spec, valueSource(spec))
	var opA, opB Op
	kinds := map[int]int{}
	for i := uint64(0); i < 2000; i++ {
		a.draw(i, &opA)
		b.draw(1999-i, &opB) // another worker, another order
		b.draw(i, &opB)
		require.Equal(t, opA.Kind, opB.Kind)
		require.Equal(t, opA.Key, opB.Key)
		require.Equal(t, opA.Value, opB.Value)
		require.True(t, bytes.HasPrefix(opA.Key, []byte("tg:")), "key %q outside the prefix", opA.Key)
		require.Less(t, opA.KeyIndex, uint64(1000))
		kinds[opA.Kind]++
	}
	assert.InDelta(t, 1800, kinds[0], 80, "get share of a 90/10 mix")
}

func TestValuesAreSeededAndVaried(t *testing.T) {
	spec := testSpec(slo.ArrivalPoisson, 1000)
	d := newDrawer(spec, valueSource(spec))
	var op Op
	seen := map[string]bool{}
	for i := range uint64(100) {
		d.draw(i, &op)
		require.Len(t, op.Value, 16)
		seen[string(op.Value)] = true
	}
	assert.Greater(t, len(seen), 90, "100 writes of one fixed size carry varied content")
	assert.Equal(t, valueSource(spec), valueSource(spec))
}

func TestValueSizesFollowTheirDistribution(t *testing.T) {
	tests := []struct {
		name   string
		values slo.Values
		// check sees the sizes of 20,000 draws.
		check func(t *testing.T, sizes []int)
	}{
		{"fixed writes max bytes every time", slo.Values{Distribution: slo.SizeFixed, Min: 100, Max: 100}, func(t *testing.T, sizes []int) {
			for _, s := range sizes {
				require.Equal(t, 100, s)
			}
		}},
		{"uniform covers min to max evenly", slo.Values{Distribution: slo.SizeUniform, Min: 10, Max: 19}, func(t *testing.T, sizes []int) {
			counts := map[int]int{}
			for _, s := range sizes {
				require.True(t, 10 <= s && s <= 19, "size %d outside 10..19", s)
				counts[s]++
			}
			for s := 10; s <= 19; s++ {
				assert.InDelta(t, 2000, counts[s], 250, "size %d", s)
			}
		}},
		{"zipf favours small sizes", slo.Values{Distribution: slo.SizeZipf, Min: 64, Max: 4096}, func(t *testing.T, sizes []int) {
			small, large := 0, 0
			for _, s := range sizes {
				require.True(t, 64 <= s && s <= 4096, "size %d outside 64..4096", s)
				if s < 128 {
					small++
				}
				if s > 2048 {
					large++
				}
			}
			assert.Greater(t, small, 10*large, "%d values under 128 bytes, %d over 2048", small, large)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testSpec(slo.ArrivalPoisson, 1000)
			spec.Component.Workload.Values = &tt.values
			spec.Component.Workload.ValueSize = tt.values.Max
			d := newDrawer(spec, valueSource(spec))
			var op Op
			sizes := make([]int, 20000)
			for i := range sizes {
				d.draw(uint64(i), &op)
				sizes[i] = len(op.Value)
			}
			tt.check(t, sizes)
		})
	}
}

func TestCompressibilityIsTheCompressibleShare(t *testing.T) {
	for _, c := range []float64{0, 0.5, 0.9} {
		t.Run(fmt.Sprintf("%.0f%%", c*100), func(t *testing.T) {
			spec := testSpec(slo.ArrivalPoisson, 1000)
			spec.Component.Workload.Values = &slo.Values{Distribution: slo.SizeFixed, Min: 64 << 10, Max: 64 << 10, Compressibility: c}
			spec.Component.Workload.ValueSize = 64 << 10
			d := newDrawer(spec, valueSource(spec))
			var op Op
			d.draw(7, &op)
			var buf bytes.Buffer
			zw, _ := flate.NewWriter(&buf, flate.BestCompression)
			zw.Write(op.Value)
			zw.Close()
			saved := 1 - float64(buf.Len())/float64(len(op.Value))
			assert.InDelta(t, c, saved, 0.06, "a %.0f%% compressible value shrinks by %.1f%%", c*100, saved*100)
		})
	}
}

func BenchmarkRecord(b *testing.B) {
	s := newSliceSet(2)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// An interval of 16,384 operations, then the collector empties it.
		if i%(1<<14) == 0 {
			s.reset()
		}
		s.ops[i&1].record(sample{latency: int64(50_000 + i%100_000), service: int64(40_000 + i%50_000), client: int64(i % 5_000), stage: -1}, i%64 == 0, 0, 0)
	}
}

// BenchmarkRecordPeerBareHDR is the peer of BenchmarkRecord: one bare
// hdrhistogram RecordValue, the floor any recorder pays.
func BenchmarkRecordPeerBareHDR(b *testing.B) {
	h := result.NewHistogram()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = h.RecordValue(int64(50_000 + i%100_000))
	}
}

func BenchmarkScheduleAndDraw(b *testing.B) {
	spec := testSpec(slo.ArrivalPoisson, 50_000)
	s, d := newSchedule(spec), newDrawer(spec, valueSource(spec))
	var op Op
	b.ReportAllocs()
	for b.Loop() {
		i, _ := s.next()
		d.draw(i, &op)
	}
}

func BenchmarkPreciseWait(b *testing.B) {
	s := RealClock{}.NewSleeper().(*realSleeper)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s.precise.Wait(time.Microsecond)
	}
}

// The ideal connection counts as client delay only the generator's own
// lateness, its late noticing of replies included, and as a wait behind
// the previous reply only what the target took.
func TestIdealConnCountsOnlyTheGeneratorsOwnDelay(t *testing.T) {
	at := func(ms float64) time.Time { return time.Unix(0, 0).Add(time.Duration(ms * float64(time.Millisecond))) }
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	type op struct {
		due, sent, service float64 // ms
		want               float64 // client delay, ms
		wait               float64 // ideal start less intended start, ms
	}
	for _, tc := range []struct {
		name string
		late float64 // the runner's wake-up delay as each reply ends, ms
		ops  []op
	}{
		{"an idle worker sent on time has no delay", 0, []op{{0, 0, 1, 0, 0}, {5, 5, 1, 0, 0}}},
		{"a worker that woke late owns the lateness", 0, []op{{0, 0.3, 1, 0.3, 0}, {5, 7, 1, 2, 0}}},
		{"waiting for the connection's previous reply is the target's", 0, []op{{0, 0, 10, 0, 0}, {1, 10, 10, 0, 9}, {2, 20, 1, 0, 18}}},
		{"what the worker adds after the reply is its own", 0, []op{{0, 0, 10, 0, 0}, {1, 10.5, 1, 0.5, 9}}},
		{"a backlog left by a late wake-up is the generator's", 0, []op{{0, 5, 1, 5, 0}, {1, 6, 1, 5, 0}, {2, 7, 1, 5, 0}, {10, 10, 1, 0, 0}}},
		// Each reply noticed 2 ms late, of a service time of 3: the
		// target took 1 ms, and each later send is behind by the
		// noticing of every reply before it.
		{"replies noticed late are the generator's delay, not a wait", 2, []op{{0, 0, 3, 0, 0}, {1, 3, 3, 2, 0}, {2, 6, 3, 4, 0}}},
		{"a stalled reply holds up the ones behind it, noticed late", 2, []op{{0, 0, 52, 0, 0}, {1, 52, 3, 2, 49}, {2, 55, 3, 4, 49}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c idealConn
			for i, o := range tc.ops {
				got := c.send(at(o.due), at(o.sent))
				assert.InDelta(t, o.want*1e6, float64(got), 1, "client delay of operation %d", i)
				assert.InDelta(t, o.wait*1e6, float64(c.start.Sub(at(o.due))), 1, "wait of operation %d", i)
				c.done(ms(o.service), ms(tc.late))
			}
		})
	}
}

// A generator short of CPU notices most replies at once and some only after
// a descheduled stretch: its lean service times are noisy, negative for the
// first and several times the mean for the others. The operations it leaves
// unsent are weighed on their mean, not on the last few replies', however
// those ended.
func TestTheLeanTimelineWeighsUnsentOperationsOnTheMeanNotTheLastReplies(t *testing.T) {
	at := func(us int) time.Time { return time.Unix(0, 0).Add(time.Duration(us) * time.Microsecond) }
	for _, tc := range []struct {
		name      string
		late      time.Duration // the runner's wake-up delay as each reply ends
		wantOwned int           // of the 100 unsent
	}{
		{"replies noticed late by a starved runner: the target was quick", time.Millisecond, 100},
		{"the same service times, the runner on time: the target took them", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pool drainPool
			c := idealConn{slot: timelineSlot{lane: pool.lane()}}
			due := 0
			for i := range 1000 {
				service := 50 * time.Microsecond // noticed at once
				if i%8 == 7 || i >= 997 {
					service = 5 * time.Millisecond // left waiting a time slice
				}
				c.send(at(due), at(due))
				c.done(service, tc.late)
				due += 400
			}
			deadline := at(due + 100*400 + 20000) // the last unsent due, and 20 ms
			c.idle()
			owned := 0
			for range 100 {
				if pool.unsent(at(due), deadline, deadline, 0) {
					owned++
				}
				due += 400
			}
			assert.Equal(t, tc.wantOwned, owned)
		})
	}
}

// The operations left unsent are weighed on every lane of the component
// that a generator never late could have sent them on, whichever worker
// drew them: each lane here takes 10 ms an operation, and 100 operations
// due at once, 250 ms before the deadline, fit 26 to a lane.
func TestTheDrainPoolWeighsUnsentOperationsOnEveryLane(t *testing.T) {
	t0 := time.Unix(1000, 0)
	deadline, now := t0.Add(250*time.Millisecond), t0.Add(300*time.Millisecond)
	perOp := 10 * time.Millisecond
	idle := func(l *leanLane) { l.idle(t0, perOp) }
	busySince := func(ago time.Duration) func(*leanLane) {
		return func(l *leanLane) { l.busy(t0, now.Add(-ago), perOp) }
	}
	for _, tc := range []struct {
		name   string
		others func(*leanLane) // the state of the three lanes beside an idle one
		late   time.Duration   // the runner's recent wake-up delay
		want   int             // of the 100
	}{
		{"four idle lanes take them all", idle, 0, 100},
		{"lanes never published (in flight since before the end) take none", func(*leanLane) {}, 0, 26},
		{"lanes busy for a second take none", busySince(time.Second), 0, 26},
		{"lanes busy for 5 ms take theirs once their operation is taken to end", busySince(5 * time.Millisecond), 0, 100},
		{"lanes whose second in flight was the runner's delay are free soon", busySince(time.Second), 995 * time.Millisecond, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pool drainPool
			idle(pool.lane())
			for range 3 {
				tc.others(pool.lane())
			}
			owned := 0
			for range 100 {
				if pool.unsent(t0, deadline, now, tc.late) {
					owned++
				}
			}
			assert.Equal(t, tc.want, owned)
		})
	}
	t.Run("a lane published later is taken at its place", func(t *testing.T) {
		var pool drainPool
		first, second := pool.lane(), pool.lane()
		idle(first)
		owned := 0
		for i := range 100 {
			if i == 10 {
				idle(second) // its worker finished its operation and drains too
			}
			if pool.unsent(t0, deadline, now, 0) {
				owned++
			}
		}
		assert.Equal(t, 52, owned, "26 on each")
	})
}

// BenchmarkCPUProbe is the runner probe's fixed computation, run every
// ProbeEvery while load runs.
func BenchmarkCPUProbe(b *testing.B) {
	for b.Loop() {
		cpuProbeSink.Store(cpuProbe())
	}
}

// multiKeyDriver takes five keys for operations of kind 1.
type multiKeyDriver struct{ Driver }

func (multiKeyDriver) KeysPerOp(kind int) int { return 5 * kind }

func TestAnOperationOfSeveralKeysDrawsThemFromTheIndexOnly(t *testing.T) {
	spec := testSpec(slo.ArrivalPoisson, 1000)
	plain, a, b := newDrawer(spec, valueSource(spec)), newDrawer(spec, valueSource(spec)), newDrawer(spec, valueSource(spec))
	a.multiKey(multiKeyDriver{}, 2)
	b.multiKey(multiKeyDriver{}, 2)
	var opPlain, opA, opB Op
	multi, lastMulti := 0, uint64(0)
	for i := uint64(0); i < 2000; i++ {
		plain.draw(i, &opPlain)
		a.draw(i, &opA)
		b.draw(1999-i, &opB)
		b.draw(i, &opB)
		// The kind, the first key and the value are what a drawer of
		// single keys draws.
		require.Equal(t, opPlain.Kind, opA.Kind)
		require.Equal(t, opPlain.Key, opA.Key)
		require.Equal(t, opPlain.Value, opA.Value)
		require.Equal(t, opA.Keys, opB.Keys)
		if opA.Kind == 0 {
			require.Nil(t, opA.Keys)
			continue
		}
		multi, lastMulti = multi+1, i
		require.Len(t, opA.Keys, 5)
		require.Equal(t, opA.Key, opA.Keys[0])
		distinct := map[string]bool{}
		for _, k := range opA.Keys {
			require.True(t, bytes.HasPrefix(k, []byte("tg:")), "key %q outside the prefix", k)
			distinct[string(k)] = true
		}
		require.Greater(t, len(distinct), 1, "keys %q", opA.Keys)
	}
	assert.InDelta(t, 200, multi, 80, "share of kind 1 in a 90/10 mix")
	assert.Zero(t, testing.AllocsPerRun(100, func() { a.draw(lastMulti, &opA) }), "allocations per draw of several keys")
}
