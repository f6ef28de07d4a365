package result

import (
	"errors"
	"fmt"
	"strconv"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/internal/atomicfile"
)

// ErrInvalid marks a result file that is unreadable, truncated, corrupt or
// not a tailgate result.
var ErrInvalid = errors.New("not a valid tailgate result")

// maxResultSize bounds what Read will load.
const maxResultSize = 512 << 20

// Read loads and checks a result file (see Decode).
func Read(path string) (*Result, error) {
	return atomicfile.Read(path, "result", maxResultSize, ErrInvalid, Decode)
}

// Decode parses and checks result JSON: schema, fields and every histogram
// must be sound. Every error wraps ErrInvalid.
func Decode(data []byte) (*Result, error) {
	var r Result
	if err := atomicfile.DecodeJSON(data, &r, ErrInvalid); err != nil {
		return nil, err
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%w: schema is %q, want %q", ErrInvalid, r.Schema, Schema)
	}
	if !r.Verdict.Valid() {
		return nil, fmt.Errorf("%w: verdict %q is not pass, fail or error", ErrInvalid, r.Verdict)
	}
	if len(r.Components) == 0 {
		return nil, fmt.Errorf("%w: no components", ErrInvalid)
	}
	if r.MeasuredNS < 0 || r.WarmupNS < 0 || r.IntervalNS < 0 {
		return nil, fmt.Errorf("%w: negative window length", ErrInvalid)
	}
	if p := r.Pairing; p != nil {
		if p.ID == "" || len(p.Segments) == 0 || p.Segments[0] != 0 {
			return nil, fmt.Errorf("%w: pairing needs an id and segments starting at interval 0", ErrInvalid)
		}
		for k := 1; k < len(p.Segments); k++ {
			if p.Segments[k] < p.Segments[k-1] {
				return nil, fmt.Errorf("%w: pairing segment %d starts at interval %d, before the one before it (%d)", ErrInvalid, k, p.Segments[k], p.Segments[k-1])
			}
		}
	}
	if r.Runner != nil {
		wake, err1 := r.Runner.Wakeups()
		cpu, err2 := r.Runner.CPUProbes()
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		err1 = storedAgree("runner wakeup", r.Runner.WakeupNS, r.Runner.WakeupHistogram, wake)
		err2 = storedAgree("runner cpu probe", r.Runner.CPUProbeNS, r.Runner.CPUProbeHistogram, cpu)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if err := errors.Join(r.Runner.intervalsAgree(wake), r.Runner.checkPressure()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	for ci := range r.Components {
		c := &r.Components[ci]
		if c.Name == "" {
			return nil, fmt.Errorf("%w: component %d has no name", ErrInvalid, ci)
		}
		if c.Looks != nil {
			if err := c.Looks.check(); err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrInvalid, c.Name, err)
			}
		}
		for oi := range c.Operations {
			o := &c.Operations[oi]
			if o.Count < 0 || o.Errors < 0 {
				return nil, fmt.Errorf("%w: component %q operation %q: negative count", ErrInvalid, c.Name, o.Name)
			}
			if o.ClientUnsent < 0 || o.ClientUnsent > o.ErrorKinds[KindUnsent] {
				return nil, fmt.Errorf("%w: component %q operation %q: client_unsent %d, of %d unsent operations",
					ErrInvalid, c.Name, o.Name, o.ClientUnsent, o.ErrorKinds[KindUnsent])
			}
			h, err := o.WholeHistogram()
			if err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrInvalid, c.Name, err)
			}
			if h.TotalCount() != o.Count {
				return nil, fmt.Errorf("%w: component %q operation %q: histogram holds %d samples, count says %d",
					ErrInvalid, c.Name, o.Name, h.TotalCount(), o.Count)
			}
			if err := o.intervalsAgree(c.Name); err != nil {
				return nil, err
			}
			cd, err1 := o.ClientDelays()
			lc, err2 := o.LatenciesLessClient()
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("%w: component %q: %v", ErrInvalid, c.Name, err)
			}
			if n := cd.TotalCount(); (n != 0 && n != o.Count) || lc.TotalCount() != n {
				return nil, fmt.Errorf("%w: component %q operation %q: client delay histograms hold %d and %d samples, count says %d",
					ErrInvalid, c.Name, o.Name, n, lc.TotalCount(), o.Count)
			}
			if err := o.firstMessagesAgree(); err != nil {
				return nil, fmt.Errorf("%w: component %q operation %q: %v", ErrInvalid, c.Name, o.Name, err)
			}
			if err := o.percentilesAgree(h, cd, lc); err != nil {
				return nil, fmt.Errorf("%w: component %q operation %q: %v", ErrInvalid, c.Name, o.Name, err)
			}
			if err := o.stagesAgree(); err != nil {
				return nil, fmt.Errorf("%w: component %q operation %q: %v", ErrInvalid, c.Name, o.Name, err)
			}
		}
		if err := c.nodesAgree(); err != nil {
			return nil, fmt.Errorf("%w: component %q: %v", ErrInvalid, c.Name, err)
		}
	}
	return &r, nil
}

