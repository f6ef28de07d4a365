package workloads

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// pressureFile is where Linux reports the CPU's pressure stall information
// (PSI): how long, since boot, at least one runnable task waited for a CPU.
const pressureFile = "/proc/pressure/cpu"

// statFile is where Linux counts the CPUs' time by use, steal included:
// time a virtual machine's CPUs wanted to run and the hypervisor ran
// something else.
const statFile = "/proc/stat"

// pressureMark is one reading of the runner's contention: the CPU pressure
// stall total and the wall-clock instant it was read at (ok when read),
// and the CPUs' stolen and total time in clock ticks (stat when read).
type pressureMark struct {
	total        time.Duration
	at           time.Time
	ok           bool
	steal, ticks int64
	stat         bool
}

// markPressure reads the runner's contention now. A part is not read
// where the kernel does not report it (another OS, PSI disabled, a
// container that hides it).
func markPressure() pressureMark {
	var m pressureMark
	if b, err := os.ReadFile(pressureFile); err == nil {
		m.total, m.ok = parsePressure(b)
		m.at = time.Now()
	}
	if b, err := os.ReadFile(statFile); err == nil {
		m.steal, m.ticks, m.stat = parseStat(b)
	}
	return m
}

// stealShare is the share of the CPUs' time between two marks that the
// hypervisor gave to others, within [0, 1]; ok is false unless both marks
// read it and time passed between them.
func stealShare(from, to pressureMark) (float64, bool) {
	ticks := to.ticks - from.ticks
	if !from.stat || !to.stat || ticks <= 0 || to.steal < from.steal {
		return 0, false
	}
	return min(float64(to.steal-from.steal)/float64(ticks), 1), true
}

// parseStat reads the steal and the total of the CPUs' times from the
// "cpu" line of /proc/stat ("cpu  user nice system idle iowait irq softirq
// steal guest guest_nice", in clock ticks; guest time is within user's).
// ok is false when there is no such line, it has fewer than the eight
// times, or one is not a count.
func parseStat(b []byte) (steal, total int64, ok bool) {
	fields := procLine(b, "cpu")
	if len(fields) < 8 {
		return 0, 0, false
	}
	for i, f := range fields[:8] {
		v, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil || v < 0 || total > 1<<62-v {
			return 0, 0, false
		}
		total += v
		if i == 7 {
			steal = v
		}
	}
	return steal, total, true
}

// procLine is the fields after the name of the first line of a /proc file
// whose first field is name; nil when there is none.
func procLine(b []byte, name string) [][]byte {
	for line := range bytes.Lines(b) {
		if fields := bytes.Fields(line); len(fields) > 0 && string(fields[0]) == name {
			return fields[1:]
		}
	}
	return nil
}

// pressureShare is the share of the wall time between two marks during
// which some runnable task waited for a CPU, within [0, 1]; ok is false
// unless both marks were read and the span is not empty. Wall time, not
// the run's clock: the kernel counts real stalls.
func pressureShare(from, to pressureMark) (float64, bool) {
	span := to.at.Sub(from.at)
	if !from.ok || !to.ok || span <= 0 || to.total < from.total {
		return 0, false
	}
	return min(float64(to.total-from.total)/float64(span), 1), true
}

// parsePressure reads the "some" line's stall total of a PSI file
// ("some avg10=0.00 avg60=0.00 avg300=0.00 total=1113464177", the total in
// microseconds). ok is false when the file holds no such line or its
// total is not a count.
func parsePressure(b []byte) (time.Duration, bool) {
	for _, f := range procLine(b, "some") {
		v, found := bytes.CutPrefix(f, []byte("total="))
		if !found {
			continue
		}
		us, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || us < 0 || us > int64(time.Duration(1<<63-1)/time.Microsecond) {
			return 0, false
		}
		return time.Duration(us) * time.Microsecond, true
	}
	return 0, false
}
