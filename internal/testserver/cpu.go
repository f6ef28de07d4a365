package testserver

import (
	"syscall"
	"testing"
	"time"
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
