// Package report renders a judged result for its readers: a text diff table
// for the CI log, Markdown for the job summary, JUnit XML for CI test views,
// an HTML page for release managers, and an HdrHistogram interval log.
// Every renderer reads only the result, so a saved result renders the same
// later.
package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// Text writes the diff report for a terminal or CI log: the verdict, one row
// per objective with failures first, then each operation's measurements.
func Text(w io.Writer, res *result.Result) error {
	ew := &errWriter{w: w}
	ew.printf("tailgate: %s: %s", verdictWord(res), headline(res))
	ew.printf("\n%s\n\n", runLine(res))

	if rows := objectiveRows(res); len(rows) > 0 {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPONENT\tOPERATION\tMETRIC\tMEASURED\t95% CI\tVS\tBAR\tMARGIN\tSTATUS\tTIER")
		for _, row := range rows {
			o := row.o
			interval := intervalText(o)
			if interval == "" {
				interval = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.component, o.Subject(), o.Metric,
				o.Measured, interval, comparator(o), barText(o), MarginText(o), o.Status.Text(), o.Tier)
		}
		tw.Flush()
		ew.printf("%s\n", textLegend)
		for _, row := range rows {
			if row.o.Detail != "" && row.o.Status != status.Pass && row.o.Status != status.Met {
				ew.printf("  %s %s %s: %s\n", row.component, row.o.Subject(), row.o.Metric, row.o.Detail)
			}
			if note := intervalNote(row.o); note != "" {
				ew.printf("  %s %s %s: %s\n", row.component, row.o.Subject(), row.o.Metric, note)
			}
		}
		ew.printf("\n")
	}

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tOPERATION\tCOUNT\tERRORS\tRATE\tP50\tP99\tP99.9\tMAX")
	for _, c := range res.Components {
		for _, op := range c.Operations {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f/s\t%s\t%s\t%s\t%s\n", c.Name, op.Name, op.Count, op.Errors, op.AchievedRate,
				LatencyOf(op.Count, op.LatencyNS.P50), LatencyOf(op.Count, op.LatencyNS.P99), LatencyOf(op.Count, op.LatencyNS.P999), LatencyOf(op.Count, op.LatencyNS.Max))
		}
	}
	tw.Flush()
	if rows := stageRows(res); len(rows) > 0 {
		ew.printf("\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPONENT\tOPERATION\tSTAGE\tSTAGE RATE\tWINDOW\tCOUNT\tERRORS\tRATE\tP50\tP99\tP99.9\tMAX")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Component, r.Operation, r.Index, r.Rate, r.Span,
				r.Count, r.Errors, r.Achieved, r.P50, r.P99, r.P999, r.Max)
		}
		tw.Flush()
	}
	for _, c := range res.Components {
		if h := HitsText(&c); h != "" {
			ew.printf("reads of %q: %s\n", c.Name, h)
		}
	}
	for _, c := range res.Components {
		if s := StreamsText(&c); s != "" {
			ew.printf("streams of %q (the latencies above are to the end of each stream): %s\n", c.Name, s)
		}
	}
	for _, c := range res.Components {
		if f := FloorText(res, &c); f != "" {
			ew.printf("measurement floor of %q: %s\n", c.Name, f)
		}
	}
	for _, c := range res.Components {
		if c.Embedded {
			ew.printf("note: component %q ran against tailgate's embedded in-process server, not a deployment\n", c.Name)
		}
		for _, op := range c.Operations {
			if op.Name == slo.AllOperations && len(op.ErrorKinds) > 0 {
				ew.printf("errors in %q: %s\n", c.Name, ErrorsText(&op))
			}
		}
		for _, kind := range sortedKeys(c.FirstErrors) {
			s := c.FirstErrors[kind]
			ew.printf("  first %s error at %s: %s\n", kind, Latency(s.AtNS), s.Message)
		}
	}
	for _, warn := range res.Warnings {
		ew.printf("warning: %s\n", warn)
	}
	return ew.err
}

// runLine describes the run in one line.
func runLine(res *result.Result) string {
	parts := []string{}
	if res.Plan != "" {
		parts = append(parts, "plan "+res.Plan)
	}
	measured := "measured " + slo.FormatDuration(time.Duration(res.MeasuredNS))
	if looks := Looks(res); looks.Extended() {
		measured += fmt.Sprintf(" (extended from %s in %d looks, up to %s)",
			slo.FormatDuration(time.Duration(looks.MeasuredNS[0])), len(looks.MeasuredNS), slo.FormatDuration(time.Duration(looks.MaxNS)))
	}
	parts = append(parts, fmt.Sprintf("seed %d", res.Seed), measured,
		"warmup "+slo.FormatDuration(time.Duration(res.WarmupNS)))
	if res.Shard != nil {
		parts = append(parts, fmt.Sprintf("shard %d/%d", res.Shard.Index, res.Shard.Count))
	}
	if res.Baseline != nil {
		parts = append(parts, "baseline "+res.Baseline.File)
	}
	return strings.Join(parts, ", ")
}

// Looks returns the looks of the result's most extended component, or
// nil when no component records any (the run could not extend itself).
func Looks(res *result.Result) *result.Looks {
	var out *result.Looks
	for _, c := range res.Components {
		if c.Looks != nil && (out == nil || len(c.Looks.MeasuredNS) > len(out.MeasuredNS)) {
			out = c.Looks
		}
	}
	return out
}

