package result

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// StageResult is one stage's share of an operation of a workload in stages
// (see slo.Workload.Stages): the measured operations intended during the
// stage, whenever they completed. The stages of an operation add up to it:
// their counts and errors sum to the operation's.
type StageResult struct {
	// Index is the stage's number in the plan, 1 for the first.
	Index int `json:"index"`
	// Rate is the rate the plan gives the stage, for the whole run (all
	// shards) and all operations; StartRate the rate it starts at, which is
	// the previous stage's (0 before the first) when Ramp is "linear", and
	// Rate otherwise.
	Rate      float64 `json:"rate"`
	StartRate float64 `json:"start_rate"`
	Ramp      string  `json:"ramp,omitempty"`
	// StartNS and EndNS bound the stage, from the measured window's start.
	StartNS int64 `json:"start_ns"`
	EndNS   int64 `json:"end_ns"`
	// Count is the successful operations measured, Errors the failed ones.
	Count  int64 `json:"count"`
	Errors int64 `json:"errors"`
	// Hits and Misses count what the stage's reads found, as the
	// operation's do.
	Hits   int64 `json:"hits,omitempty"`
	Misses int64 `json:"misses,omitempty"`
	// AskedRate is this operation's expected share of the stage's mean
	// asked rate (of this runner's, for a shard); AchievedRate is Count per
	// second of the stage.
	AskedRate    float64 `json:"asked_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	// LatencyNS is measured from the intended start, as the operation's;
	// Histogram is the stage's HdrHistogram, V2 compressed, base64.
	LatencyNS Percentiles `json:"latency_ns"`
	Histogram string      `json:"histogram"`
	// ClientDelayHistogram holds the client delays of the stage's
	// successes (see OperationResult.ClientDelayNS), V2 compressed,
	// base64, so a stage's bar tells the load generator's delay from the
	// target's as a whole run's does: a stage at the top of a ramp is
	// where the generator is likeliest to fall behind. Left out where the
	// operation has no client delays, and in results written before it
	// was recorded.
	ClientDelayHistogram string `json:"client_delay_histogram,omitempty"`
	// LatencyLessClientHistogram holds the latencies of the stage's
	// successes less their client delays (see
	// OperationResult.LatencyLessClientNS), V2 compressed, base64: what
	// the target itself took in the stage, as its bar reads it. Left out
	// where the operation has no client delays, and in results written
	// before it was recorded.
	LatencyLessClientHistogram string `json:"latency_less_client_histogram,omitempty"`
}

// LatenciesLessClient decodes the stage's histogram of latencies less
// client delays; empty when it has none.
func (s *StageResult) LatenciesLessClient() (*hdrhistogram.Histogram, error) {
	return decodeOptional(s.LatencyLessClientHistogram, fmt.Sprintf("stage %d: latency less client histogram", s.Index))
}

// ClientDelays decodes the stage's client-delay histogram; empty when it
// has none.
func (s *StageResult) ClientDelays() (*hdrhistogram.Histogram, error) {
	return decodeOptional(s.ClientDelayHistogram, fmt.Sprintf("stage %d: client delay histogram", s.Index))
}

// Length is how long the stage lasted.
func (s *StageResult) Length() time.Duration { return time.Duration(s.EndNS - s.StartNS) }

// StageHistogram decodes the stage's latency histogram.
func (s *StageResult) StageHistogram() (*hdrhistogram.Histogram, error) {
	return decodeOptional(s.Histogram, fmt.Sprintf("stage %d: histogram", s.Index))
}

// Stage returns the operation's record of stage index (1-based), or nil.
func (o *OperationResult) Stage(index int) *StageResult {
	return find(o.Stages, index, func(s *StageResult) int { return s.Index })
}

// OfStage is the component as stage index (1-based) alone saw it: each
// operation's figures are the stage's, so that a stage's objectives are
// judged as a whole run's are. Operations without that stage are left out.
func (c *ComponentResult) OfStage(index int) *ComponentResult {
	out := &ComponentResult{Name: c.Name, Target: c.Target, Protocol: c.Protocol, Workload: c.Workload, WorkloadHash: c.WorkloadHash}
	for i := range c.Operations {
		o := &c.Operations[i]
		s := o.Stage(index)
		if s == nil {
			continue
		}
		out.AskedRate += s.AskedRate
		out.Operations = append(out.Operations, OperationResult{
			Name: o.Name, Count: s.Count, Errors: s.Errors, Hits: s.Hits, Misses: s.Misses,
			AskedRate: s.AskedRate, AchievedRate: s.AchievedRate,
			LatencyNS: s.LatencyNS, Histogram: s.Histogram, Intervals: []Interval{},
			ClientDelayHistogram: s.ClientDelayHistogram, LatencyLessClientHistogram: s.LatencyLessClientHistogram,
		})
	}
	return out
}

// stagesAgree checks an operation's stages: numbered 1, 2, … and laid end
// to end, each histogram sound and agreeing with its count and stored
// percentiles, and their counts and errors adding up to the operation's.
func (o *OperationResult) stagesAgree() error {
	if len(o.Stages) == 0 {
		return nil
	}
	var count, errors int64
	for i := range o.Stages {
		s := &o.Stages[i]
		switch {
		case s.Index != i+1:
			return fmt.Errorf("stage %d is numbered %d", i+1, s.Index)
		case s.StartNS < 0 || s.EndNS <= s.StartNS:
			return fmt.Errorf("stage %d runs from %d ns to %d ns", s.Index, s.StartNS, s.EndNS)
		case i > 0 && s.StartNS != o.Stages[i-1].EndNS:
			return fmt.Errorf("stage %d starts at %d ns, not where stage %d ends (%d ns)", s.Index, s.StartNS, i, o.Stages[i-1].EndNS)
		case s.Count < 0 || s.Errors < 0 || s.Hits < 0 || s.Misses < 0:
			return fmt.Errorf("stage %d: negative count", s.Index)
		}
		h, err := s.StageHistogram()
		if err != nil {
			return err
		}
		if h.TotalCount() != s.Count {
			return fmt.Errorf("stage %d: histogram holds %d samples, count says %d", s.Index, h.TotalCount(), s.Count)
		}
		if err := storedAgree(fmt.Sprintf("stage %d latency", s.Index), s.LatencyNS, s.Histogram, h); err != nil {
			return err
		}
		cd, err := s.ClientDelays()
		if err != nil {
			return err
		}
		if n := cd.TotalCount(); s.ClientDelayHistogram != "" && n != s.Count {
			return fmt.Errorf("stage %d: client delay histogram holds %d samples, count says %d", s.Index, n, s.Count)
		}
		less, err := s.LatenciesLessClient()
		if err != nil {
			return err
		}
		switch n := less.TotalCount(); {
		case s.LatencyLessClientHistogram == "":
		case s.ClientDelayHistogram == "":
			return fmt.Errorf("stage %d: latency less client histogram without client delays", s.Index)
		case n != s.Count:
			return fmt.Errorf("stage %d: latency less client histogram holds %d samples, count says %d", s.Index, n, s.Count)
		}
		count += s.Count
		errors += s.Errors
	}
	if count != o.Count || errors != o.Errors {
		return fmt.Errorf("stages count %d operations and %d errors, the operation %d and %d", count, errors, o.Count, o.Errors)
	}
	return nil
}

// mergeStages joins one operation's stages of several shards, stage by
// stage: counts, histograms and asked rates summed, the achieved rate
// recomputed over the stage.
func mergeStages(ops []*OperationResult) ([]StageResult, error) {
	first := ops[0]
	for k, o := range ops {
		if (len(o.Stages) == 0) != (len(first.Stages) == 0) {
			return nil, fmt.Errorf("%w: operation %q: shard %d and the first differ in running in stages", ErrInvalid, o.Name, k+1)
		}
	}
	if len(first.Stages) == 0 {
		return nil, nil
	}
	out := make([]StageResult, len(first.Stages))
	for i, s := range first.Stages {
		h, client, lessClient := NewHistogram(), NewHistogram(), NewHistogram()
		m := StageResult{Index: s.Index, Rate: s.Rate, StartRate: s.StartRate, Ramp: s.Ramp, StartNS: s.StartNS, EndNS: s.EndNS}
		for k, o := range ops {
			if len(o.Stages) != len(first.Stages) || o.Stages[i].Index != s.Index || o.Stages[i].Length() != s.Length() {
				return nil, fmt.Errorf("%w: operation %q: shard %d has other stages than the first", ErrInvalid, o.Name, k+1)
			}
			p := &o.Stages[i]
			sh, err := p.StageHistogram()
			if err != nil {
				return nil, fmt.Errorf("%w: operation %q: %w", ErrInvalid, o.Name, err)
			}
			if err := mergeInto(h, sh, o.Name, fmt.Sprintf("stage %d histogram", s.Index)); err != nil {
				return nil, err
			}
			cd, err := p.ClientDelays()
			if err != nil {
				return nil, fmt.Errorf("%w: operation %q: %w", ErrInvalid, o.Name, err)
			}
			if err := mergeInto(client, cd, o.Name, fmt.Sprintf("stage %d client delay histogram", s.Index)); err != nil {
				return nil, err
			}
			lc, err := p.LatenciesLessClient()
			if err != nil {
				return nil, fmt.Errorf("%w: operation %q: %w", ErrInvalid, o.Name, err)
			}
			if err := mergeInto(lessClient, lc, o.Name, fmt.Sprintf("stage %d latency less client histogram", s.Index)); err != nil {
				return nil, err
			}
			m.Errors += p.Errors
			m.Hits += p.Hits
			m.Misses += p.Misses
			m.AskedRate += p.AskedRate
		}
		m.Count, m.LatencyNS, m.Histogram = h.TotalCount(), PercentilesOf(h), EncodeHistogram(h)
		// A shard without client delays (an older result) leaves the
		// merge short of the count: then it says nothing, and is left out.
		if n := client.TotalCount(); n > 0 && n == m.Count {
			m.ClientDelayHistogram = EncodeHistogram(client)
			if lessClient.TotalCount() == n {
				m.LatencyLessClientHistogram = EncodeHistogram(lessClient)
			}
		}
		if l := m.Length(); l > 0 {
			m.AchievedRate = float64(m.Count) / l.Seconds()
		}
		out[i] = m
	}
	return out, nil
}
