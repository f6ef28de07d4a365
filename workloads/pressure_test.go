package workloads

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePressure(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		want       time.Duration
		ok         bool
	}{
		{"a kernel's file", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1113464177\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 1113464177 * time.Microsecond, true},
		{"the some line second", "full avg10=1.00 avg60=0.00 avg300=0.00 total=5\nsome avg10=2.00 avg60=0.00 avg300=0.00 total=7", 7 * time.Microsecond, true},
		{"none yet", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0, true},
		{"no some line", "full avg10=0.00 avg60=0.00 avg300=0.00 total=3\n", 0, false},
		{"a some line without a total", "some avg10=0.00 avg60=0.00 avg300=0.00\n", 0, false},
		{"a total that is no count", "some avg10=0.00 total=12x\n", 0, false},
		{"a negative total", "some total=-4\n", 0, false},
		{"a total past a duration", "some total=9223372036854775807\n", 0, false},
		{"empty", "", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parsePressure([]byte(tt.file))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParsePressure(f *testing.F) {
	f.Add([]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=1113464177\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"))
	f.Add([]byte("some total=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parsePressure(b)
		if !ok && got != 0 {
			t.Fatalf("not ok, yet %v", got)
		}
		if got < 0 {
			t.Fatalf("a negative total %v", got)
		}
		if ok {
			// What it read, written as a kernel writes it, reads the same.
			again, ok := parsePressure(fmt.Appendf(nil, "some avg10=0.00 avg60=0.00 avg300=0.00 total=%d\n", got/time.Microsecond))
			if !ok || again != got {
				t.Fatalf("read %v, then %v (%t) from the kernel's form", got, again, ok)
			}
		}
	})
}

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		name, file   string
		steal, total int64
		ok           bool
	}{
		{"a kernel's file", "cpu  298893 1022 62128 8374560 2314 0 6779 56535 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 5\n", 56535, 298893 + 1022 + 62128 + 8374560 + 2314 + 6779 + 56535, true},
		{"an older kernel's eight times", "cpu 1 2 3 4 5 6 7 8\n", 8, 36, true},
		{"the cpu line after another", "intr 5\ncpu 1 1 1 1 1 1 1 3 9 9\n", 3, 10, true},
		{"too few times", "cpu 1 2 3 4 5 6 7\n", 0, 0, false},
		{"a time that is no count", "cpu 1 2 3 4 5 6 7 x\n", 0, 0, false},
		{"a negative time", "cpu 1 2 3 4 5 6 7 -8\n", 0, 0, false},
		{"times whose sum overflows", "cpu 4611686018427387904 4611686018427387904 0 0 0 0 0 0\n", 0, 0, false},
		{"only a CPU's own line", "cpu0 1 2 3 4 5 6 7 8\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			steal, total, ok := parseStat([]byte(tt.file))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.steal, steal)
			assert.Equal(t, tt.total, total)
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("cpu  298893 1022 62128 8374560 2314 0 6779 56535 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"))
	f.Add([]byte("cpu 1 2 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		steal, total, ok := parseStat(b)
		if !ok && (steal != 0 || total != 0) {
			t.Fatalf("not ok, yet steal %d of %d", steal, total)
		}
		if steal < 0 || steal > total {
			t.Fatalf("steal %d of %d", steal, total)
		}
	})
}

func TestStealShare(t *testing.T) {
	mark := func(steal, ticks int64) pressureMark { return pressureMark{steal: steal, ticks: ticks, stat: true} }
	for _, tt := range []struct {
		name     string
		from, to pressureMark
		want     float64
		ok       bool
	}{
		{"a fifth of the time", mark(10, 1000), mark(30, 1100), 0.2, true},
		{"none", mark(10, 1000), mark(10, 1100), 0, true},
		{"an unread start", pressureMark{}, mark(1, 10), 0, false},
		{"no time passed", mark(1, 10), mark(1, 10), 0, false},
		{"a steal that went back", mark(5, 10), mark(1, 20), 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := stealShare(tt.from, tt.to)
			assert.Equal(t, tt.ok, ok)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

func TestPressureShare(t *testing.T) {
	at := time.Unix(100, 0)
	mark := func(total, after time.Duration) pressureMark {
		return pressureMark{total: total, at: at.Add(after), ok: true}
	}
	for _, tt := range []struct {
		name     string
		from, to pressureMark
		want     float64
		ok       bool
	}{
		{"a quarter of the span", mark(time.Second, 0), mark(1500*time.Millisecond, 2*time.Second), 0.25, true},
		{"none", mark(time.Second, 0), mark(time.Second, time.Second), 0, true},
		{"more than the span, read a moment apart, is the whole span", mark(0, 0), mark(1001*time.Millisecond, time.Second), 1, true},
		{"an unread start", pressureMark{}, mark(time.Second, time.Second), 0, false},
		{"an unread end", mark(0, 0), pressureMark{}, 0, false},
		{"an empty span", mark(0, time.Second), mark(time.Second, time.Second), 0, false},
		{"a total that went back", mark(2*time.Second, 0), mark(time.Second, time.Second), 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pressureShare(tt.from, tt.to)
			assert.Equal(t, tt.ok, ok)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

// TestTheProbeRecordsTheRunnersCPUPressure: a run beside twice as many
// busy processes as the runner has CPUs, each CPU with one waiting most of
// the time, records a CPU pressure of most of its measured window.
func TestTheProbeRecordsTheRunnersCPUPressure(t *testing.T) {
	if _, err := os.ReadFile(pressureFile); err != nil {
		t.Skipf("the kernel reports no CPU pressure here: %v", err)
	}
	for range 2 * runtime.NumCPU() {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	target := fakeTarget(t, func(ctx context.Context, op *Op) error { return nil })
	s := fakeSpec(target, 200, 500*time.Millisecond)
	res, err := Run(context.Background(), []*Spec{s}, Options{})
	require.NoError(t, err)
	require.NotNil(t, res.Runner)
	require.NotNil(t, res.Runner.CPUPressure, "the kernel reports it, so the run records it")
	assert.Greater(t, *res.Runner.CPUPressure, 0.5)
	assert.LessOrEqual(t, *res.Runner.CPUPressure, 1.0)
	if _, err := os.ReadFile(statFile); err == nil {
		require.NotNil(t, res.Runner.CPUSteal, "the kernel counts steal, so the run records it")
		assert.GreaterOrEqual(t, *res.Runner.CPUSteal, 0.0)
		assert.LessOrEqual(t, *res.Runner.CPUSteal, 1.0)
	}
}
