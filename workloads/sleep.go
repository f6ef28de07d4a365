package workloads

import (
	"context"
	"time"

	"github.com/tailgate-dev/tailgate/internal/hrtimer"
)

// fineSleep is the stretch before an intended start that is waited with a
// precise clock (see package internal/hrtimer) instead of the runtime's
// timers, whose wake-ups on Linux come up to a millisecond late once the
// process idles: the pacer would otherwise add that slack to every latency
// it measures.
const fineSleep = 20 * time.Millisecond

// sleeper waits for intended start times. One per worker; not shared.
type sleeper struct {
	timer   *time.Timer
	precise hrtimer.Waiter
}

func newSleeper() *sleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &sleeper{timer: t, precise: hrtimer.New()}
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
		s.precise.Wait(d)
	}
}

func (s *sleeper) close() { s.precise.Close() }