// percentilesAgree checks the operation's stored percentiles against its
// histograms (latency, service time, client delay, latency less client
// delay), given the decoded whole-run latency and client-delay ones. A
// minimum bar is judged on the stored percentiles, a regression on the
// histograms: a file in which they disagree would be judged on two different
// measurements, so it is refused.
func (o *OperationResult) percentilesAgree(latency, client, lessClient *hdrhistogram.Histogram) error {
	if err := storedAgree("latency", o.LatencyNS, o.Histogram, latency); err != nil {
		return err
	}
	if o.ServiceHistogram != "" {
		service, err := hdrhistogram.Decode([]byte(o.ServiceHistogram))
		if err != nil {
			return fmt.Errorf("service histogram: %w", err)
		}
		if err := storedAgree("service time", o.ServiceNS, o.ServiceHistogram, service); err != nil {
			return err
		}
	}
	if o.ClientDelayNS != nil {
		if err := storedAgree("client delay", *o.ClientDelayNS, o.ClientDelayHistogram, client); err != nil {
			return err
		}
	}
	if o.LatencyLessClientNS != nil {
		if err := storedAgree("latency less client delay", *o.LatencyLessClientNS, o.LatencyLessClientHistogram, lessClient); err != nil {
			return err
		}
	}
	return nil
}

// intervalLessClientAgrees checks interval i's histogram of latencies
// less client delays, where it has one: one sample per client delay of the
// interval (client, nil when it has none).
func (o *OperationResult) intervalLessClientAgrees(i int, client *hdrhistogram.PackedHistogram) error {
	less, err := o.IntervalLatencyLessClient(i)
	if err != nil || less == nil {
		return err
	}
	var clients int64
	if client != nil {
		clients = client.TotalCount()
	}
	if client == nil || less.TotalCount() != clients {
		return fmt.Errorf("interval %d: latency less client histogram holds %d samples, the client delay histogram %d", i, less.TotalCount(), clients)
	}
	return nil
}

// firstMessagesAgree checks a streaming call's first-message record: a
// histogram exactly when percentiles are stored, agreeing with them, with
// at most one sample per success, and no more samples than messages.
func (o *OperationResult) firstMessagesAgree() error {
	if o.Messages < 0 {
		return fmt.Errorf("negative message count %d", o.Messages)
	}
	if (o.FirstMessageNS == nil) != (o.FirstMessageHistogram == "") {
		return errors.New("first message percentiles and histogram must come together")
	}
	if o.FirstMessageNS == nil {
		return nil
	}
	first, err := o.FirstMessages()
	if err != nil {
		return err
	}
	if n := first.TotalCount(); n > o.Count || n > o.Messages {
		return fmt.Errorf("first message histogram holds %d samples, more than the %d successes or the %d messages", n, o.Count, o.Messages)
	}
	return storedAgree("first message", *o.FirstMessageNS, o.FirstMessageHistogram, first)
}

