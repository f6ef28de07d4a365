package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tailgate-dev/tailgate/slo"
)

// The charts are inline SVG written here, so the HTML report loads nothing:
// no script, no font, no stylesheet from elsewhere. Coordinates are printed
// with one decimal, so the same result always renders the same bytes.

// svgWriter accumulates one SVG element's markup; every text and attribute
// value goes through esc.
type svgWriter struct {
	strings.Builder
}

func (s *svgWriter) printf(format string, args ...any) {
	fmt.Fprintf(s, format, args...)
}

// open starts an accessible chart: role img, labelled by its title and
// described by desc.
func (s *svgWriter) open(id, class string, width, height int, title, desc string) {
	s.printf(`<svg id="%s" class="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title %s-desc">`,
		id, class, width, height, width, height, id, id)
	s.printf(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
}

func (s *svgWriter) close() {
	s.WriteString("</svg>")
}

// text writes a label; anchor is start, middle or end.
func (s *svgWriter) text(x, y float64, anchor, class, content string) {
	s.printf(`<text x="%s" y="%s" text-anchor="%s"`, num(x), num(y), anchor)
	if class != "" {
		s.printf(` class="%s"`, class)
	}
	s.printf(`>%s</text>`, esc(content))
}

func (s *svgWriter) line(x1, y1, x2, y2 float64, class string) {
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" class="%s"/>`, num(x1), num(y1), num(x2), num(y2), class)
}

// yGrid draws a panel's horizontal grid line at each tick of its y scale,
// labelled on the left.
func (s *svgWriter) yGrid(f frame, ys scale, ticks []float64, label func(float64) string) {
	for _, t := range ticks {
		y := ys.at(t)
		s.line(f.x0(), y, f.x1(), y, "grid")
		s.text(f.x0()-6, y+4, "end", "tick", label(t))
	}
}

// yTitle writes a panel's y-axis title, turned to run up its left edge.
func (s *svgWriter) yTitle(f frame, title string) {
	s.printf(`<text transform="translate(14 %s) rotate(-90)" text-anchor="middle" class="axis-label">%s</text>`,
		num((f.y0()+f.y1())/2), esc(title))
}

// latencyPlot draws a chart's plot area: its background, the latency grid
// at each tick of its y scale, and the y axis's title (the trend and
// capacity charts).
func (s *svgWriter) latencyPlot(f frame, ys scale, ticks []float64, title string) {
	s.printf(`<rect class="plot-bg" x="%s" y="%s" width="%s" height="%s"/>`, num(f.x0()), num(f.y1()), num(f.x1()-f.x0()), num(f.y0()-f.y1()))
	s.yGrid(f, ys, ticks, chartLatency)
	s.yTitle(f, title)
}

// barLine draws an objective's bar across the plot at height y, dashed as
// its tier is (the trend and capacity charts).
func (s *svgWriter) barLine(f frame, y float64, tier string) {
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#cf222e" stroke-dasharray="%s" class="bar"/>`, num(f.x0()), num(y), num(f.x1()), num(y), tierDash(tier))
}

// polyline draws a series; style is extra attributes, already safe.
func (s *svgWriter) polyline(xs, ys []float64, style, title string) {
	s.WriteString(`<polyline fill="none" points="`)
	for i := range xs {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.printf("%s,%s", num(xs[i]), num(ys[i]))
	}
	s.printf(`" %s>`, style)
	if title != "" {
		s.printf(`<title>%s</title>`, esc(title))
	}
	s.WriteString(`</polyline>`)
}

func esc(s string) string {
	return html.EscapeString(s)
}

// num prints a coordinate with one decimal.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if s == "-0.0" {
		return "0.0"
	}
	return s
}

// chartLatency prints a latency for an axis or label: 250µs, 2ms.
func chartLatency(ns float64) string {
	return strings.Replace(Latency(int64(math.Round(ns))), "us", "µs", 1)
}

// frame is a chart's plotting area within its SVG.
type frame struct {
	width, height            int
	left, right, top, bottom float64
}

func (f frame) x0() float64 { return f.left }
func (f frame) x1() float64 { return float64(f.width) - f.right }
func (f frame) y0() float64 { return float64(f.height) - f.bottom }
func (f frame) y1() float64 { return f.top }

// scale maps a data interval onto pixels, linearly in the data given.
type scale struct {
	lo, hi     float64
	from, to   float64
	logarithms bool
}

func (s scale) at(v float64) float64 {
	if s.logarithms {
		v = math.Log10(math.Max(v, 1e-9))
	}
	lo, hi := s.lo, s.hi
	if s.logarithms {
		lo, hi = math.Log10(lo), math.Log10(hi)
	}
	if hi == lo {
		return s.from
	}
	t := (v - lo) / (hi - lo)
	return s.from + t*(s.to-s.from)
}

// niceSteps are the mantissas of round numbers on a log axis.
var niceSteps = []float64{1, 2, 5}

