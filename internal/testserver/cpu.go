package testserver

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/workloads"
)

// CPUMeter measures the CPU time (user and system) this process spends, so
// a benchmark against a server in another process reports the client's CPU
// per operation.
type CPUMeter struct{ start time.Duration }

// StartCPU starts measuring.
func StartCPU() CPUMeter { return CPUMeter{processCPU()} }

// Report adds the CPU spent since StartCPU, per operation, as "cpu-ns/op".
func (m CPUMeter) Report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-m.start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGetSet runs a key-value driver's per-operation benchmarks on c,
// reporting allocations and CPU per operation: get-hit (of a 256-byte value
// it stores first), get-miss and set-256B. get and set are the operations'
// kinds, and every key starts with prefix.
func BenchmarkGetSet(b *testing.B, c workloads.Conn, get, set int, prefix string) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 256)
	if err := c.Do(ctx, &workloads.Op{Kind: set, Key: []byte(prefix + "1"), Value: value}); err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name string
		op   *workloads.Op
	}{
		{"get-hit", &workloads.Op{Kind: get, Key: []byte(prefix + "1")}},
		{"get-miss", &workloads.Op{Kind: get, Key: []byte(prefix + "absent")}},
		{"set-256B", &workloads.Op{Kind: set, Key: []byte(prefix + "2"), Value: value}},
	} {
		benchmarkOp(b, bm.name, c, bm.op)
	}
}

// BenchmarkOperations runs a sub-benchmark for each operation of spec on c,
// named prefix and the operation's name, each sending for the key
// "tailgate:12345" and reporting allocations and CPU per operation.
func BenchmarkOperations(b *testing.B, c workloads.Conn, spec *workloads.Spec, prefix string) {
	for kind, name := range spec.Operations() {
		benchmarkOp(b, prefix+name, c, &workloads.Op{Kind: kind, Key: []byte("tailgate:12345")})
	}
}

// benchmarkOp is the sub-benchmark name sending op on c, reporting
// allocations and CPU per operation.
func benchmarkOp(b *testing.B, name string, c workloads.Conn, op *workloads.Op) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		cpu := StartCPU()
		for b.Loop() {
			if err := c.Do(context.Background(), op); err != nil {
				b.Fatal(err)
			}
		}
		cpu.Report(b)
	})
}

// BenchmarkPipelined sends batch on c pipelined (Queue each operation,
// one Flush, Receive each), again and again, and reports allocations and
// CPU per batch. c must be a workloads.PipelineConn of a workload whose
// pipeline holds the batch.
func BenchmarkPipelined(b *testing.B, c workloads.Conn, batch []workloads.Op) {
	pc := c.(workloads.PipelineConn)
	ctx := context.Background()
	b.ReportAllocs()
	cpu := StartCPU()
	for b.Loop() {
		deadline := time.Now().Add(5 * time.Second)
		for i := range batch {
			if err := pc.Queue(ctx, &batch[i], deadline); err != nil {
				b.Fatal(err)
			}
		}
		if err := pc.Flush(ctx, deadline); err != nil {
			b.Fatal(err)
		}
		for i := range batch {
			if err := pc.Receive(ctx, &batch[i], deadline); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu.Report(b)
}
