package result

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate/status"
)

// ErrUnmergeable marks shard results that are not the shards of one run:
// different plans, seeds, workloads or shard counts, a shard missing or
// given twice, or a result that is no shard at all.
var ErrUnmergeable = errors.New("shards cannot be merged")

// Shard says which slice of the global operation sequence a runner sends.
// The zero value means the whole sequence; a result carries it only when
// Count is above 1.
type Shard struct {
	// Index is 1-based; Count is the number of shards.
	Index int `json:"index"`
	Count int `json:"count"`
}

// ShardSource is one shard a merged result was made of.
type ShardSource struct {
	Shard         Shard     `json:"shard"`
	MeasuredStart time.Time `json:"measured_start"`
	MeasuredNS    int64     `json:"measured_ns"`
	Complete      bool      `json:"complete"`
	// OffsetIntervals is how many whole intervals after the earliest
	// shard's measured start this shard's interval 0 was placed.
	OffsetIntervals int `json:"offset_intervals"`
}

// PlanHashOf digests what the shards of one run must share (see
// Result.PlanHash).
func PlanHashOf(r *Result) string {
	type component struct {
		Name         string `json:"name"`
		WorkloadHash string `json:"workload_hash"`
	}
	id := struct {
		Seed       int64       `json:"seed"`
		DurationNS int64       `json:"duration_ns"`
		WarmupNS   int64       `json:"warmup_ns"`
		IntervalNS int64       `json:"interval_ns"`
		Components []component `json:"components"`
	}{Seed: r.Seed, DurationNS: r.DurationNS, WarmupNS: r.WarmupNS, IntervalNS: r.IntervalNS}
	for _, c := range r.Components {
		id.Components = append(id.Components, component{c.Name, c.WorkloadHash})
	}
	b, err := json.Marshal(id)
	if err != nil {
		panic(fmt.Sprintf("result: plan identity does not marshal: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Merge combines the results of the N shards of one run (run --shard I/N for
// I = 1..N) into the result of the whole run, losslessly: whole-run and
// per-interval histograms (latency, service time and client delays) are
// merged bucket by bucket, counts, errors by kind, late operations and warmup counts are
// added, and every percentile is read again from the merged histograms,
// never averaged. The asked rate is the sum of the shards'; the achieved rate
// is recomputed over the union of their measured windows; each error kind
// keeps its earliest first occurrence.
//
// Shards run on different machines start at different wall-clock times.
// Their intervals are aligned by wall clock: shard k's interval i becomes
// interval i + floor((measured_start_k − earliest measured_start) / interval)
// of the merged result, whose measured window starts at the earliest shard's
// and ends at the latest shard's end.
//
// names, if not nil, label the shards (file names) in messages. Merge refuses,
// with an error wrapping ErrUnmergeable that says which, results that are not
// shards, shards of different shard counts, seeds, plans or workloads, and
// a shard that is missing or given twice. The merged result has no Shard (it
// is the whole), no judged objectives and verdict "pass", or "error" with
// Complete false when any shard was incomplete: judge it like any other
// result.
func Merge(shards []*Result, names []string) (*Result, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("%w: no shard results given", ErrUnmergeable)
	}
	label := func(i int) string {
		l := "a result without a shard"
		if sh := shards[i].Shard; sh != nil {
			l = fmt.Sprintf("shard %d of %d", sh.Index, sh.Count)
		}
		if i < len(names) {
			return fmt.Sprintf("%q (%s)", names[i], l)
		}
		return l
	}
	if err := checkShards(shards, label); err != nil {
		return nil, err
	}
	order := make([]int, len(shards))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return shards[order[a]].Shard.Index < shards[order[b]].Shard.Index })
	sorted := make([]*Result, len(shards))
	for i, k := range order {
		sorted[i] = shards[k]
	}
	return mergeSorted(sorted)
}

// checkShards finds what makes results unmergeable; the first problem wins,
// the most basic first.
func checkShards(shards []*Result, label func(int) string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrUnmergeable}, args...)...)
	}
	for i, r := range shards {
		switch {
		case r.Shard == nil || r.Shard.Count < 1:
			return fail("%s is not a shard result: it was run without --shard I/N", label(i))
		case r.Shard.Index < 1 || r.Shard.Index > r.Shard.Count:
			return fail("%s: shard index %d is outside 1..%d", label(i), r.Shard.Index, r.Shard.Count)
		case r.MeasuredStart.IsZero():
			return fail("%s has no measured_start: it was written by a tailgate without merge; run the shards again", label(i))
		case r.IntervalNS <= 0:
			return fail("%s has no interval length", label(i))
		}
	}
	first := shards[0]
	for i, r := range shards[1:] {
		i++
		switch {
		case r.Shard.Count != first.Shard.Count:
			return fail("shards of different shard counts: %s is one of %d shards, %s one of %d",
				label(0), first.Shard.Count, label(i), r.Shard.Count)
		case r.Seed != first.Seed:
			return fail("shards of different seeds: %s has seed %d, %s seed %d", label(0), first.Seed, label(i), r.Seed)
		}
		if a, b := componentNames(first), componentNames(r); !slices.Equal(a, b) {
			return fail("shards of different plans: %s has components [%s], %s [%s]",
				label(0), strings.Join(a, " "), label(i), strings.Join(b, " "))
		}
		for ci := range first.Components {
			fc, rc := &first.Components[ci], &r.Components[ci]
			if fc.WorkloadHash != rc.WorkloadHash {
				return fail("shards of different workloads: component %q has workload %s in %s, %s in %s",
					fc.Name, fc.WorkloadHash, label(0), rc.WorkloadHash, label(i))
			}
			if a, b := operationNames(fc), operationNames(rc); !slices.Equal(a, b) || fc.Protocol != rc.Protocol {
				return fail("shards of different workloads: component %q has %s operations [%s] in %s, %s [%s] in %s",
					fc.Name, fc.Protocol, strings.Join(a, " "), label(0), rc.Protocol, strings.Join(b, " "), label(i))
			}
		}
		for _, f := range []struct {
			what string
			a, b int64
		}{
			{"planned duration", first.DurationNS, r.DurationNS},
			{"warmup", first.WarmupNS, r.WarmupNS},
			{"interval", first.IntervalNS, r.IntervalNS},
		} {
			if f.a != f.b {
				return fail("shards of different plans: %s has %s %s, %s %s", label(0), f.what,
					time.Duration(f.a), label(i), time.Duration(f.b))
			}
		}
		if first.PlanHash != r.PlanHash {
			return fail("shards of different plans: %s has plan_hash %s, %s %s", label(0), first.PlanHash, label(i), r.PlanHash)
		}
	}
	seen := map[int]int{}
	for i, r := range shards {
		if j, dup := seen[r.Shard.Index]; dup {
			return fail("shard %d of %d is given twice: %s and %s", r.Shard.Index, r.Shard.Count, label(j), label(i))
		}
		seen[r.Shard.Index] = i
	}
	var missing []string
	for idx := 1; idx <= first.Shard.Count; idx++ {
		if _, ok := seen[idx]; !ok {
			missing = append(missing, strconv.Itoa(idx))
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fail("shard %s of %d is missing", missing[0], first.Shard.Count)
	default:
		return fail("shards %s and %s of %d are missing", strings.Join(missing[:len(missing)-1], ", "),
			missing[len(missing)-1], first.Shard.Count)
	}
}

