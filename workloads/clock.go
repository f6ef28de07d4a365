package workloads

import (
	"context"
	"time"

	"github.com/tailgate-dev/tailgate/internal/hrtimer"
)

// Clock is the time the engine reads and waits on: every intended start,
// completion, progress tick and grace period goes through it. A run uses
// RealClock unless Options.Clock says otherwise, so tests can drive time
// instead of waiting on it. The measurement rules do not depend on which
// clock runs: latency is still completion minus intended start, both read
// from the clock.
type Clock interface {
	// Now is the current time; the engine calls it on every operation, so
	// it must neither allocate nor block.
	Now() time.Time
	// NewSleeper returns a Sleeper for one goroutine's waits.
	NewSleeper() Sleeper
	// NewTicker returns a Ticker that ticks every d (d > 0).
	NewTicker(d time.Duration) Ticker
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Sleeper waits for intended start times. Each goroutine that waits owns
// one; it is not safe for concurrent use.
type Sleeper interface {
	// Until waits until t; it returns false when ctx ended first.
	Until(ctx context.Context, t time.Time) bool
	// Close releases the sleeper.
	Close()
}

// Ticker delivers ticks at a fixed period, like time.Ticker.
type Ticker interface {
	// C is the channel the ticks arrive on.
	C() <-chan time.Time
	// Stop turns the ticker off.
	Stop()
}

// RealClock is the machine's clock: the runtime's timers for long waits and
// a precise one (see internal/hrtimer) for the last stretch before an
// intended start.
type RealClock struct{}

var _ Clock = RealClock{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewSleeper returns a sleeper that wakes on time to within the precise
// timer's accuracy.
func (RealClock) NewSleeper() Sleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &realSleeper{timer: t, precise: hrtimer.New()}
}

// NewTicker returns a time.Ticker.
func (RealClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }

// fineSleep is the stretch before an intended start that is waited with a
// precise clock (see package internal/hrtimer) instead of the runtime's
// timers, whose wake-ups on Linux come up to a millisecond late once the
// process idles: the pacer would otherwise add that slack to every latency
// it measures.
const fineSleep = 20 * time.Millisecond

// realSleeper is RealClock's Sleeper.
type realSleeper struct {
	timer   *time.Timer
	precise hrtimer.Waiter
}

// Until sleeps until t; it returns false when ctx ended first.
func (s *realSleeper) Until(ctx context.Context, t time.Time) bool {
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

func (s *realSleeper) Close() { s.precise.Close() }
