package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// The percentile axis is in "nines": x = -log10(1 - p), so 90% is 1, 99% is
// 2, 99.9% is 3. It spans 50% to 99.999% in every chart, so charts of
// different runs line up.
var (
	minNines = math.Log10(2)
	maxNines = 5.0
)

// ninesTicks label the percentile axis.
var ninesTicks = []struct {
	nines float64
	label string
}{
	{math.Log10(2), "50%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"},
}

// chartWidth is the width of every chart: the page's text column.
const chartWidth = 1100

// opPalette colours operations; "all" is drawn in near-black and the
// baseline in grey, which the palette avoids.
var opPalette = []string{"#0969da", "#bc4c00", "#1a7f37", "#8250df", "#bf3989", "#0a7b83", "#6e5500", "#a40e26"}

const (
	allColour      = "#24292f"
	baselineColour = "#8c959f"
)

// tierDash is a bar's dash pattern: long dashes for the minimum, dots for
// aspirational milestones.
func tierDash(tier string) string {
	if tier == string(slo.TierAspirational) {
		return "2 3"
	}
	return "8 4"
}

// opColours assigns each operation of a component its colour; "all" shares
// the colour of a single operation it only repeats.
func opColours(c *result.ComponentResult) map[string]string {
	colours := map[string]string{}
	plotted := operationsToPlot(c)
	for i, op := range plotted {
		if op.Name == slo.AllOperations {
			colours[op.Name] = allColour
			continue
		}
		colours[op.Name] = opPalette[i%len(opPalette)]
	}
	if len(plotted) == 1 {
		colours[slo.AllOperations] = colours[plotted[0].Name]
	}
	return colours
}

// curve is one operation's percentile spectrum: nines and latencies.
type curve struct {
	nines, values []float64
	count         int64
}

// spectrumOf samples a histogram's percentiles every 0.05 nines, up to the
// highest percentile its sample count resolves (99.9% needs 1,000 samples);
// the last point is the maximum.
func spectrumOf(h *hdrhistogram.Histogram) curve {
	n := h.TotalCount()
	if n == 0 {
		return curve{}
	}
	end := math.Max(math.Min(maxNines, math.Log10(float64(n))), minNines)
	var nines []float64
	for i := 0; ; i++ {
		x := minNines + float64(i)*0.05
		if x >= end-1e-9 {
			break
		}
		nines = append(nines, x)
	}
	nines = append(nines, end)
	percentiles := make([]float64, len(nines))
	for i, x := range nines {
		percentiles[i] = 100 * (1 - math.Pow(10, -x))
	}
	raw := h.ValueAtPercentilesSlice(percentiles)
	values := make([]float64, len(raw))
	for i, v := range raw {
		values[i] = float64(v)
	}
	values[len(values)-1] = float64(h.Max())
	return curve{nines: nines, values: values, count: n}
}

// latencyBars lists the component's absolute latency bars: minimum and
// aspirational objectives on a percentile or the maximum, of the whole run
// and, with stages, of one stage too (which a waterfall draws across their
// stage).
func latencyBars(c *result.ComponentResult, stages bool) []status.ObjectiveResult {
	var bars []status.ObjectiveResult
	for _, o := range c.Objectives {
		if isRegression(o) || !slo.Metric(o.Metric).IsLatency() || o.ThresholdValue <= 0 || (o.Stage > 0 && !stages) {
			continue
		}
		bars = append(bars, o)
	}
	return bars
}

// metricNines places a latency metric on the percentile axis.
func metricNines(metric string) float64 {
	if q, ok := slo.Metric(metric).Quantile(); ok {
		return -math.Log10(1 - q)
	}
	return maxNines
}

// spectrumLine is one curve of the percentile chart.
type spectrumLine struct {
	op, colour string
	curve      curve
}

