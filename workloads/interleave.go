package workloads

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// SegmentLength is the longest segment of an interleaved run: short enough
// that baseline and candidate see the same machine noise, long enough to
// hold a few intervals.
const SegmentLength = 1500 * time.Millisecond

// MinSegments is the fewest segments a side of an interleaved run gets: the
// gate compares the sides pair by pair when at least 8 pairs can each
// estimate the quantile (gate/stats.MinPairs), so a short run is cut finer.
const MinSegments = 8

// segmentWarmup is the warmup of every segment after the first: connections
// are new each segment, and the target is already warm.
const segmentWarmup = 100 * time.Millisecond

// Segments says how many segments a side of an interleaved run of the given
// duration gets: an even number (the ABBA order needs pairs), at least
// MinSegments, none longer than SegmentLength.
func Segments(duration time.Duration) int {
	n := int((duration + SegmentLength - 1) / SegmentLength)
	n += n % 2
	return max(n, MinSegments)
}

// RunInterleaved loads the candidate and a live baseline in alternating
// segments, in the order A B B A A B B A..., so that both sides see the same
// machine noise and drift cancels; each side gets the specs' full duration in
// all. It returns each side's segments joined into one result, both marked
// with one Pairing, so the gate can compare them segment by segment. base
// holds the baseline's specs: the same components and workloads, other
// targets.
func RunInterleaved(ctx context.Context, cand, base []*Spec, opt Options) (candRes, baseRes *Result, err error) {
	il, err := newInterleaver(cand, base, opt)
	if err != nil {
		return nil, nil, err
	}
	runErr := il.run(ctx, il.planned)
	candRes, baseRes, err = il.results()
	switch {
	case runErr != nil:
		return candRes, baseRes, runErr
	case err != nil:
		return nil, nil, err
	}
	return candRes, baseRes, nil
}

// interleaver runs the segments of an interleaved run and keeps them, so
// an adaptive run can add segment pairs after the planned ones.
type interleaver struct {
	cand, base []*Spec
	opt        Options
	// planned is the number of segments a side gets for the specs'
	// duration; length is the measured length of one segment.
	planned int
	length  time.Duration
	// candParts and baseParts are the segments run so far, in order.
	candParts, baseParts []*Result
	// id pairs the two sides; one for the whole run, however often
	// results() is called.
	id string
}

func newInterleaver(cand, base []*Spec, opt Options) (*interleaver, error) {
	if len(cand) == 0 || len(base) == 0 {
		return nil, fmt.Errorf("an interleaved run needs candidate and baseline components")
	}
	n := Segments(cand[0].Duration)
	return &interleaver{
		cand: cand, base: base, opt: opt,
		planned: n,
		length:  (cand[0].Duration + time.Duration(n) - 1) / time.Duration(n),
		id:      rand.Text(),
	}, nil
}

// segment is segment i of a side's specs.
func (il *interleaver) segment(specs []*Spec, i int) []*Spec {
	out := make([]*Spec, len(specs))
	for k, s := range specs {
		c := *s
		c.Duration = il.length
		// Several intervals a segment, so the statistics compare many
		// intervals of each side, not a few long ones.
		c.Interval = min(s.interval(), max(c.Duration/4, 100*time.Millisecond))
		if i > 0 {
			c.Warmup = min(s.Warmup, segmentWarmup)
		}
		out[k] = &c
	}
	return out
}

// run runs the next count segments of each side, keeping the ABBA order
// across calls.
func (il *interleaver) run(ctx context.Context, count int) error {
	for range count {
		i := len(il.candParts)
		// ABBA: the baseline goes first in even pairs, second in odd ones.
		sides := []struct {
			specs []*Spec
			parts *[]*Result
		}{{il.base, &il.baseParts}, {il.cand, &il.candParts}}
		if i%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			res, runErr := Run(ctx, il.segment(side.specs, i), il.opt)
			if res != nil {
				*side.parts = append(*side.parts, res)
			}
			if runErr != nil {
				return fmt.Errorf("interleaved segment %d of %d: %w", i+1, max(il.planned, i+1), runErr)
			}
		}
	}
	return nil
}

