package workloads

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// preciseWaiter parks the goroutine on a timerfd in the runtime's network
// poller: the kernel's high-resolution timer wakes it within microseconds,
// without holding a thread in a blocking sleep and without spinning.
type preciseWaiter struct {
	fd   int
	file *os.File
	its  unix.ItimerSpec
	buf  [8]byte
}

func newPreciseWaiter() preciseWaiter {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return preciseWaiter{fd: -1}
	}
	return preciseWaiter{fd: fd, file: os.NewFile(uintptr(fd), "tailgate-pacer")}
}

func (p *preciseWaiter) wait(d time.Duration) {
	if p.file == nil {
		time.Sleep(d)
		return
	}
	p.its.Value = unix.NsecToTimespec(d.Nanoseconds())
	if err := unix.TimerfdSettime(p.fd, 0, &p.its, nil); err != nil {
		time.Sleep(d)
		return
	}
	if _, err := p.file.Read(p.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (p *preciseWaiter) close() {
	if p.file != nil {
		p.file.Close()
	}
}
