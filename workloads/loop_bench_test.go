package workloads

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
)

// BenchmarkWorkerLoop times the engine's per-operation path (pacing, the
// draw, the send on a connection that does nothing, recording, the clock):
// one connection asked for far more than it can send, so it never waits,
// and the run takes as long as its operations cost. It reports the cost
// and the allocations per operation, run setup included.
func BenchmarkWorkerLoop(b *testing.B) {
	target := fakeTarget(&testing.T{}, func(ctx context.Context, op *Op) error { return nil })
	spec := fakeSpec(target, 1e6, 200*time.Millisecond)
	benchmarkRuns(b, spec)
}

// BenchmarkWorkerLoopInStages is BenchmarkWorkerLoop with the rate in two
// stages, the second ramping (both above what one connection sends, so it
// never waits either): the per-operation cost of the staged schedule and of
// recording each operation's stage as well, against BenchmarkWorkerLoop's
// in the same invocation.
func BenchmarkWorkerLoopInStages(b *testing.B) {
	target := fakeTarget(&testing.T{}, func(ctx context.Context, op *Op) error { return nil })
	stages := []slo.Stage{{Rate: 1e6, Duration: 100 * time.Millisecond}, {Rate: 2e6, Duration: 100 * time.Millisecond, Ramp: slo.RampLinear}}
	spec := fakeSpec(target, slo.MeanRate(stages), slo.StagesDuration(stages))
	spec.Component.Workload.Stages = stages
	benchmarkRuns(b, spec)
}

// BenchmarkPipelinedWorkerLoop is BenchmarkWorkerLoop pipelined 16 deep,
// on the in-process store of the pipelining tests with no round trip: the
// per-operation cost of queueing, flushing and receiving in the engine.
func BenchmarkPipelinedWorkerLoop(b *testing.B) {
	_, target := newStore(&testing.T{}, 0)
	spec := fakeSpec(target, 1e6, 200*time.Millisecond)
	spec.Component.Workload.Pipeline = 16
	benchmarkRuns(b, spec)
}

// benchmarkRuns runs spec, on one connection that never times out, once a
// benchmark iteration, and reports the cost and the allocations per sent
// operation.
func benchmarkRuns(b *testing.B, spec *Spec) {
	spec.Component.Workload.Connections = 1
	spec.Component.Workload.Timeout = time.Minute
	var ops int64
	var elapsed time.Duration
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		began := time.Now()
		res, err := Run(context.Background(), []*Spec{spec}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(began)
		ops += res.Components[0].Operation("all").Count
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(ops), "ns/sent")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(ops), "allocs/sent")
}

// BenchmarkConnections runs 300 ms at 2,000/s (two operation kinds) on 8
// and on 1,000 connections, on a target that does nothing, and reports the
// bytes allocated per connection: what a run's memory grows by with its
// connections, against the 8-connection run in the same invocation. A
// worker notes samples rather than keep histograms of its own (a dense one
// of tailgate's range is 270 KB), so a connection that sends a few
// operations costs a few KB.
func BenchmarkConnections(b *testing.B) {
	for _, conns := range []int{8, 1000} {
		b.Run(strconv.Itoa(conns), func(b *testing.B) {
			target := fakeTarget(&testing.T{}, func(ctx context.Context, op *Op) error { return nil })
			spec := fakeSpec(target, 2000, 300*time.Millisecond)
			spec.Component.Workload.Connections = conns
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if _, err := Run(context.Background(), []*Spec{spec}, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(conns), "B/conn")
		})
	}
}

// BenchmarkCollectorMerge times the collector recording a worker's slice
// of one operation kind (latency, service time and client delay in the
// whole-run histograms, latency and client delay in the interval's
// packed ones), per sample: a full slice, through the dense scratch, and a
// few samples, recorded one by one. BenchmarkRecordPeerBareHDR, one dense
// RecordValue, is its peer.
func BenchmarkCollectorMerge(b *testing.B) {
	for _, n := range []int{sliceSamples, 8} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r := newRecord(1)
			s := newSliceSet(1)
			for i := range n {
				s.ops[0].record(sample{latency: int64(50_000 + i*37%100_000), service: int64(40_000 + i*29%50_000), client: int64(i * 13 % 5_000), stage: -1}, false, 0, 0)
			}
			samples := s.ops[0].samples
			for b.Loop() {
				r.merge(s)
				// The collector empties the slice; the worker fills it again.
				s.ops[0].samples = samples
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
		})
	}
}
