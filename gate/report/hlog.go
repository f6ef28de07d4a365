package report

import (
	"fmt"
	"io"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/result"
)

// HLogTag is the interval-log tag of one component's operation:
// "session-cache.get". Characters the log format forbids in a tag (commas,
// spaces, line breaks) become underscores.
func HLogTag(component, operation string) string {
	return tagCleaner.Replace(component + "." + operation)
}

var tagCleaner = strings.NewReplacer(",", "_", " ", "_", "\t", "_", "\r", "_", "\n", "_")

// HLog writes the per-interval latency histograms in the standard
// HdrHistogram interval log format (version 1.3), one tagged line per
// operation and interval, so HdrHistogram tools (HistogramLogAnalyzer,
// HistogramLogProcessor) can read the run. Timestamps are seconds relative to
// a base time: the start of the measured window, rounded down to a whole
// second (the log's base time has no fraction). Values are nanoseconds; each
// line's maximum is in milliseconds, as the format expects.
func HLog(w io.Writer, res *result.Result) error {
	ew := &errWriter{w: w}
	lw := hdrhistogram.NewHistogramLogWriter(ew)
	windowStart := res.StartedAt.UnixMilli() + res.WarmupNS/1e6
	base := windowStart - windowStart%1000
	lw.SetBaseTime(base)
	// The writer's errors are the errWriter's, reported once at the end.
	_ = lw.OutputLogFormatVersion()
	_ = lw.OutputComment("[tailgate per-interval latency histograms, nanoseconds, measured from intended start]")
	if res.Plan != "" {
		_ = lw.OutputComment(fmt.Sprintf("[plan %s, seed %d]", res.Plan, res.Seed))
	}
	_ = lw.OutputStartTime(windowStart)
	_ = lw.OutputBaseTime(base)
	_ = lw.OutputLegend()

	type series struct {
		tag       string
		intervals []result.Interval
		hists     []*hdrhistogram.PackedHistogram
	}
	var all []series
	longest := 0
	for ci := range res.Components {
		c := &res.Components[ci]
		for oi := range c.Operations {
			op := &c.Operations[oi]
			hists, err := op.IntervalHistograms()
			if err != nil {
				return fmt.Errorf("histogram log: component %q: %w", c.Name, err)
			}
			all = append(all, series{HLogTag(c.Name, op.Name), op.Intervals, hists})
			longest = max(longest, len(hists))
		}
	}
	// Time order first, as interval logs are read; then result order.
	for i := 0; i < longest; i++ {
		for _, s := range all {
			if i >= len(s.hists) {
				continue
			}
			iv := s.intervals[i]
			end := iv.OffsetNS + res.IntervalNS
			if res.MeasuredNS > iv.OffsetNS {
				// The last interval may be cut short by the window's end.
				end = min(end, res.MeasuredNS)
			}
			h := s.hists[i]
			h.SetTag(s.tag)
			h.SetStartTimeMs(windowStart + iv.OffsetNS/1e6)
			h.SetEndTimeMs(windowStart + end/1e6)
			if err := lw.OutputIntervalPackedHistogram(h); err != nil {
				if ew.err != nil {
					return ew.err
				}
				return fmt.Errorf("histogram log: %s interval %d: %w", s.tag, i, err)
			}
		}
	}
	return ew.err
}