// spectrumChart draws the component's percentile spectrum: one line per
// operation from its whole-run histogram, the baseline's (named baseName)
// as dashed grey lines, every latency bar as a dashed horizontal line
// labelled right of the plot, and each failed bar's measurement in red.
func spectrumChart(id string, c *result.ComponentResult, base *result.ComponentResult, baseName string) (template.HTML, error) {
	colours := opColours(c)
	var lines, baseLines []spectrumLine
	lo, hi := math.Inf(1), math.Inf(-1)
	widen := func(values ...float64) {
		for _, v := range values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for _, op := range operationsToPlot(c) {
		h, err := op.WholeHistogram()
		if err != nil {
			return "", fmt.Errorf("component %q: %w", c.Name, err)
		}
		cv := spectrumOf(h)
		if cv.count == 0 {
			continue
		}
		lines = append(lines, spectrumLine{op.Name, colours[op.Name], cv})
		widen(cv.values...)
		if base == nil {
			continue
		}
		if bop := base.Operation(op.Name); bop != nil {
			bh, err := bop.WholeHistogram()
			if err != nil {
				return "", fmt.Errorf("baseline component %q: %w", base.Name, err)
			}
			if bcv := spectrumOf(bh); bcv.count > 0 {
				baseLines = append(baseLines, spectrumLine{op.Name, baselineColour, bcv})
				widen(bcv.values...)
			}
		}
	}
	bars := latencyBars(c, false)
	for _, b := range bars {
		widen(b.ThresholdValue)
		if b.MeasuredValue > 0 {
			widen(b.MeasuredValue)
		}
	}

	var desc strings.Builder
	desc.WriteString("Latency (log scale) against percentile (50% to 99.999%), from the whole-run histograms.")
	for _, l := range lines {
		fmt.Fprintf(&desc, " %s: median %s, highest %s over %d samples.", l.op,
			chartLatency(l.curve.values[0]), chartLatency(l.curve.values[len(l.curve.values)-1]), l.curve.count)
	}
	for _, b := range bars {
		fmt.Fprintf(&desc, " Bar: %s %s %s (%s), %s.", b.Subject(), b.Metric, barExpression(b, "at most", "at least"), b.Tier, b.Status)
	}
	if len(baseLines) > 0 {
		desc.WriteString(" Dashed grey lines are the baseline run, " + baseName + ".")
	}

	// Bar labels go right of the plot, where no curve runs, each joined to
	// its bar by a leader line; the legend goes above the plot.
	labelWidth := 0.0
	for _, b := range bars {
		labelWidth = math.Max(labelWidth, textWidth(barLabel(b), 11))
	}
	right := math.Min(math.Max(labelWidth+30, 120), 360)
	legend := spectrumLegend(lines, baseLines, bars, baseName)
	rows := flowLegend(legend, 64, float64(chartWidth)-16)
	plotHeight := math.Max(336, float64(len(bars))*labelHeight+12)
	f := frame{width: chartWidth, left: 64, right: right, top: 12 + float64(rows)*legendRow + 8, bottom: 48}
	f.height = int(math.Ceil(f.top + plotHeight + f.bottom))
	var s svgWriter
	s.open(id, "chart spectrum", f.width, f.height, "Percentile spectrum of "+c.Name, desc.String())
	if len(lines) == 0 {
		s.text(float64(f.width)/2, float64(f.height)/2, "middle", "empty", "no successful operations to plot")
		s.close()
		return template.HTML(s.String()), nil
	}
	lo, hi, yTicks := logBounds(lo, hi)
	xs := scale{lo: minNines, hi: maxNines, from: f.x0(), to: f.x1()}
	ys := scale{lo: lo, hi: hi, from: f.y0(), to: f.y1(), logarithms: true}

	s.yGrid(f, ys, yTicks, chartLatency)
	for _, t := range ninesTicks {
		x := xs.at(t.nines)
		s.line(x, f.y1(), x, f.y0(), "grid")
		s.text(x, f.y0()+16, "middle", "tick", t.label)
	}
	s.line(f.x0(), f.y0(), f.x1(), f.y0(), "axis")
	s.line(f.x0(), f.y0(), f.x0(), f.y1(), "axis")
	s.text((f.x0()+f.x1())/2, f.y0()+36, "middle", "axis-label", "percentile")
	s.yTitle(f, "latency")

	for _, b := range bars {
		y := ys.at(b.ThresholdValue)
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s" class="bar">`,
			num(f.x0()), num(y), num(f.x1()), num(y), barColour(b, colours), tierDash(b.Tier))
		s.printf(`<title>%s</title></line>`, esc(barLabel(b)))
		x := xs.at(metricNines(b.Metric))
		s.printf(`<path d="M%s %sl5 5l-5 5l-5 -5z" fill="%s"/>`, num(x), num(y-5), barColour(b, colours))
	}
	for _, l := range baseLines {
		px, py := project(l.curve, xs, ys)
		s.polyline(px, py, `stroke="`+baselineColour+`" stroke-width="1.5" stroke-dasharray="5 4" class="baseline"`,
			"baseline "+l.op+": "+baseName)
	}
	for _, l := range lines {
		px, py := project(l.curve, xs, ys)
		colour := colours[l.op]
		s.polyline(px, py, `stroke="`+colour+`" stroke-width="2" stroke-linejoin="round" class="curve"`, l.op)
		last := len(px) - 1
		s.printf(`<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s max %s</title></circle>`,
			num(px[last]), num(py[last]), colour, esc(l.op), esc(chartLatency(l.curve.values[last])))
	}
	// Each failed bar's measurement, in red on its percentile; a missed
	// milestone's as a purple ring.
	for _, b := range bars {
		if (b.Status != status.Fail && b.Status != status.Missed) || b.MeasuredValue <= 0 {
			continue
		}
		x, y := xs.at(metricNines(b.Metric)), ys.at(b.MeasuredValue)
		style := `fill="` + failColour + `" stroke="#fff" stroke-width="1.5"`
		if b.Status == status.Missed {
			style = `fill="#fff" stroke="` + missedColour + `" stroke-width="2.5"`
		}
		s.printf(`<circle cx="%s" cy="%s" r="5.5" %s class="point-%s"><title>%s</title></circle>`,
			num(x), num(y), style, statusClass(b.Status), esc(fmt.Sprintf("%s %s measured %s: %s", b.Subject(), b.Metric, b.Measured, barLabel(b))))
	}

	// Bar labels, top down, moved apart where they would collide.
	order := make([]int, len(bars))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return bars[order[i]].ThresholdValue > bars[order[j]].ThresholdValue })
	wanted := make([]float64, len(order))
	for i, bi := range order {
		wanted[i] = ys.at(bars[bi].ThresholdValue)
	}
	placed := layoutLabels(wanted, labelHeight, f.y1()+labelHeight/2, f.y0()-labelHeight/2)
	for i, bi := range order {
		b := bars[bi]
		class := "bar-label"
		if b.Status == status.Fail {
			class += " failing"
		}
		s.printf(`<polyline fill="none" points="%s,%s %s,%s %s,%s" stroke="%s" stroke-width="1" class="leader"/>`,
			num(f.x1()), num(wanted[i]), num(f.x1()+8), num(wanted[i]), num(f.x1()+16), num(placed[i]), barColour(b, colours))
		s.text(f.x1()+20, placed[i]+4, "start", class, barLabel(b))
	}

	drawLegend(&s, legend, 64, float64(chartWidth)-16, 12)
	s.close()
	return template.HTML(s.String()), nil
}