func componentNames(r *Result) []string {
	out := make([]string, len(r.Components))
	for i, c := range r.Components {
		out[i] = c.Name
	}
	return out
}

func operationNames(c *ComponentResult) []string {
	out := make([]string, len(c.Operations))
	for i, o := range c.Operations {
		out[i] = o.Name
	}
	return out
}

// mergeSorted merges checked shards, in shard order.
func mergeSorted(shards []*Result) (*Result, error) {
	first := shards[0]
	interval := time.Duration(first.IntervalNS)
	earliest, started := first.MeasuredStart, first.StartedAt
	latestEnd := first.MeasuredStart.Add(time.Duration(first.MeasuredNS))
	for _, r := range shards[1:] {
		if r.MeasuredStart.Before(earliest) {
			earliest = r.MeasuredStart
		}
		if r.StartedAt.Before(started) {
			started = r.StartedAt
		}
		if end := r.MeasuredStart.Add(time.Duration(r.MeasuredNS)); end.After(latestEnd) {
			latestEnd = end
		}
	}
	out := &Result{
		Schema: Schema, Tool: first.Tool, Verdict: status.VerdictPass, Complete: true, Plan: first.Plan, Seed: first.Seed,
		StartedAt: started, WarmupNS: first.WarmupNS, MeasuredNS: latestEnd.Sub(earliest).Nanoseconds(),
		IntervalNS: first.IntervalNS, MeasuredStart: earliest, DurationNS: first.DurationNS, PlanHash: first.PlanHash,
	}
	offsets := make([]int, len(shards))
	skew := time.Duration(0)
	var incomplete []string
	for k, r := range shards {
		lead := r.MeasuredStart.Sub(earliest)
		skew = max(skew, lead)
		offsets[k] = int(lead / interval)
		out.MergedFrom = append(out.MergedFrom, ShardSource{Shard: *r.Shard, MeasuredStart: r.MeasuredStart,
			MeasuredNS: r.MeasuredNS, Complete: r.Complete, OffsetIntervals: offsets[k]})
		if !r.Complete {
			out.Complete = false
			incomplete = append(incomplete, fmt.Sprintf("shard %d of %d: %s", r.Shard.Index, r.Shard.Count, r.Incomplete))
		}
		if out.Plan == "" {
			out.Plan = r.Plan
		}
	}
	if !out.Complete {
		out.Verdict = status.VerdictError
		out.Incomplete = strings.Join(incomplete, "; ")
	}
	if skew > interval {
		out.Warnings = append(out.Warnings, fmt.Sprintf("the shards' measured windows started up to %s apart: the target saw the whole asked rate only while all of them ran",
			skew.Round(time.Millisecond)))
	}
	runner, err := mergeRunners(shards)
	if err != nil {
		return nil, err
	}
	out.Runner = runner
	window := time.Duration(out.MeasuredNS)
	for ci := range first.Components {
		cr, warn, err := mergeComponent(shards, ci, earliest, offsets, window)
		if err != nil {
			return nil, err
		}
		out.Components = append(out.Components, cr)
		out.Warnings = append(out.Warnings, warn...)
	}
	return out, nil
}

