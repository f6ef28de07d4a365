// Package hrtimer waits with the precision of the kernel's high-resolution
// timers instead of the runtime's, whose wake-ups on Linux come up to a
// millisecond late once the process idles. The engine's pacer waits the
// last stretch before each intended start with it; bench/slowserver delays
// its replies with it. A Waiter is not safe for concurrent use: one per
// goroutine.
package hrtimer
