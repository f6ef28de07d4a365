//go:build unix

package sock

import (
	"syscall"
	"unsafe"
)

// rawIOAvailable is true where a socket's descriptor can be read, written
// and peeked with raw system calls without blocking.
const rawIOAvailable = true

// sysRead reads a non-blocking descriptor without the runtime's
// blocking-call protocol, retrying when a signal interrupted it.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) { return rawIO(syscall.SYS_READ, fd, b) }

// sysWrite writes a non-blocking descriptor, as sysRead reads it.
func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) { return rawIO(syscall.SYS_WRITE, fd, b) }

func rawIO(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}

// sysPeek looks at the socket's first pending byte, into b (one byte),
// without taking it or waiting for it: EAGAIN when nothing is pending,
// 0 bytes at the end of the stream.
func sysPeek(fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])),
			1, syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}
