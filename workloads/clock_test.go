package workloads

import (
	"context"
	"sync"
	"time"
)

// simClock is a simulated clock for engine tests: time stands still while
// any goroutine that waits on it is busy, and jumps to the next deadline the
// moment all of them wait. Each goroutine that waits owns one Sleeper (the
// engine's workers and runner probe do); a simulated target spends service
// time with sleep, on its worker's goroutine. A run of simulated seconds
// then takes as long as its operations take to compute, and the times it
// measures are exactly the simulated ones.
type simClock struct {
	mu      sync.Mutex
	changed *sync.Cond
	now     time.Time
	open    int // sleepers not closed: the goroutines that take part
	waits   []*simWait
	tickers []*simTicker
	stopped chan struct{}
}

type simWait struct {
	at   time.Time
	wake chan struct{}
}

var _ Clock = (*simClock)(nil)

// newSimClock returns a simulated clock, and runs it until the test ends.
func newSimClock(t interface{ Cleanup(func()) }) *simClock {
	c := &simClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), stopped: make(chan struct{})}
	c.changed = sync.NewCond(&c.mu)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.drive()
	}()
	t.Cleanup(func() {
		c.mu.Lock()
		close(c.stopped)
		c.changed.Broadcast()
		c.mu.Unlock()
		<-done
	})
	return c
}

// drive advances time to the next deadline whenever every party waits.
func (c *simClock) drive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for {
			select {
			case <-c.stopped:
				return
			default:
			}
			if c.open == 0 || len(c.waits) < c.open {
				c.changed.Wait()
				continue
			}
			if c.ticksPending() {
				// A tick is delivered before time moves on, so a
				// receiver that is merely slow misses none.
				c.mu.Unlock()
				time.Sleep(20 * time.Microsecond)
				c.mu.Lock()
				continue
			}
			break
		}
		next := c.waits[0].at
		for _, w := range c.waits {
			if w.at.Before(next) {
				next = w.at
			}
		}
		for _, tk := range c.tickers {
			if tk.next.Before(next) {
				next = tk.next // one tick at a time, none dropped
			}
		}
		c.advanceTo(next)
	}
}

func (c *simClock) ticksPending() bool {
	for _, tk := range c.tickers {
		if len(tk.c) > 0 {
			return true
		}
	}
	return false
}

// advanceTo moves time to t (never back), wakes the waits due and delivers
// the ticks due, in order of their times. c.mu is held.
func (c *simClock) advanceTo(t time.Time) {
	if t.Before(c.now) {
		t = c.now
	}
	for _, tk := range c.tickers {
		for !tk.next.After(t) {
			select {
			case tk.c <- tk.next:
			default: // a slow receiver misses ticks, as with time.Ticker
			}
			tk.next = tk.next.Add(tk.every)
		}
	}
	c.now = t
	kept := c.waits[:0]
	for _, w := range c.waits {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		close(w.wake)
	}
	clear(c.waits[len(kept):])
	c.waits = kept
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// sleep waits d of simulated time on the calling party's goroutine: a
// simulated target's service time. It returns false if ctx ended first.
func (c *simClock) sleep(ctx context.Context, d time.Duration) bool {
	return c.wait(ctx, c.Now().Add(d))
}

func (c *simClock) wait(ctx context.Context, at time.Time) bool {
	c.mu.Lock()
	if !at.After(c.now) {
		c.mu.Unlock()
		return ctx.Err() == nil
	}
	w := &simWait{at: at, wake: make(chan struct{})}
	c.waits = append(c.waits, w)
	c.changed.Broadcast()
	c.mu.Unlock()
	select {
	case <-w.wake:
		return ctx.Err() == nil
	case <-ctx.Done():
		c.mu.Lock()
		for i, x := range c.waits {
			if x == w {
				c.waits = append(c.waits[:i], c.waits[i+1:]...)
				break
			}
		}
		c.changed.Broadcast()
		c.mu.Unlock()
		return false
	}
}

func (c *simClock) NewSleeper() Sleeper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open++
	return &simSleeper{c: c}
}

type simSleeper struct {
	c    *simClock
	once sync.Once
}

func (s *simSleeper) Until(ctx context.Context, t time.Time) bool { return s.c.wait(ctx, t) }

func (s *simSleeper) Close() {
	s.once.Do(func() {
		s.c.mu.Lock()
		defer s.c.mu.Unlock()
		s.c.open--
		s.c.changed.Broadcast()
	})
}

type simTicker struct {
	c     chan time.Time
	next  time.Time
	every time.Duration
	clock *simClock
}

func (c *simClock) NewTicker(d time.Duration) Ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	tk := &simTicker{c: make(chan time.Time, 1), next: c.now.Add(d), every: d, clock: c}
	c.tickers = append(c.tickers, tk)
	return tk
}

func (t *simTicker) C() <-chan time.Time { return t.c }

func (t *simTicker) Stop() {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	for i, x := range t.clock.tickers {
		if x == t {
			t.clock.tickers = append(t.clock.tickers[:i], t.clock.tickers[i+1:]...)
			return
		}
	}
}

func (c *simClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	tk := &simTicker{next: c.Now().Add(d), every: 1<<63 - 1, clock: c}
	tk.c = make(chan time.Time, 1)
	c.mu.Lock()
	c.tickers = append(c.tickers, tk)
	c.mu.Unlock()
	go func() {
		select {
		case v := <-tk.c:
			tk.Stop()
			ch <- v
		case <-c.stopped:
		}
	}()
	return ch
}