// mergeComponent merges the ci-th component of every shard.
func mergeComponent(shards []*Result, ci int, earliest time.Time, offsets []int, window time.Duration) (ComponentResult, []string, error) {
	fc := &shards[0].Components[ci]
	cr := ComponentResult{
		Name: fc.Name, Target: fc.Target, Protocol: fc.Protocol, WorkloadHash: fc.WorkloadHash, Workload: fc.Workload,
		Objectives: []status.ObjectiveResult{},
	}
	var warnings []string
	targets := []string{}
	for _, r := range shards {
		c := &r.Components[ci]
		cr.Embedded = cr.Embedded || c.Embedded
		cr.Insecure = cr.Insecure || c.Insecure
		cr.AskedRate += c.AskedRate
		cr.WarmupOperations += c.WarmupOperations
		cr.WarmupErrors += c.WarmupErrors
		if !slices.Contains(targets, c.Target) {
			targets = append(targets, c.Target)
		}
		lead := r.MeasuredStart.Sub(earliest).Nanoseconds()
		for kind, s := range c.FirstErrors {
			at := s.AtNS + lead
			if prev, ok := cr.FirstErrors[kind]; !ok || at < prev.AtNS {
				if cr.FirstErrors == nil {
					cr.FirstErrors = map[string]ErrorSample{}
				}
				cr.FirstErrors[kind] = ErrorSample{Message: s.Message, AtNS: at}
			}
		}
	}
	if cr.Insecure {
		warnings = append(warnings, fmt.Sprintf("component %q: TLS certificate checks were off (insecure_skip_verify): the target's identity was not verified", cr.Name))
	}
	if len(targets) > 1 {
		warnings = append(warnings, fmt.Sprintf("component %q: the shards loaded different targets: %s", cr.Name, strings.Join(targets, ", ")))
	}
	for oi := range fc.Operations {
		ops := make([]*OperationResult, len(shards))
		for k, r := range shards {
			ops[k] = &r.Components[ci].Operations[oi]
		}
		op, err := mergeOperation(ops, offsets, time.Duration(shards[0].IntervalNS), window)
		if err != nil {
			return cr, nil, fmt.Errorf("component %q: %w", cr.Name, err)
		}
		if op.Stages, err = mergeStages(ops); err != nil {
			return cr, nil, fmt.Errorf("component %q: %w", cr.Name, err)
		}
		cr.Operations = append(cr.Operations, op)
	}
	nodes, err := mergeNodes(shards, ci, window)
	if err != nil {
		return cr, nil, fmt.Errorf("component %q: %w", cr.Name, err)
	}
	cr.Nodes = nodes
	return cr, warnings, nil
}

