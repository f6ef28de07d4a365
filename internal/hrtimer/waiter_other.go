//go:build !linux

package hrtimer

import "time"

// Waiter falls back to the runtime's timers where timerfd is missing.
type Waiter struct{}

// New returns a waiter.
func New() Waiter { return Waiter{} }

// Wait blocks for d.
func (Waiter) Wait(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}

// Close releases nothing.
func (Waiter) Close() {}
