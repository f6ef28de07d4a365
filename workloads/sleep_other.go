//go:build !linux

package workloads

import "time"

// preciseWaiter falls back to the runtime's timers where timerfd is missing.
type preciseWaiter struct{}

func newPreciseWaiter() preciseWaiter { return preciseWaiter{} }

func (preciseWaiter) wait(d time.Duration) { time.Sleep(d) }

func (preciseWaiter) close() {}
