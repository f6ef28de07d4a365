package workloads

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/result"
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
func RunInterleaved(ctx context.Context, cand, base []*Spec, opt Options) (candRes, baseRes *result.Result, err error) {
	defer cleanupAfter(ctx, cand, base, opt, &candRes, &baseRes)
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
	candParts, baseParts []*result.Result
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
			c.SkipPrefill = true
		}
		c.KeepKeys = true
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
			parts *[]*result.Result
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

// cleanupAfter deletes the keys of a run made of several parts, after its
// last, and tells of any trouble in the results' warnings.
func cleanupAfter(ctx context.Context, cand, base []*Spec, opt Options, results ...**result.Result) {
	ran := false
	for _, r := range results {
		ran = ran || *r != nil
	}
	if !ran {
		return // nothing was loaded, so nothing was written
	}
	warnings := Cleanup(ctx, append(append([]*Spec(nil), cand...), base...), opt)
	for _, r := range results {
		if *r != nil {
			(*r).AddWarnings(warnings...)
		}
	}
}

// results joins each side's segments so far into one result, both marked
// with the run's Pairing.
func (il *interleaver) results() (candRes, baseRes *result.Result, err error) {
	candRes, err1 := result.Concat(il.candParts)
	baseRes, err2 := result.Concat(il.baseParts)
	for _, r := range []*result.Result{candRes, baseRes} {
		if r != nil && r.Pairing != nil {
			r.Pairing.ID = il.id
		}
	}
	if err := errors.Join(err1, err2); err != nil {
		return candRes, baseRes, err
	}
	return candRes, baseRes, nil
}