// labelHeight is the height a bar label takes, with room between two.
const labelHeight = 15

// legendRow is the height of one row of a chart legend.
const legendRow = 18

// The colours of what failed.
const (
	failColour   = "#cf222e"
	missedColour = "#8250df"
)

// barColour is the colour of a bar: its operation's, red when it failed.
func barColour(b status.ObjectiveResult, colours map[string]string) string {
	if b.Status == status.Fail {
		return failColour
	}
	if c := colours[b.Operation]; c != "" {
		return c
	}
	return allColour
}

// legendItem is one entry of a chart legend: a key drawn by its kind and
// the text beside it.
type legendItem struct {
	kind         string // "line", "dot" or "ring"
	colour, dash string
	width        float64
	text         string
}

// spectrumLegend lists the percentile chart's legend: each operation, the
// baseline by name, the bars' tiers, and the failing marks in use.
func spectrumLegend(lines, baseLines []spectrumLine, bars []status.ObjectiveResult, baseName string) []legendItem {
	var items []legendItem
	colours := map[string]string{}
	for _, l := range lines {
		colours[l.op] = l.colour
		items = append(items, legendItem{kind: "line", colour: l.colour, width: 2, text: fmt.Sprintf("%s (%s samples)", l.op, countLabel(l.curve.count))})
	}
	if len(baseLines) > 0 {
		items = append(items, legendItem{kind: "line", colour: baselineColour, dash: "5 4", width: 1.5, text: "baseline: " + baseName})
	}
	seen := map[string]bool{}
	failed, missed := false, false
	for _, b := range bars {
		failed = failed || b.Status == status.Fail
		missed = missed || b.Status == status.Missed
		if seen[b.Tier] {
			continue
		}
		seen[b.Tier] = true
		items = append(items, legendItem{kind: "line", colour: allColour, dash: tierDash(b.Tier), width: 1.5, text: b.Tier + " bar"})
	}
	if failed {
		items = append(items, legendItem{kind: "dot", colour: failColour, text: "failed: bar and measurement in red"})
	}
	if missed {
		items = append(items, legendItem{kind: "ring", colour: missedColour, text: "missed milestone: measurement"})
	}
	return items
}