type objectiveRow struct {
	component string
	o         status.ObjectiveResult
}

// objectiveRows lists every objective, failures first across components.
func objectiveRows(res *result.Result) []objectiveRow {
	var rows []objectiveRow
	for _, c := range res.Components {
		for _, o := range c.Objectives {
			rows = append(rows, objectiveRow{c.Name, o})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].o.Status.Rank() < rows[j].o.Status.Rank() })
	return rows
}

// textLegend explains the objectives table's less obvious columns in one
// line.
const textLegend = "VS: ok within the bar, > or < past it, ? inconclusive; MARGIN: distance from the bar relative to it, positive past the bar, negative headroom; 95% CI: of the measured percentile"

// comparator shows which side of the bar the measurement fell.
func comparator(o status.ObjectiveResult) string {
	switch o.Status {
	case status.Fail, status.Missed:
		if o.Metric == string(slo.MetricThroughput) && o.Tier != string(slo.TierRegression) {
			return "<"
		}
		return ">"
	case status.ClientBound:
		return ">"
	case status.Insufficient:
		return ""
	case status.Inconclusive:
		return "?"
	}
	return "ok"
}

func barText(o status.ObjectiveResult) string {
	if isRegression(o) {
		return o.Threshold + " vs " + o.Baseline
	}
	return o.Threshold
}

// MarginText prints an objective's margin, how far its measurement is from
// the bar relative to the bar (positive is past it, negative is headroom),
// as every report writes it (gate.SignedPercent: +6.4%, +294%), with the
// confidence interval of a regression's change where one was computed.
func MarginText(o status.ObjectiveResult) string {
	if o.Status == status.Insufficient || o.Status == status.ClientBound {
		return "-"
	}
	s := SignedPercent(o.Margin)
	if isRegression(o) && (o.IntervalLow != 0 || o.IntervalHigh != 0) {
		s += " [" + SignedPercent(o.IntervalLow) + ", " + SignedPercent(o.IntervalHigh) + "]"
	}
	return s
}

// SignedPercent prints a relative change: +15.5%, -3%.
func SignedPercent(f float64) string { return gate.SignedPercent(f) }

// Latency prints nanoseconds compactly.
func Latency(ns int64) string {
	return slo.FormatDuration(time.Duration(ns))
}

// LatencyOf prints a latency percentile of n successful samples: "-" when
// there are none (a run that reached no server, an operation that only
// failed), where a "0s" would read as replies that took no time.
func LatencyOf(n, ns int64) string {
	if n <= 0 {
		return "-"
	}
	return Latency(ns)
}

// HitsText says what a component's reads found, operation by operation:
// "get 99.2% hits (39680 hits, 320 misses)"; empty when nothing read a
// key. The all row is left out when one operation did all the reading.
func HitsText(c *result.ComponentResult) string {
	var parts []string
	reads := 0
	for _, op := range c.Operations {
		if op.Name != slo.AllOperations && op.Hits+op.Misses > 0 {
			reads++
		}
	}
	for _, op := range c.Operations {
		rate, ok := op.HitRate()
		if !ok || op.Name == slo.AllOperations && reads < 2 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s hits (%d hits, %d misses)", op.Name, gate.FormatPercent(rate), op.Hits, op.Misses))
	}
	return strings.Join(parts, "; ")
}

// StreamsText says what a component's streaming calls received, operation
// by operation: the latency to the first response message (from the
// intended start, as every latency) and the messages per stream; "all"
// only when two operations or more stream. It is empty when none does.
func StreamsText(c *result.ComponentResult) string {
	streams := 0
	for _, op := range c.Operations {
		if op.Name != slo.AllOperations && op.FirstMessageNS != nil {
			streams++
		}
	}
	var parts []string
	for _, op := range c.Operations {
		p := op.FirstMessageNS
		if p == nil || op.Name == slo.AllOperations && streams < 2 {
			continue
		}
		perStream := strconv.FormatFloat(float64(op.Messages)/float64(max(op.Count, 1)), 'f', -1, 64)
		if op.Count > 0 && op.Messages%op.Count != 0 {
			perStream = fmt.Sprintf("%.1f", float64(op.Messages)/float64(op.Count))
		}
		parts = append(parts, fmt.Sprintf("%s first message p50 %s, p99 %s, p99.9 %s, max %s; %s messages a stream",
			op.Name, Latency(p.P50), Latency(p.P99), Latency(p.P999), Latency(p.Max), perStream))
	}
	return strings.Join(parts, "; ")
}

// ErrorsText is an operation's errors by kind, largest first, saying how
// many of its unsent operations were tailgate's own falling behind rather
// than the target's (result.OperationResult.ClientUnsent): "unsent 18613
// (495 of them tailgate's own, left unsent by its falling behind), timeout 3".
func ErrorsText(op *result.OperationResult) string {
	kinds := op.ErrorKinds
	keys := sortedKeys(kinds)
	sort.SliceStable(keys, func(i, j int) bool { return kinds[keys[i]] > kinds[keys[j]] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, kinds[k])
		if k == result.KindUnsent && op.ClientUnsent > 0 {
			parts[i] += fmt.Sprintf(" (%d of them tailgate's own, left unsent by its falling behind)", op.ClientUnsent)
		}
	}
	return strings.Join(parts, ", ")
}

// sortedKeys is m's keys in order, so that a report renders the same bytes
// every time.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
