package workloads

import (
	"context"
	"time"
)

// fineSleep is the stretch before an intended start that is waited with a
// precise clock (see preciseWaiter) instead of the runtime's timers, whose
// wake-ups on Linux come up to a millisecond late once the process idles:
// the pacer would otherwise add that slack to every latency it measures.
const fineSleep = 20 * time.Millisecond

// sleeper waits for intended start times. One per worker; not shared.
type sleeper struct {
	timer   *time.Timer
	precise preciseWaiter
}

func newSleeper() *sleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &sleeper{timer: t, precise: newPreciseWaiter()}
}

// until sleeps until t; it returns false when ctx ended first.
func (s *sleeper) until(ctx context.Context, t time.Time) bool {
	for {
		d := time.Until(t)
		if d <= 0 {
			return ctx.Err() == nil
		}
		if d > fineSleep {
			s.timer.Reset(d - fineSleep/2)
			select {
			case <-s.timer.C:
			case <-ctx.Done():
				s.timer.Stop()
				return false
			}
			continue
		}
		s.precise.wait(d)
	}
}

func (s *sleeper) close() { s.precise.close() }

// PreciseSleeper sleeps with the precision of the kernel's high-resolution
// timers instead of the runtime's, which may wake a millisecond late. Not
// safe for concurrent use: one per goroutine.
type PreciseSleeper struct{ w preciseWaiter }

// NewPreciseSleeper returns a sleeper; Close releases its timer.
func NewPreciseSleeper() *PreciseSleeper { return &PreciseSleeper{w: newPreciseWaiter()} }

// Sleep blocks for d.
func (p *PreciseSleeper) Sleep(d time.Duration) {
	if d > 0 {
		p.w.wait(d)
	}
}

// Close releases the sleeper's timer.
func (p *PreciseSleeper) Close() { p.w.close() }
