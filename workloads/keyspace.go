package workloads

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/slo"
)

// The passes over a component's keyspace.
const (
	PassPrefill = "prefill"
	PassCleanup = "cleanup"
)

// KeyspaceProgress is how far a prefill or cleanup of one component got.
type KeyspaceProgress struct {
	Component string
	// Pass is PassPrefill or PassCleanup.
	Pass string
	// Done counts the keys written (or deleted) so far, Failed those that
	// failed; Total is how many the pass covers.
	Done, Failed, Total int64
	Elapsed             time.Duration
}

// keyspaceSize is how many keys of the component this runner covers: the
// keyspace, or its share of it when sharded (key k is shard k mod N's).
func (s *Spec) keyspaceSize() int64 {
	count := int64(max(s.Component.Workload.Keys.Count, 1))
	if s.Shard.Count <= 1 {
		return count
	}
	n, of := int64(s.Shard.Count), int64(s.Shard.Index-1)
	return (count - of + n - 1) / n
}

// needsKeyspace reports whether the run of spec passes over its keyspace:
// prefill before it, cleanup after it.
func (s *Spec) needsKeyspace() (prefill, cleanup bool) {
	w := &s.Component.Workload
	return w.Prefill.Enabled && !s.SkipPrefill, w.Cleanup && !s.KeepKeys
}

// checkKeyspace refuses a prefill or cleanup on a target whose driver
// cannot write or delete keys.
func (c *componentRun) checkKeyspace() error {
	prefill, cleanup := c.spec.needsKeyspace()
	if !prefill && !cleanup {
		return nil
	}
	for _, conn := range c.conns {
		if _, ok := conn.(KeyspaceConn); !ok {
			return fmt.Errorf("component %q: %s cannot prefill or clean up keys (workload.prefill, workload.cleanup)",
				c.spec.Component.Name, c.driver.Describe())
		}
	}
	return nil
}

// keyspacePass writes (prefill) or deletes (cleanup) every key of the
// runner's share of the keyspace, over the component's connections, at
// the prefill rate: key i of the pass is due i/rate after its start, so
// a shared cache is never flooded. report is called about every
// progressEvery from one goroutine, and once at the end.
func (c *componentRun) keyspacePass(ctx context.Context, pass string, clock Clock, every time.Duration, report func(KeyspaceProgress)) KeyspaceProgress {
	spec := c.spec
	total := spec.keyspaceSize()
	rate := spec.PrefillRate()
	shards, shardOf := uint64(1), uint64(0)
	if spec.Shard.Count > 1 {
		shards, shardOf = uint64(spec.Shard.Count), uint64(spec.Shard.Index-1)
		rate /= float64(spec.Shard.Count)
	}
	var next, done, failed atomic.Int64
	var firstMu sync.Mutex
	var first error
	start := clock.Now()
	var workers sync.WaitGroup
	for _, conn := range c.conns {
		kc := conn.(KeyspaceConn)
		workers.Add(1)
		sl := clock.NewSleeper()
		go func() {
			defer workers.Done()
			defer sl.Close()
			dr := newDrawer(spec, c.value)
			var op Op
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				if clock.Now().Before(due) && !sl.Until(ctx, due) {
					return
				}
				dr.keyOf(uint64(i)*shards+shardOf, &op)
				var err error
				if pass == PassPrefill {
					err = kc.Fill(ctx, &op)
				} else {
					err = kc.Delete(ctx, &op)
				}
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					failed.Add(1)
					firstMu.Lock()
					if first == nil {
						first = err
					}
					firstMu.Unlock()
					continue
				}
				done.Add(1)
			}
		}()
	}
	snapshot := func() KeyspaceProgress {
		return KeyspaceProgress{Component: spec.Component.Name, Pass: pass, Done: done.Load(), Failed: failed.Load(),
			Total: total, Elapsed: clock.Now().Sub(start)}
	}
	finished := make(chan struct{})
	go func() {
		workers.Wait()
		close(finished)
	}()
	tick := clock.NewTicker(every)
	defer tick.Stop()
wait:
	for {
		select {
		case <-finished:
			break wait
		case <-tick.C():
			if report != nil {
				report(snapshot())
			}
		}
	}
	p := snapshot()
	if report != nil {
		report(p)
	}
	if p.Failed > 0 {
		firstMu.Lock()
		c.keyspaceErr = Redact(first.Error(), spec.Secrets)
		firstMu.Unlock()
	}
	return p
}