// results joins each side's segments so far into one result, both marked
// with the run's Pairing.
func (il *interleaver) results() (candRes, baseRes *Result, err error) {
	candRes, err1 := Concat(il.candParts)
	baseRes, err2 := Concat(il.baseParts)
	for _, r := range []*Result{candRes, baseRes} {
		if r != nil && r.Pairing != nil {
			r.Pairing.ID = il.id
		}
	}
	if err := errors.Join(err1, err2); err != nil {
		return candRes, baseRes, err
	}
	return candRes, baseRes, nil
}

// Concat joins results of consecutive runs of the same components into one:
// histograms merged, counts summed, intervals laid end to end, and the
// first interval of each part listed in Pairing.Segments (without an ID:
// RunInterleaved gives one to both sides). It returns nil for no results.
func Concat(parts []*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	first := parts[0]
	out := *first
	out.Components = nil
	out.Complete = true
	out.MeasuredNS, out.DurationNS = 0, 0
	offsets := make([]int, len(parts))
	leads := make([]int64, len(parts))
	ivalNS := max(first.IntervalNS, 1)
	next := 0
	for k, r := range parts {
		if r.IntervalNS != first.IntervalNS || len(r.Components) != len(first.Components) {
			return nil, fmt.Errorf("%w: segment %d has another shape than the first", ErrBadResult, k+1)
		}
		offsets[k] = next
		leads[k] = int64(next) * ivalNS
		next += int((r.MeasuredNS + ivalNS - 1) / ivalNS)
		out.MeasuredNS += r.MeasuredNS
		out.DurationNS += r.DurationNS
		out.Complete = out.Complete && r.Complete
		if !r.Complete && out.Incomplete == "" {
			out.Incomplete = r.Incomplete
		}
		out.Warnings = appendNew(out.Warnings, r.Warnings...)
	}
	out.Pairing = &Pairing{Segments: offsets}
	runner, err := mergeRunners(parts)
	if err != nil {
		return nil, err
	}
	out.Runner = runner
	window := time.Duration(out.MeasuredNS)
	for ci := range first.Components {
		fc := &first.Components[ci]
		cr := *fc
		cr.Operations = nil
		cr.FirstErrors = nil
		cr.WarmupOperations, cr.WarmupErrors = 0, 0
		for k, r := range parts {
			c := r.Component(fc.Name)
			if c == nil || len(c.Operations) != len(fc.Operations) {
				return nil, fmt.Errorf("%w: segment %d lacks component %q", ErrBadResult, k+1, fc.Name)
			}
			cr.WarmupOperations += c.WarmupOperations
			cr.WarmupErrors += c.WarmupErrors
			for kind, s := range c.FirstErrors {
				if _, seen := cr.FirstErrors[kind]; !seen {
					if cr.FirstErrors == nil {
						cr.FirstErrors = map[string]ErrorSample{}
					}
					cr.FirstErrors[kind] = ErrorSample{Message: s.Message, AtNS: s.AtNS + leads[k]}
				}
			}
		}
		for oi := range fc.Operations {
			ops := make([]*OperationResult, len(parts))
			for k, r := range parts {
				ops[k] = &r.Component(fc.Name).Operations[oi]
			}
			op, err := mergeOperation(ops, offsets, time.Duration(ivalNS), window)
			if err != nil {
				return nil, fmt.Errorf("component %q: %w", fc.Name, err)
			}
			op.AskedRate = ops[0].AskedRate // consecutive, not side by side
			cr.Operations = append(cr.Operations, op)
		}
		out.Components = append(out.Components, cr)
	}
	return &out, nil
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		seen := false
		for _, l := range list {
			seen = seen || l == a
		}
		if !seen {
			list = append(list, a)
		}
	}
	return list
}
