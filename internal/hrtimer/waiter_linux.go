package hrtimer

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waiter parks the goroutine on a timerfd in the runtime's network
// poller: the kernel's high-resolution timer wakes it within microseconds,
// without holding a thread in a blocking sleep and without spinning.
//
// A wait costs one system call. The timer is armed from inside a raw read
// of the descriptor, after the poller has been reset for it, so an expiry
// cannot slip between the two; the poller's edge-triggered event is the
// wake-up, and the expiry count is never read, since arming the timer again
// clears it. Arming uses a raw system call (timerfd_settime never blocks),
// which spares the runtime's blocking-call protocol and the system monitor
// wake-up it costs in a process that idles between operations.
type Waiter struct {
	fd   int
	file *os.File
	rc   syscall.RawConn
	its  unix.ItimerSpec
	// armed is false until the timer is set within the current wait.
	armed  bool
	failed bool
	arm    func(fd uintptr) bool
}

// New returns a waiter; where the timer cannot be made, its waits fall
// back to time.Sleep. Close releases the timer.
func New() Waiter {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return Waiter{fd: -1}
	}
	p := Waiter{fd: fd, file: os.NewFile(uintptr(fd), "tailgate-pacer")}
	if rc, err := p.file.SyscallConn(); err == nil {
		p.rc = rc
	}
	return p
}

// Wait blocks for d; it returns at once when d is not positive (a timerfd
// armed with zero would be disarmed, and never fire).
func (p *Waiter) Wait(d time.Duration) {
	if d <= 0 {
		return
	}
	if p.file == nil || p.rc == nil {
		time.Sleep(d)
		return
	}
	if p.arm == nil {
		p.arm = p.armOnce // bound once: no closure per wait
	}
	p.its.Value = unix.NsecToTimespec(d.Nanoseconds())
	p.armed, p.failed = false, false
	if err := p.rc.Read(p.arm); err != nil || p.failed {
		time.Sleep(d)
	}
}

// armOnce sets the timer on its first call and reports the wait over on
// the next, when the poller saw the expiry.
func (p *Waiter) armOnce(fd uintptr) bool {
	if p.armed {
		return true
	}
	p.armed = true
	_, _, errno := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&p.its)), 0, 0, 0)
	if errno != 0 {
		p.failed = true
		return true
	}
	return false
}

// Close releases the waiter's timer.
func (p *Waiter) Close() {
	if p.file != nil {
		p.file.Close()
	}
}