// mergeNodes joins the node records of component ci of several results
// (shards side by side, or consecutive segments) by address, in the order
// each address is first met; window is the merged measured window.
func mergeNodes(parts []*Result, ci int, window time.Duration) ([]NodeResult, error) {
	var out []NodeResult
	var hists []*hdrhistogram.Histogram
	for _, r := range parts {
		for _, n := range r.Components[ci].Nodes {
			i := slices.IndexFunc(out, func(o NodeResult) bool { return o.Address == n.Address })
			if i < 0 {
				out = append(out, NodeResult{Address: n.Address})
				hists = append(hists, NewHistogram())
				i = len(out) - 1
			}
			h, err := n.WholeHistogram()
			if err != nil {
				return nil, err
			}
			if dropped := hists[i].Merge(h); dropped != 0 {
				return nil, fmt.Errorf("%w: node %q: %d values outside tailgate's histogram range", ErrInvalid, n.Address, dropped)
			}
			o := &out[i]
			o.Errors += n.Errors
			for kind, v := range n.ErrorKinds {
				if o.ErrorKinds == nil {
					o.ErrorKinds = map[string]int64{}
				}
				o.ErrorKinds[kind] += v
			}
		}
	}
	for i := range out {
		o, h := &out[i], hists[i]
		o.Count, o.LatencyNS, o.Histogram = h.TotalCount(), PercentilesOf(h), EncodeHistogram(h)
		if window > 0 {
			o.AchievedRate = float64(o.Count) / window.Seconds()
		}
	}
	return out, nil
}