// logBounds widens [lo, hi] (nanoseconds) to round numbers 1, 2 or 5 × 10^k,
// and lists the ticks between: every such number when the range is narrow,
// every power of ten when it is wide.
func logBounds(lo, hi float64) (float64, float64, []float64) {
	lo, hi = math.Max(lo, 1), math.Max(hi, 1)
	if hi <= lo {
		hi = lo * 2
	}
	down := func(v float64) float64 {
		e := math.Floor(math.Log10(v))
		best := math.Pow(10, e)
		for _, m := range niceSteps {
			if c := m * math.Pow(10, e); c <= v*(1+1e-9) {
				best = c
			}
		}
		return best
	}
	up := func(v float64) float64 {
		e := math.Floor(math.Log10(v))
		for _, m := range append(niceSteps, 10) {
			if c := m * math.Pow(10, e); c >= v*(1-1e-9) {
				return c
			}
		}
		return math.Pow(10, e+1)
	}
	lo, hi = down(lo), up(hi)
	mantissas := niceSteps
	if math.Log10(hi/lo) > 2.5 {
		mantissas = []float64{1}
	}
	var ticks []float64
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range mantissas {
			v := m * math.Pow(10, e)
			if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				ticks = append(ticks, v)
			}
		}
	}
	// On a wide axis the ends are labelled too, when clear of the powers
	// of ten, so the reader sees where it starts and stops.
	clear := func(v float64) bool {
		for _, t := range ticks {
			if math.Abs(math.Log10(v/t)) < 0.25 {
				return false
			}
		}
		return true
	}
	if len(mantissas) == 1 {
		if clear(lo) {
			ticks = append([]float64{lo}, ticks...)
		}
		if clear(hi) {
			ticks = append(ticks, hi)
		}
	}
	return lo, hi, ticks
}

// linearBounds widens [0, hi] to a round top and lists about five ticks.
func linearBounds(hi float64) (float64, []float64) {
	if hi <= 0 || math.IsNaN(hi) || math.IsInf(hi, 0) {
		hi = 1
	}
	raw := hi / 4
	e := math.Pow(10, math.Floor(math.Log10(raw)))
	step := e * 10
	for _, m := range niceSteps {
		if m*e >= raw {
			step = m * e
			break
		}
	}
	top := math.Ceil(hi/step-1e-9) * step
	var ticks []float64
	for v := 0.0; v <= top*(1+1e-9); v += step {
		ticks = append(ticks, v)
	}
	return top, ticks
}

// timeTicks lists round offsets (seconds) within a window of the given
// length, about six of them.
func timeTicks(windowSeconds float64) []float64 {
	if windowSeconds <= 0 {
		return []float64{0}
	}
	steps := []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if windowSeconds/s <= 6 {
			step = s
			break
		}
	}
	var ticks []float64
	for v := 0.0; v <= windowSeconds*(1+1e-9); v += step {
		ticks = append(ticks, v)
	}
	return ticks
}

// secondsLabel prints a time offset: 0s, 30s, 1.5m.
func secondsLabel(sec float64) string {
	return slo.FormatDuration(time.Duration(math.Round(sec*1e3)) * time.Millisecond)
}

// rateLabel prints a rate compactly: 950, 12k, 1.5M.
func rateLabel(v float64) string {
	switch {
	case v >= 1e6:
		return trimFloat(v/1e6) + "M"
	case v >= 1e3:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

func trimFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// layoutLabels places labels of the given height, one per wanted centre
// (sorted from the top down), so that no two overlap: each label stays as
// near its wanted place as the others allow, labels that would collide move
// apart together as a block centred on their wanted places (greedy
// clustering), and every block stays within [top, bottom] when the labels
// fit there at all. It returns the centres, in the same order.
func layoutLabels(wanted []float64, height, top, bottom float64) []float64 {
	type block struct {
		first, n int
		start    float64 // centre of the block's first label
	}
	place := func(b *block) {
		sum := 0.0
		for k := 0; k < b.n; k++ {
			sum += wanted[b.first+k] - float64(k)*height
		}
		b.start = sum / float64(b.n)
		// Within bounds, the top one winning when the block is taller.
		b.start = math.Max(math.Min(b.start, bottom-float64(b.n-1)*height), top)
	}
	var blocks []block
	for i := range wanted {
		blocks = append(blocks, block{first: i, n: 1})
		place(&blocks[len(blocks)-1])
		for len(blocks) > 1 {
			last, prev := blocks[len(blocks)-1], blocks[len(blocks)-2]
			if prev.start+float64(prev.n)*height <= last.start+1e-9 {
				break
			}
			merged := block{first: prev.first, n: prev.n + last.n}
			place(&merged)
			blocks = append(blocks[:len(blocks)-2], merged)
		}
	}
	out := make([]float64, 0, len(wanted))
	for _, b := range blocks {
		for k := 0; k < b.n; k++ {
			out = append(out, b.start+float64(k)*height)
		}
	}
	return out
}

// textWidth estimates the width of a chart label in pixels: the reports'
// sans-serif at 11 to 12 px averages under 6.6 px a character, so the
// estimate errs wide, never narrow.
func textWidth(s string, fontSize float64) float64 {
	return float64(utf8.RuneCountInString(s)) * fontSize * 0.6
}
