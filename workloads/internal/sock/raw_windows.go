//go:build windows

package sock

import "syscall"

// rawIOAvailable is false where sockets are not plain non-blocking
// descriptors (Windows): New refuses every connection, so the drivers
// read and write through the net.Conn, as they do over TLS, and Guard
// skips the idle check's peek (a connection the server closed while idle
// then fails its next operation, which Replayable may send again).
const rawIOAvailable = false

// The raw calls are never reached when rawIOAvailable is false.

func sysRead(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.EWINDOWS }
func sysWrite(uintptr, []byte) (int, syscall.Errno) { return 0, syscall.EWINDOWS }
func sysPeek(uintptr, []byte) (int, syscall.Errno)  { return 0, syscall.EWINDOWS }
