package result

import (
	"fmt"
	"slices"
	"time"
)

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
			return nil, fmt.Errorf("%w: segment %d has another shape than the first", ErrInvalid, k+1)
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
		out.AddWarnings(r.Warnings...)
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
				return nil, fmt.Errorf("%w: segment %d lacks component %q", ErrInvalid, k+1, fc.Name)
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
			for k, o := range ops {
				if len(o.Stages) > 0 {
					return nil, fmt.Errorf("%w: segment %d: component %q ran in stages, which are one schedule and not joined end to end", ErrInvalid, k+1, fc.Name)
				}
			}
			op, err := mergeOperation(ops, offsets, time.Duration(ivalNS), window)
			if err != nil {
				return nil, fmt.Errorf("component %q: %w", fc.Name, err)
			}
			op.AskedRate = ops[0].AskedRate // consecutive, not side by side
			cr.Operations = append(cr.Operations, op)
		}
		segments := make([]*Result, len(parts))
		for k, r := range parts {
			one := *r
			one.Components = []ComponentResult{*r.Component(fc.Name)}
			segments[k] = &one
		}
		nodes, err := mergeNodes(segments, 0, window)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", fc.Name, err)
		}
		cr.Nodes = nodes
		out.Components = append(out.Components, cr)
	}
	return &out, nil
}

// AddWarnings adds the warnings r does not already carry, in order.
func (r *Result) AddWarnings(warnings ...string) {
	for _, w := range warnings {
		if !slices.Contains(r.Warnings, w) {
			r.Warnings = append(r.Warnings, w)
		}
	}
}