// legendItemWidth is the room one legend item takes in a row.
func legendItemWidth(it legendItem) float64 { return 28 + textWidth(it.text, 12) + 18 }

// flowLegend counts the rows the legend takes between x0 and x1.
func flowLegend(items []legendItem, x0, x1 float64) int {
	if len(items) == 0 {
		return 0
	}
	rows, x := 1, x0
	for _, it := range items {
		w := legendItemWidth(it)
		if x > x0 && x+w > x1 {
			rows++
			x = x0
		}
		x += w
	}
	return rows
}

// drawLegend draws the legend in rows from (x0, top), wrapping at x1 as
// flowLegend counts.
func drawLegend(s *svgWriter, items []legendItem, x0, x1, top float64) {
	x, y := x0, top+legendRow/2
	for _, it := range items {
		w := legendItemWidth(it)
		if x > x0 && x+w > x1 {
			x, y = x0, y+legendRow
		}
		switch it.kind {
		case "dot":
			s.printf(`<circle cx="%s" cy="%s" r="5" fill="%s"/>`, num(x+11), num(y), it.colour)
		case "ring":
			s.printf(`<circle cx="%s" cy="%s" r="4.5" fill="#fff" stroke="%s" stroke-width="2.5"/>`, num(x+11), num(y), it.colour)
		default:
			dash := ""
			if it.dash != "" {
				dash = ` stroke-dasharray="` + it.dash + `"`
			}
			s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`, num(x), num(y), num(x+22), num(y), it.colour, num(it.width), dash)
		}
		s.text(x+28, y+4, "start", "legend", it.text)
		x += w
	}
}

// barLabel names a bar on a chart: "get p99 ≤ 2ms (minimum): FAIL".
func barLabel(b status.ObjectiveResult) string {
	return fmt.Sprintf("%s %s %s (%s): %s", b.Subject(), b.Metric, barExpression(b, "≤", "≥"), b.Tier, b.Status.Text())
}

// countLabel prints a sample count compactly: 950, 12.3k, 4.5M.
func countLabel(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.3gM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.3gk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func project(c curve, xs, ys scale) (px, py []float64) {
	px, py = make([]float64, len(c.nines)), make([]float64, len(c.values))
	for i := range c.nines {
		px[i], py[i] = xs.at(c.nines[i]), ys.at(c.values[i])
	}
	return px, py
}

// maxColumns bounds a time chart's columns; longer runs merge neighbouring
// intervals, so a soak of hours still makes a small file.
const maxColumns = 200

// column is one or more consecutive intervals drawn as one.
type column struct {
	start, end    float64 // seconds from the measured window's start
	first, last   int     // the intervals it draws, first to last
	count, errors int64
	hist          *hdrhistogram.PackedHistogram
}

// columnsOf groups an operation's intervals into at most maxColumns columns;
// histograms are merged only when withHistograms is set.
func columnsOf(op *result.OperationResult, intervalNS, measuredNS int64, withHistograms bool) ([]column, error) {
	var hists []*hdrhistogram.PackedHistogram
	if withHistograms {
		var err error
		if hists, err = op.IntervalHistograms(); err != nil {
			return nil, err
		}
	}
	n := len(op.Intervals)
	per := (n + maxColumns - 1) / maxColumns
	var cols []column
	for first := 0; first < n; first += per {
		last := min(first+per, n) - 1
		end := op.Intervals[last].OffsetNS + intervalNS
		if measuredNS > op.Intervals[last].OffsetNS {
			end = min(end, measuredNS)
		}
		col := column{start: float64(op.Intervals[first].OffsetNS) / 1e9, end: float64(end) / 1e9, first: first, last: last}
		for i := first; i <= last; i++ {
			col.count += op.Intervals[i].Count
			col.errors += op.Intervals[i].Errors
		}
		if withHistograms {
			if per == 1 {
				col.hist = hists[first]
			} else {
				col.hist = result.NewPackedHistogram()
				for i := first; i <= last; i++ {
					col.hist.Merge(hists[i])
				}
			}
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// heatStops is the colour ramp of the waterfall, light to dark: even the
// rarest latencies stay visible on white.
var heatStops = [][3]float64{{0xc6, 0xdb, 0xef}, {0x6b, 0xae, 0xd6}, {0x21, 0x71, 0xb5}, {0x08, 0x30, 0x6b}}

// The colour ramp spans shares of a column from heatLow (its lightest
// colour, and anything rarer) to heatHigh (its darkest, and anything more
// common): on a log scale, so a 0.01% tail is as visible as the bulk.
const (
	heatLow  = 1e-4
	heatHigh = 0.1
)

// heatColour is the colour of a cell holding the given share of its column.
func heatColour(share float64) string {
	t := (math.Log10(share) - math.Log10(heatLow)) / (math.Log10(heatHigh) - math.Log10(heatLow))
	t = math.Min(math.Max(t, 0), 1) * float64(len(heatStops)-1)
	i := min(int(t), len(heatStops)-2)
	frac := t - float64(i)
	var rgb [3]int
	for k := range rgb {
		rgb[k] = int(math.Round(heatStops[i][k] + frac*(heatStops[i+1][k]-heatStops[i][k])))
	}
	return fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
}

// heatKey is the colour key of the waterfall.
var heatKey = []struct {
	share float64
	label string
}{{heatHigh, "10% or more"}, {0.03, "3%"}, {0.01, "1%"}, {0.001, "0.1%"}, {heatLow, "0.01% or less"}}

// heatRows is the number of latency rows of the waterfall.
const heatRows = 36

// floorsOf is the measurement floor at the p99 of each column, as the gate
// reads a window's (gate.IntervalsFloorNS); nil when the result lacks it.
func floorsOf(op *result.OperationResult, runner *result.Runner, cols []column) []float64 {
	out := make([]float64, len(cols))
	for i, col := range cols {
		ns, ok := gate.IntervalsFloorNS(op, runner, col.first, col.last+1)
		if !ok {
			return nil
		}
		out[i] = float64(ns)
	}
	return out
}

// heatmapChart draws one operation's latency over time: a column per
// interval, a row per log-latency band, each cell coloured by the share of
// the interval's operations in it, with the interval p99, the measurement
// floor (where the result records one per interval: see floorsOf) and the
// operation's bars over it.
func heatmapChart(id, component string, op *result.OperationResult, bars []status.ObjectiveResult, runner *result.Runner, intervalNS, measuredNS int64) (template.HTML, error) {
	cols, err := columnsOf(op, intervalNS, measuredNS, true)
	if err != nil {
		return "", fmt.Errorf("component %q: %w", component, err)
	}
	floors := floorsOf(op, runner, cols)
	lo, hi := math.Inf(1), math.Inf(-1)
	window := 0.0
	// Each column's buckets, read once: the lowest's Lo and the highest's Hi
	// are the column's Min and Max.
	buckets := make([][]stats.Bucket, len(cols))
	for i, col := range cols {
		window = math.Max(window, col.end)
		if b := stats.Buckets(col.hist); len(b) > 0 {
			buckets[i] = b
			lo = math.Min(lo, float64(b[0].Lo))
			hi = math.Max(hi, float64(b[len(b)-1].Hi))
		}
	}
	// A stage's bars are drawn across their stage only, without the
	// whole-run bars' labels at the right.
	var opBars, stageBars []status.ObjectiveResult
	for _, b := range bars {
		switch {
		case b.Operation == op.Name && b.Stage == 0:
			opBars = append(opBars, b)
		case b.Operation == op.Name && op.Stage(b.Stage) != nil:
			stageBars = append(stageBars, b)
		}
	}
	title := fmt.Sprintf("Latency over time of %s %s", component, op.Name)
	f := frame{width: chartWidth, height: 260, left: 64, right: 210, top: 12, bottom: 40}
	var s svgWriter
	if math.IsInf(lo, 1) {
		s.open(id, "chart heatmap", f.width, 60, title, "No successful operations were recorded.")
		s.text(float64(f.width)/2, 34, "middle", "empty", "no successful "+op.Name+" operations to plot")
		s.close()
		return template.HTML(s.String()), nil
	}
	for _, b := range append(opBars, stageBars...) {
		lo, hi = math.Min(lo, b.ThresholdValue), math.Max(hi, b.ThresholdValue)
	}
	for _, v := range floors {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	lo, hi, yTicks := logBounds(lo, hi)
	desc := fmt.Sprintf("Waterfall of %s latencies: time across (%d columns), latency up on a log scale from %s to %s; "+
		"darker cells hold a larger share of their interval's operations (0.01%% or less lightest, 10%% or more darkest). "+
		"The orange line is each interval's p99.",
		op.Name, len(cols), chartLatency(lo), chartLatency(hi))
	if floors != nil {
		desc += " The grey dotted line is each interval's measurement floor: how late tailgate itself was at p99 (its send delay plus the runner's wake-up delay); a p99 near it is tailgate's as much as the target's."
	}
	s.open(id, "chart heatmap", f.width, f.height, title, desc)
	xs := scale{lo: 0, hi: math.Max(window, 1e-9), from: f.x0(), to: f.x1()}
	ys := scale{lo: lo, hi: hi, from: f.y0(), to: f.y1(), logarithms: true}
	logLo, logHi := math.Log10(lo), math.Log10(hi)
	rowHeight := (f.y0() - f.y1()) / heatRows

	s.printf(`<rect x="%s" y="%s" width="%s" height="%s" class="plot-bg"/>`, num(f.x0()), num(f.y1()), num(f.x1()-f.x0()), num(f.y0()-f.y1()))
	var p99x, p99y, floorX, floorY []float64
	for i, col := range cols {
		if floors != nil && floors[i] > 0 {
			floorX = append(floorX, (xs.at(col.start)+xs.at(col.end))/2)
			floorY = append(floorY, ys.at(floors[i]))
		}
		total := col.hist.TotalCount()
		if total == 0 {
			continue
		}
		var rows [heatRows]int64
		for _, b := range buckets[i] {
			mid := math.Max(float64(b.Lo+b.Hi)/2, 1)
			row := int((math.Log10(mid) - logLo) / (logHi - logLo) * heatRows)
			rows[min(max(row, 0), heatRows-1)] += b.Count
		}
		x0, x1 := xs.at(col.start), xs.at(col.end)
		for r, n := range rows {
			if n == 0 {
				continue
			}
			y := f.y0() - float64(r+1)*rowHeight
			s.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`,
				num(x0), num(y), num(math.Max(x1-x0, 0.5)+0.3), num(rowHeight+0.3), heatColour(float64(n)/float64(total)))
		}
		p99x = append(p99x, (x0+x1)/2)
		p99y = append(p99y, ys.at(float64(col.hist.ValueAtPercentile(99))))
	}
	for _, t := range yTicks {
		y := ys.at(t)
		s.line(f.x0()-4, y, f.x0(), y, "axis")
		s.text(f.x0()-6, y+4, "end", "tick", chartLatency(t))
	}
	timeAxis(&s, f, xs, window)
	stageMarks(&s, f, xs, op.Stages)
	if len(floorX) > 1 {
		s.polyline(floorX, floorY, `stroke="#57606a" stroke-width="1.5" stroke-dasharray="2 3" class="floor"`, "measurement floor (p99) per interval")
	}
	if len(p99x) > 1 {
		s.polyline(p99x, p99y, `stroke="#e36209" stroke-width="1.5" class="p99"`, "p99 per interval")
	}
	labelYs := make([]float64, len(opBars))
	sort.SliceStable(opBars, func(i, j int) bool { return opBars[i].ThresholdValue > opBars[j].ThresholdValue })
	for i, b := range opBars {
		labelYs[i] = ys.at(b.ThresholdValue) - 8 // centred just above the bar
	}
	labelYs = layoutLabels(labelYs, labelHeight, f.y1()+labelHeight/2, f.y0()-labelHeight/2)
	for i, b := range opBars {
		y := ys.at(b.ThresholdValue)
		colour := "#cf222e"
		if b.Tier == string(slo.TierAspirational) {
			colour = "#8250df"
		}
		// A white line under the dashes keeps the bar visible on dark cells.
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#fff" stroke-width="3.5" stroke-opacity="0.8"/>`,
			num(f.x0()), num(y), num(f.x1()), num(y))
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"><title>%s</title></line>`,
			num(f.x0()), num(y), num(f.x1()), num(y), colour, tierDash(b.Tier), esc(barLabel(b)))
		label := fmt.Sprintf("%s %s (%s)", b.Metric, barExpression(b, "≤", "≥"), b.Tier)
		// On a light box: the cells under it may be dark, and the p99 line
		// passes under it rather than through the text.
		w := textWidth(label, 11)
		s.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="2" fill="#fff" fill-opacity="0.9" class="label-box"/>`,
			num(f.x1()-8-w), num(labelYs[i]-7), num(w+6), num(14))
		s.text(f.x1()-6, labelYs[i]+4, "end", "bar-label", label)
	}

	stageBarLines(&s, xs, ys, op, stageBars)

	// Colour legend and line key, right of the plot.
	lx, ly := f.x1()+16, f.y1()+4
	s.text(lx, ly+8, "start", "legend", "share of interval")
	ly += 16
	for i, k := range heatKey {
		s.printf(`<rect x="%s" y="%s" width="14" height="14" fill="%s"/>`, num(lx), num(ly+float64(i)*17), heatColour(k.share))
		s.text(lx+20, ly+float64(i)*17+11, "start", "legend", k.label)
	}
	ly += float64(len(heatKey))*17 + 12
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e36209" stroke-width="1.5"/>`, num(lx), num(ly), num(lx+22), num(ly))
	s.text(lx+28, ly+4, "start", "legend", "p99 per interval")
	if len(floorX) > 1 {
		ly += 18
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#57606a" stroke-width="1.5" stroke-dasharray="2 3"/>`, num(lx), num(ly), num(lx+22), num(ly))
		s.text(lx+28, ly+4, "start", "legend", "measurement floor")
	}
	s.close()
	return template.HTML(s.String()), nil
}