// mergeOperation merges one operation's records; offsets place each shard's
// intervals on the merged timeline.
func mergeOperation(ops []*OperationResult, offsets []int, interval, window time.Duration) (OperationResult, error) {
	out := OperationResult{Name: ops[0].Name, Intervals: []Interval{}}
	whole, service, client, lessClient := NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()
	first := NewHistogram()
	var ivals []intervalSlot
	// The merged intervals carry client delays only when every part's
	// successes have theirs: one part without them (an older result)
	// would leave a merged interval's short of its count.
	ivClients, ivLess := true, true
	for _, o := range ops {
		for _, iv := range o.Intervals {
			if iv.Count > 0 && iv.ClientDelayHistogram == "" {
				ivClients = false
			}
			if iv.Count > 0 && iv.LatencyLessClientHistogram == "" {
				ivLess = false
			}
		}
	}
	for k, o := range ops {
		h, err := o.WholeHistogram()
		if err != nil {
			return out, fmt.Errorf("%w: shard %d: %w", ErrInvalid, k+1, err)
		}
		if err := mergeInto(whole, h, o.Name, "histogram"); err != nil {
			return out, err
		}
		if o.ServiceHistogram != "" {
			sh, err := hdrhistogram.Decode([]byte(o.ServiceHistogram))
			if err != nil {
				return out, fmt.Errorf("%w: operation %q: service histogram: %w", ErrInvalid, o.Name, err)
			}
			if err := mergeInto(service, sh, o.Name, "service histogram"); err != nil {
				return out, err
			}
		}
		cd, err1 := o.ClientDelays()
		lc, err2 := o.LatenciesLessClient()
		if err := errors.Join(err1, err2); err != nil {
			return out, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := errors.Join(mergeInto(client, cd, o.Name, "client delay histogram"), mergeInto(lessClient, lc, o.Name, "latency less client histogram")); err != nil {
			return out, err
		}
		fm, err := o.FirstMessages()
		if err != nil {
			return out, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := mergeInto(first, fm, o.Name, "first message histogram"); err != nil {
			return out, err
		}
		out.AddCounts(o)
		out.AskedRate += o.AskedRate
		hs, err := o.IntervalHistograms()
		if err != nil {
			return out, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		for j, iv := range o.Intervals {
			if iv.OffsetNS < 0 {
				return out, fmt.Errorf("%w: operation %q: interval %d starts before the measured window", ErrInvalid, o.Name, j)
			}
			at := offsets[k] + int(iv.OffsetNS/interval.Nanoseconds())
			for len(ivals) <= at {
				ivals = append(ivals, intervalSlot{})
			}
			slot := &ivals[at]
			slot.errors += iv.Errors
			if err := slot.latency.add(iv.Histogram, hs[j], j, o.Name, "interval histogram"); err != nil {
				return out, err
			}
			// An interval without successes may have no client delays.
			if ivClients && iv.ClientDelayHistogram != "" {
				if err := slot.client.add(iv.ClientDelayHistogram, nil, j, o.Name, "client delay histogram"); err != nil {
					return out, err
				}
			}
			if ivLess && iv.LatencyLessClientHistogram != "" {
				if err := slot.lessClient.add(iv.LatencyLessClientHistogram, nil, j, o.Name, "latency less client histogram"); err != nil {
					return out, err
				}
			}
		}
	}
	out.LatencyNS, out.ServiceNS = PercentilesOf(whole), PercentilesOf(service)
	out.Histogram, out.ServiceHistogram = EncodeHistogram(whole), EncodeHistogram(service)
	// A part without client delays (an older result) leaves the merged
	// histograms short of the count: then they say nothing, and are left out.
	if client.TotalCount() == out.Count {
		out.SetClientDelay(client, lessClient)
	}
	out.SetFirstMessage(first)
	if window > 0 {
		out.AchievedRate = float64(out.Count) / window.Seconds()
	}
	// Intervals carry client delays where the operation has them at all,
	// as the engine writes them.
	ivClients = ivClients && out.ClientDelayHistogram != ""
	ivLess = ivLess && ivClients
	for i, slot := range ivals {
		iv := Interval{OffsetNS: int64(i) * interval.Nanoseconds(), Errors: slot.errors, Histogram: EncodedEmpty()}
		if slot.latency.hist != nil {
			iv.Count, iv.Histogram = slot.latency.hist.TotalCount(), slot.latency.encoded()
		}
		if ivClients {
			if iv.ClientDelayHistogram = slot.client.encoded(); iv.ClientDelayHistogram == "" {
				iv.ClientDelayHistogram = EncodedEmpty()
			}
		}
		if ivLess {
			if iv.LatencyLessClientHistogram = slot.lessClient.encoded(); iv.LatencyLessClientHistogram == "" {
				iv.LatencyLessClientHistogram = EncodedEmpty()
			}
		}
		out.Intervals = append(out.Intervals, iv)
	}
	return out, nil
}

// intervalSlot is one interval of a merged operation: its latencies,
// client delays, latencies less them and errors. Shards side by side all
// fall into each slot and are merged; segments end to end (Concat) fill
// each slot with one part's interval.
type intervalSlot struct {
	latency, client, lessClient histSlot
	errors                      int64
}

// histSlot merges the histograms of the parts that fall into one slot.
// While a single part fills it, it keeps that part's encoding as it is:
// decoding, merging into an empty histogram and encoding it again would
// give the same histogram, and under -race cost about 15 ms an interval,
// most of joining an interleaved run's segments.
type histSlot struct {
	// hist is the merge of the parts once a second one fell in (merged),
	// or else the only part's histogram when it was given decoded. Packed:
	// a merged soak of hours holds every interval's slot at once.
	hist   *hdrhistogram.PackedHistogram
	merged bool
	// only is the only part's encoding, while merged is false, and onlyAt
	// its interval's index in its part; "" while no part fell in.
	only   string
	onlyAt int
}

// add adds a part's histogram to the slot: enc is its encoding, the what of
// interval at of operation op, and h the histogram decoded, or nil to decode
// it only when a second part falls into the slot.
func (s *histSlot) add(enc string, h *hdrhistogram.PackedHistogram, at int, op, what string) error {
	decode := func(h *hdrhistogram.PackedHistogram, enc string, at int) (*hdrhistogram.PackedHistogram, error) {
		if h != nil {
			return h, nil
		}
		h, err := hdrhistogram.DecodePacked([]byte(enc))
		if err != nil {
			return nil, fmt.Errorf("%w: operation %q: interval %d: %s: %w", ErrInvalid, op, at, what, err)
		}
		return h, nil
	}
	switch {
	case !s.merged && s.only == "":
		s.hist, s.only, s.onlyAt = h, enc, at
		return nil
	case !s.merged:
		alone, err := decode(s.hist, s.only, s.onlyAt)
		if err != nil {
			return err
		}
		m := NewPackedHistogram()
		if err := mergeInto(m, alone, op, what); err != nil {
			return err
		}
		s.hist, s.merged, s.only = m, true, ""
	}
	h, err := decode(h, enc, at)
	if err != nil {
		return err
	}
	return mergeInto(s.hist, h, op, what)
}

// encoded is the slot's histogram encoded, or "" when no part fell in.
func (s *histSlot) encoded() string {
	if s.merged {
		return EncodePacked(s.hist)
	}
	return s.only
}

// mergeInto adds src to dst and fails when a value falls outside dst's
// range: a merge must lose nothing. H is a dense or a packed histogram.
func mergeInto[H interface{ Merge(H) int64 }](dst, src H, op, what string) error {
	if dropped := dst.Merge(src); dropped != 0 {
		return fmt.Errorf("%w: operation %q: %s: %d values outside tailgate's histogram range", ErrInvalid, op, what, dropped)
	}
	return nil
}