// nodesAgree checks each node's counts, histogram and stored percentiles,
// and that no address is listed twice.
func (c *ComponentResult) nodesAgree() error {
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.Address == "" {
			return fmt.Errorf("node %d has no address", i)
		}
		for j := range i {
			if c.Nodes[j].Address == n.Address {
				return fmt.Errorf("node %q is listed twice", n.Address)
			}
		}
		if n.Count < 0 || n.Errors < 0 {
			return fmt.Errorf("node %q: negative count", n.Address)
		}
		h, err := n.WholeHistogram()
		if err != nil {
			return err
		}
		if n.Histogram != "" && h.TotalCount() != n.Count {
			return fmt.Errorf("node %q: histogram holds %d samples, count says %d", n.Address, h.TotalCount(), n.Count)
		}
		if err := storedAgree("node "+strconv.Quote(n.Address)+" latency", n.LatencyNS, n.Histogram, h); err != nil {
			return err
		}
	}
	return nil
}

// storedAgree checks stored percentiles against the histogram they were read
// from (encoded is its encoding, h the decoded histogram; an absent histogram
// in an older file leaves nothing to check). Each percentile, the minimum and
// the maximum must fall in the same histogram bucket as the histogram's own
// value, the mean within the histogram's precision.
func storedAgree(what string, stored Percentiles, encoded string, h *hdrhistogram.Histogram) error {
	if encoded == "" {
		return nil
	}
	want := PercentilesOf(h)
	for _, f := range []struct {
		name         string
		stored, want int64
	}{
		{"p50", stored.P50, want.P50}, {"p90", stored.P90, want.P90}, {"p99", stored.P99, want.P99},
		{"p99.9", stored.P999, want.P999}, {"p99.99", stored.P9999, want.P9999},
		{"max", stored.Max, want.Max}, {"min", stored.Min, want.Min},
	} {
		if f.stored != f.want && (h.TotalCount() == 0 || !h.ValuesAreEquivalent(f.stored, f.want)) {
			return fmt.Errorf("stored %s %s is %d ns, but its histogram's is %d ns", what, f.name, f.stored, f.want)
		}
	}
	if diff := stored.Mean - want.Mean; diff > meanSlack(want.Mean) || -diff > meanSlack(want.Mean) {
		return fmt.Errorf("stored %s mean is %d ns, but its histogram's is %d ns", what, stored.Mean, want.Mean)
	}
	return nil
}

// meanSlack is how far a stored mean may be from its histogram's: the
// histogram's precision (3 significant digits), and a nanosecond of
// rounding.
func meanSlack(mean int64) int64 {
	return max(mean, -mean)/1000 + 1
}

// Encode is the result file's bytes: indented JSON and a final newline.
func (r *Result) Encode() ([]byte, error) {
	return atomicfile.EncodeJSON(r, "result")
}

// WriteFile writes the result atomically: a temporary file in the same
// directory, synced, then renamed over path.
func (r *Result) WriteFile(path string) error {
	return atomicfile.WriteJSON(path, r, "result")
}

// intervalsAgree checks, interval by interval, that each interval's
// latency histogram decodes and holds one sample a success of the interval
// (windows and drift judge the histograms, the throughput chart the
// counts), and that its client-delay histogram, where the intervals have
// them, does too, as the whole-run one does for the operation: a window
// judged on the generator's delay must read the delays of its own
// operations. component names the operation's component in the error.
func (o *OperationResult) intervalsAgree(component string) error {
	for i, iv := range o.Intervals {
		h, err := o.IntervalHistogram(i)
		if err == nil && h.TotalCount() != iv.Count {
			err = fmt.Errorf("operation %q: interval %d: histogram holds %d samples, count says %d", o.Name, i, h.TotalCount(), iv.Count)
		}
		if err != nil {
			return fmt.Errorf("%w: component %q: %v", ErrInvalid, component, err)
		}
		cd, err := o.IntervalClientDelay(i)
		if err == nil && cd != nil && cd.TotalCount() != iv.Count {
			err = fmt.Errorf("interval %d: client delay histogram holds %d samples, count says %d", i, cd.TotalCount(), iv.Count)
		}
		if err == nil {
			err = o.intervalLessClientAgrees(i, cd)
		}
		if err != nil {
			return fmt.Errorf("%w: component %q operation %q: %v", ErrInvalid, component, o.Name, err)
		}
	}
	return nil
}