// timeAxis draws the time axis of a chart over the measured window.
func timeAxis(s *svgWriter, f frame, xs scale, window float64) {
	s.line(f.x0(), f.y0(), f.x1(), f.y0(), "axis")
	s.line(f.x0(), f.y0(), f.x0(), f.y1(), "axis")
	for _, t := range timeTicks(window) {
		x := xs.at(t)
		s.line(x, f.y0(), x, f.y0()+4, "axis")
		s.text(x, f.y0()+16, "middle", "tick", secondsLabel(t))
	}
	s.text((f.x0()+f.x1())/2, f.y0()+32, "middle", "axis-label", "time into the measured window")
}

// throughputChart draws the component's operations per second over the
// measured window, with the asked rate, and its errors per second below.
func throughputChart(id string, c *result.ComponentResult, intervalNS, measuredNS int64) (template.HTML, error) {
	op := c.Operation(slo.AllOperations)
	if op == nil && len(c.Operations) > 0 {
		op = &c.Operations[0]
	}
	title := "Throughput and errors over time of " + c.Name
	var s svgWriter
	if op == nil || len(op.Intervals) == 0 {
		s.open(id, "chart throughput", chartWidth, 60, title, "No intervals were recorded.")
		s.text(chartWidth/2, 34, "middle", "empty", "no intervals recorded")
		s.close()
		return template.HTML(s.String()), nil
	}
	cols, err := columnsOf(op, intervalNS, measuredNS, false)
	if err != nil {
		return "", err
	}
	window, peak, peakErrors := 0.0, c.AskedRate, 0.0
	var totalErrors int64
	rates, errRates := make([]float64, len(cols)), make([]float64, len(cols))
	for i, col := range cols {
		window = math.Max(window, col.end)
		if length := col.end - col.start; length > 0 {
			rates[i] = float64(col.count) / length
			errRates[i] = float64(col.errors) / length
		}
		peak = math.Max(peak, rates[i])
		peakErrors = math.Max(peakErrors, errRates[i])
		totalErrors += col.errors
	}
	for _, st := range op.Stages {
		if mean := (st.StartRate + st.Rate) / 2; mean > 0 {
			peak = math.Max(peak, math.Max(st.StartRate, st.Rate)*st.AskedRate/mean)
		}
	}
	desc := fmt.Sprintf("Successful operations per second over %s in %d columns, peak %s/s", secondsLabel(window), len(cols), rateLabel(peak))
	switch {
	case len(op.Stages) > 0:
		desc += fmt.Sprintf(", in %d stages (their asked rate dashed, dotted lines where a stage starts)", len(op.Stages))
	case c.AskedRate > 0:
		desc += fmt.Sprintf(", asked rate %s/s (dashed)", rateLabel(c.AskedRate))
	}
	desc += fmt.Sprintf("; below, errors per second: %d errors in all.", totalErrors)

	// Two panels sharing the time axis: throughput above, errors below.
	top := frame{width: chartWidth, height: 190, left: 64, right: 210, top: 12, bottom: 10}
	bottom := frame{width: chartWidth, height: 310, left: 64, right: 210, top: 206, bottom: 40}
	s.open(id, "chart throughput", top.width, bottom.height, title, desc)
	xs := scale{lo: 0, hi: math.Max(window, 1e-9), from: top.x0(), to: top.x1()}

	rateTop, rateTicks := linearBounds(peak * 1.05)
	ys := scale{lo: 0, hi: rateTop, from: top.y0(), to: top.y1()}
	s.yGrid(top, ys, rateTicks, rateLabel)
	s.line(top.x0(), top.y0(), top.x1(), top.y0(), "axis")
	s.line(top.x0(), top.y0(), top.x0(), top.y1(), "axis")
	s.yTitle(top, "ops/s")
	switch {
	case len(op.Stages) > 0:
		// The asked rate follows the stages, ramps included.
		var ax, ay []float64
		for _, st := range op.Stages {
			share := 1.0
			if mean := (st.StartRate + st.Rate) / 2; mean > 0 {
				share = st.AskedRate / mean // this runner's part of the plan's rate
			}
			ax = append(ax, xs.at(float64(st.StartNS)/1e9), xs.at(float64(st.EndNS)/1e9))
			ay = append(ay, ys.at(st.StartRate*share), ys.at(st.Rate*share))
		}
		s.polyline(ax, ay, `stroke="`+baselineColour+`" stroke-width="1.5" stroke-dasharray="6 4"`, "asked rate of the stages")
		stageMarks(&s, top, xs, op.Stages)
	case c.AskedRate > 0:
		y := ys.at(c.AskedRate)
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"><title>asked rate %s/s</title></line>`,
			num(top.x0()), num(y), num(top.x1()), num(y), baselineColour, esc(rateLabel(c.AskedRate)))
	}
	px, py := make([]float64, len(cols)), make([]float64, len(cols))
	for i, col := range cols {
		px[i], py[i] = xs.at((col.start+col.end)/2), ys.at(rates[i])
	}
	s.polyline(px, py, `stroke="`+opPalette[0]+`" stroke-width="2" stroke-linejoin="round"`, "successful operations per second")

	errTop, errTicks := linearBounds(peakErrors * 1.05)
	es := scale{lo: 0, hi: errTop, from: bottom.y0(), to: bottom.y1()}
	s.yGrid(bottom, es, errTicks, rateLabel)
	s.yTitle(bottom, "errors/s")
	for i, col := range cols {
		if col.errors == 0 {
			continue
		}
		x0, x1 := xs.at(col.start), xs.at(col.end)
		y := es.at(errRates[i])
		s.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="#cf222e"><title>%d errors at %s</title></rect>`,
			num(x0+0.5), num(y), num(math.Max(x1-x0-1, 0.5)), num(bottom.y0()-y), col.errors, esc(secondsLabel(col.start)))
	}
	if totalErrors == 0 {
		s.text((bottom.x0()+bottom.x1())/2, (bottom.y0()+bottom.y1())/2+4, "middle", "empty", "no errors in the measured window")
	}
	timeAxis(&s, bottom, xs, window)

	lx, ly := top.x1()+16, top.y1()+8
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/>`, num(lx), num(ly), num(lx+22), num(ly), opPalette[0])
	s.text(lx+28, ly+4, "start", "legend", "successful ops/s")
	if c.AskedRate > 0 {
		ly += 18
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`,
			num(lx), num(ly), num(lx+22), num(ly), baselineColour)
		s.text(lx+28, ly+4, "start", "legend", "asked rate")
	}
	ly = bottom.y1() + 8
	s.printf(`<rect x="%s" y="%s" width="22" height="10" fill="#cf222e"/>`, num(lx), num(ly-5))
	s.text(lx+28, ly+4, "start", "legend", "errors/s")
	s.close()
	return template.HTML(s.String()), nil
}