// prefill writes every key before the run, and fails the run when more
// writes failed than the plan's max_error_rate allows.
func (c *componentRun) prefill(ctx context.Context, opt Options) error {
	if prefill, _ := c.spec.needsKeyspace(); !prefill {
		return nil
	}
	p := c.keyspacePass(ctx, PassPrefill, opt.Clock, opt.ProgressEvery, opt.Keyspace)
	if ctx.Err() != nil {
		return fmt.Errorf("%w during the prefill of component %q (%d of %d keys written)", ErrInterrupted, p.Component, p.Done, p.Total)
	}
	if p.Failed == 0 {
		return nil
	}
	if float64(p.Failed) > c.spec.Component.Workload.MaxErrorRate*float64(p.Total) {
		return fmt.Errorf("%w: component %q: prefill: %d of %d writes failed (more than max_error_rate %s): %s",
			ErrAborted, p.Component, p.Failed, p.Total, slo.FormatPercent(c.spec.Component.Workload.MaxErrorRate), c.keyspaceErr)
	}
	c.warnings = append(c.warnings, fmt.Sprintf("component %q: prefill: %d of %d writes failed, so their reads may miss: %s",
		p.Component, p.Failed, p.Total, c.keyspaceErr))
	return nil
}

// cleanup deletes every key after the run; a failure is a warning of the
// result, since the keys still expire (see Spec.TTL).
func (c *componentRun) cleanup(ctx context.Context, opt Options) {
	if _, cleanup := c.spec.needsKeyspace(); !cleanup || ctx.Err() != nil {
		return
	}
	if c.closedEarly.Load() {
		c.warnings = append(c.warnings, fmt.Sprintf("component %q: no cleanup: the run stopped with operations hung on the target; the keys expire after their ttl %s",
			c.spec.Component.Name, slo.FormatDuration(c.spec.TTL())))
		return
	}
	p := c.keyspacePass(ctx, PassCleanup, opt.Clock, opt.ProgressEvery, opt.Keyspace)
	switch {
	case ctx.Err() != nil:
		c.warnings = append(c.warnings, fmt.Sprintf("component %q: cleanup interrupted after %d of %d keys; the rest expire after their ttl %s",
			p.Component, p.Done, p.Total, slo.FormatDuration(c.spec.TTL())))
	case p.Failed > 0:
		c.warnings = append(c.warnings, fmt.Sprintf("component %q: cleanup: %d of %d deletes failed; those keys expire after their ttl %s: %s",
			p.Component, p.Failed, p.Total, slo.FormatDuration(c.spec.TTL()), c.keyspaceErr))
	}
}

// Cleanup deletes the keys of every spec with cleanup set, as a run does
// after its load: for runs made of several parts (interleaved segments,
// adaptive extensions) whose specs keep their keys until the last. It
// returns the warnings the run's results should carry.
func Cleanup(ctx context.Context, specs []*Spec, opt Options) []string {
	var todo []*Spec
	for _, s := range specs {
		if s.Component.Workload.Cleanup {
			c := *s
			c.KeepKeys = false
			todo = append(todo, &c)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	opt = opt.withDefaults()
	runs, err := connectAll(ctx, todo, opt.ConnectTimeout)
	defer func() {
		for _, c := range runs {
			c.close()
		}
	}()
	if err != nil {
		return []string{fmt.Sprintf("cleanup: %v; the keys expire after their ttl", err)}
	}
	var warnings []string
	for _, c := range runs {
		if err := c.checkKeyspace(); err != nil {
			warnings = append(warnings, err.Error())
			continue
		}
		c.cleanup(ctx, opt)
		warnings = append(warnings, c.warnings...)
	}
	return warnings
}

// keepKeys returns copies of specs that keep their keys after their run
// (a later part of the run cleans up) and, if skipPrefill, skip prefill
// too (an earlier part wrote the keys).
func keepKeys(specs []*Spec, skipPrefill bool) []*Spec {
	out := make([]*Spec, len(specs))
	for i, s := range specs {
		c := *s
		c.KeepKeys = true
		c.SkipPrefill = c.SkipPrefill || skipPrefill
		out[i] = &c
	}
	return out
}
