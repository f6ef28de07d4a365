package workloads

import (
	"context"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// Adaptive says how RunAdaptive extends a run.
type Adaptive struct {
	// Max is the longest measured length the run may extend to.
	Max time.Duration
	// Undecided judges the results so far (base is nil without a live
	// baseline) and says what is inconclusive, or "" when every verdict is
	// conclusive and the run may stop.
	Undecided func(cand, base *result.Result) string
	// Extending, if set, is told before each extension.
	Extending func(measured, step time.Duration, reason string)
}

// minStep is the shortest step of a plain adaptive run but the last, which
// takes up a remainder shorter than minStep rather than leave it unused.
const minStep = 500 * time.Millisecond

// RunAdaptive runs specs for their duration, as Run does, or interleaved
// with a live baseline (base not nil), as RunInterleaved does; then, while
// ad.Undecided finds a verdict inconclusive and ad.Max allows, it measures
// on in steps of half the planned duration: more measured time, or more
// segment pairs. Every component of the results carries the run's Looks,
// and each extension is told in the results' warnings.
func RunAdaptive(ctx context.Context, cand, base []*Spec, opt Options, ad Adaptive) (candRes, baseRes *result.Result, err error) {
	if len(cand) == 0 {
		return nil, nil, fmt.Errorf("an adaptive run needs components")
	}
	planned := cand[0].Duration
	if len(base) > 0 {
		defer cleanupAfter(ctx, cand, base, opt, &candRes, &baseRes)
		return runAdaptiveInterleaved(ctx, cand, base, opt, ad, planned)
	}
	defer cleanupAfter(ctx, cand, nil, opt, &candRes)
	first, err := Run(ctx, keepKeys(cand, false), opt)
	if err != nil || first == nil {
		return first, nil, err
	}
	parts := []*result.Result{first}
	looks := result.Looks{MaxNS: int64(ad.Max), MeasuredNS: []int64{first.MeasuredNS}}
	res := first
	for {
		markLooks(looks, res)
		reason := ad.Undecided(res, nil)
		if reason == "" {
			return res, nil, nil
		}
		measured := time.Duration(res.MeasuredNS)
		remaining := ad.Max - measured
		step := min(max(planned/2, minStep), remaining)
		if remaining-step < minStep {
			// No room for another step after this one: take what is left.
			step = remaining
		}
		if step <= 0 {
			stillUndecided(looks, reason, res)
			return res, nil, nil
		}
		if ad.Extending != nil {
			ad.Extending(measured, step, reason)
		}
		looks.Reasons = append(looks.Reasons, reason)
		part, runErr := Run(ctx, extension(cand, step), opt)
		if part != nil {
			parts = append(parts, part)
		}
		joined, err := result.Concat(parts)
		if err != nil {
			return res, nil, err
		}
		joined.Pairing = nil
		joined.AddWarnings(extendedWarning(measured, step, reason))
		res = joined
		looks.MeasuredNS = append(looks.MeasuredNS, res.MeasuredNS)
		if runErr != nil {
			markLooks(looks, res)
			return res, nil, fmt.Errorf("extending the run past %s: %w", slo.FormatDuration(measured), runErr)
		}
	}
}

// runAdaptiveInterleaved is RunAdaptive with a live baseline: the
// extensions add ABBA blocks of segment pairs of the planned length.
func runAdaptiveInterleaved(ctx context.Context, cand, base []*Spec, opt Options, ad Adaptive, planned time.Duration) (candRes, baseRes *result.Result, err error) {
	il, err := newInterleaver(cand, base, opt)
	if err != nil {
		return nil, nil, err
	}
	if err := il.run(ctx, il.planned); err != nil {
		candRes, baseRes, _ = il.results()
		return candRes, baseRes, err
	}
	// The longest run is a whole number of ABBA blocks within ad.Max.
	most := int(ad.Max / il.length)
	most -= most % 2
	most = max(most, il.planned)
	// Half the planned segments a step, in whole ABBA blocks.
	stepSegments := il.planned / 2
	stepSegments += stepSegments % 2
	looks := result.Looks{MaxNS: int64(most) * int64(il.length)}
	for {
		candRes, baseRes, err = il.results()
		if err != nil {
			return nil, nil, err
		}
		looks.MeasuredNS = append(looks.MeasuredNS, candRes.MeasuredNS)
		for _, w := range extendedWarnings(looks) {
			candRes.AddWarnings(w)
			baseRes.AddWarnings(w)
		}
		markLooks(looks, candRes, baseRes)
		reason := ad.Undecided(candRes, baseRes)
		if reason == "" {
			return candRes, baseRes, nil
		}
		done := len(il.candParts)
		step := min(stepSegments, most-done)
		if most-done-step < 2 {
			step = most - done
		}
		if step < 2 {
			stillUndecided(looks, reason, candRes, baseRes)
			return candRes, baseRes, nil
		}
		measured := time.Duration(candRes.MeasuredNS)
		if ad.Extending != nil {
			ad.Extending(measured, time.Duration(step)*il.length, reason)
		}
		looks.Reasons = append(looks.Reasons, reason)
		if err := il.run(ctx, step); err != nil {
			candRes, baseRes, _ = il.results()
			looks.MeasuredNS = append(looks.MeasuredNS, candRes.MeasuredNS)
			markLooks(looks, candRes, baseRes)
			return candRes, baseRes, err
		}
	}
}

// extension is the specs of one extension of a plain run: step long, with
// the short warmup of a later segment (the target is warm, the connections
// are new).
func extension(specs []*Spec, step time.Duration) []*Spec {
	out := make([]*Spec, len(specs))
	for i, s := range specs {
		c := *s
		c.Duration = step
		c.Warmup = min(s.Warmup, segmentWarmup)
		c.SkipPrefill, c.KeepKeys = true, true
		out[i] = &c
	}
	return out
}

// markLooks gives every component of the results its own copy of looks.
func markLooks(looks result.Looks, results ...*result.Result) {
	for _, r := range results {
		if r == nil {
			continue
		}
		for i := range r.Components {
			l := result.Looks{
				MaxNS:      looks.MaxNS,
				MeasuredNS: append([]int64(nil), looks.MeasuredNS...),
				Reasons:    append([]string(nil), looks.Reasons...),
			}
			r.Components[i].Looks = &l
		}
	}
}

// extendedWarning tells one extension in the result's warnings.
func extendedWarning(measured, step time.Duration, reason string) string {
	return fmt.Sprintf("defaults.adaptive: inconclusive after %s (%s), so measured %s more",
		slo.FormatDuration(measured), reason, slo.FormatDuration(step))
}

// extendedWarnings tells every extension of looks so far.
func extendedWarnings(looks result.Looks) []string {
	var out []string
	for k, reason := range looks.Reasons {
		if k+1 < len(looks.MeasuredNS) {
			at, next := time.Duration(looks.MeasuredNS[k]), time.Duration(looks.MeasuredNS[k+1])
			out = append(out, extendedWarning(at, next-at, reason))
		}
	}
	return out
}

// stillUndecided tells, in the results' warnings, that the run stopped at
// the longest length the plan allows with a verdict still inconclusive.
func stillUndecided(looks result.Looks, reason string, results ...*result.Result) {
	w := fmt.Sprintf("defaults.adaptive: still inconclusive after %s, the longest this run could measure (max_duration): %s",
		slo.FormatDuration(time.Duration(looks.MeasuredNS[len(looks.MeasuredNS)-1])), reason)
	for _, r := range results {
		r.AddWarnings(w)
	}
}
