package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result/history"
	"github.com/tailgate-dev/tailgate/slo"
)

// Trend is one judged metric's course over a history: a component's
// operation's latency metric, run by run.
type Trend struct {
	Component, Operation string
	Metric               slo.Metric
	// Points are the runs of the newest run's workload, oldest first.
	Points []TrendPoint
	// Other counts the history's runs of another workload, left out.
	Other int
	// Bars are the newest run's bars on the metric (minimum, aspirational).
	Bars []status.ObjectiveResult
	// Trend is the newest run's trend objective on the metric, if any.
	Trend *status.ObjectiveResult
	// ChangePoints are the shifts the series confirms (at 5%).
	ChangePoints []stats.ChangePoint
}

// TrendPoint is one run of a trend.
type TrendPoint struct {
	Run   *history.Run
	Value float64
}

// trendKey names a trend.
type trendKey struct {
	component, operation string
	metric               slo.Metric
}

// TrendsOf collects the trend of every metric judged in the history's
// runs (runs oldest first): each latency metric an objective of any tier
// was set on, and p99_window (each run's worst window). The series are of
// the newest run's workload of each component.
func TrendsOf(runs []history.Run) []Trend {
	var keys []trendKey
	seen := map[trendKey]bool{}
	for i := range runs {
		for _, c := range runs[i].Components {
			for _, o := range c.Objectives {
				m := slo.Metric(o.Metric)
				if !m.IsLatency() && m != slo.MetricP99Window {
					continue
				}
				k := trendKey{c.Name, o.Operation, m}
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].component != keys[j].component {
			return keys[i].component < keys[j].component
		}
		return keys[i].operation < keys[j].operation
	})
	var out []Trend
	for _, k := range keys {
		t := Trend{Component: k.component, Operation: k.operation, Metric: k.metric}
		hash, newest := "", -1
		for i := len(runs) - 1; i >= 0; i-- {
			if c := runs[i].Component(k.component); c != nil && runs[i].Complete {
				hash, newest = c.WorkloadHash, i
				break
			}
		}
		for i := range runs {
			c := runs[i].Component(k.component)
			if c == nil || !runs[i].Complete {
				continue
			}
			if c.WorkloadHash != hash {
				t.Other++
				continue
			}
			if v, ok := trendValue(c, k); ok {
				t.Points = append(t.Points, TrendPoint{Run: &runs[i], Value: v})
			}
		}
		if newest >= 0 {
			for _, o := range runs[newest].Component(k.component).Objectives {
				if o.Operation != k.operation || slo.Metric(o.Metric) != k.metric {
					continue
				}
				switch o.Tier {
				case string(slo.TierMinimum), string(slo.TierAspirational):
					if o.ThresholdValue > 0 {
						t.Bars = append(t.Bars, o)
					}
				case string(slo.TierTrend):
					tr := o
					t.Trend = &tr
				}
			}
		}
		values := make([]float64, len(t.Points))
		for i, p := range t.Points {
			values[i] = p.Value
		}
		t.ChangePoints = stats.ChangePoints(values, 0.05)
		if len(t.Points) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// trendValue reads one run's value of a trend's metric.
func trendValue(c *history.Component, k trendKey) (float64, bool) {
	if k.metric == slo.MetricP99Window {
		for _, o := range c.Objectives {
			if o.Operation == k.operation && o.Metric == string(k.metric) && o.Status.Judged() && o.MeasuredValue > 0 {
				return o.MeasuredValue, true
			}
		}
		return 0, false
	}
	op := c.Operation(k.operation)
	if op == nil || op.Count < slo.MinSamples(k.metric) {
		return 0, false
	}
	v, err := op.LatencyNS.At(k.metric)
	return float64(v), err == nil && v > 0
}

// label names a run: its commit, or its start time.
func runLabel(r *history.Run) string {
	if l := r.Source.Label(); l != "" {
		return l
	}
	return r.StartedAt.UTC().Format("01-02 15:04")
}

// shiftText lists a trend's change points: "abc1234..def5678 +12%".
func shiftText(t Trend) string {
	if len(t.ChangePoints) == 0 {
		return "none"
	}
	var s []string
	for _, c := range t.ChangePoints {
		s = append(s, fmt.Sprintf("%s..%s %s", runLabel(t.Points[c.Index-1].Run), runLabel(t.Points[c.Index].Run), SignedPercent(c.Ratio-1)))
	}
	return strings.Join(s, ", ")
}

// TrendText prints one line per trend: its runs, first and last values,
// change points and the newest trend verdict.
func TrendText(w io.Writer, trends []Trend) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tOPERATION\tMETRIC\tRUNS\tFIRST\tLAST\tCHANGE POINTS\tTREND")
	for _, t := range trends {
		first, last := t.Points[0].Value, t.Points[len(t.Points)-1].Value
		verdict := "-"
		if t.Trend != nil {
			verdict = string(t.Trend.Status)
		}
		runs := fmt.Sprint(len(t.Points))
		if t.Other > 0 {
			runs += fmt.Sprintf(" (+%d of another workload)", t.Other)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s (%s)\t%s\t%s\n", t.Component, t.Operation, t.Metric, runs,
			chartLatency(first), chartLatency(last), SignedPercent(last/first-1), shiftText(t), verdict)
	}
	return tw.Flush()
}

// WriteTrendHTML writes TrendHTML's page to path atomically.
func WriteTrendHTML(path string, trends []Trend) error {
	return writeRendered(path, func(w io.Writer) error { return TrendHTML(w, trends) })
}

type trendPage struct {
	Title, Headline string
	Runs            int
	First, Last     string
	Charts          []trendChart
}

type trendChart struct {
	Title, Verdict, VerdictClass, Detail, Shifts string
	SVG                                          template.HTML
}

// TrendHTML writes the trends as one self-contained HTML page: per metric
// a chart of its value run by run, with its bars, the confirmed change
// points marked and the level of each stretch between them, and every run
// a link to its commit where the history recorded the repository. Like the
// run report it loads nothing and needs no script.
func TrendHTML(w io.Writer, trends []Trend) error {
	page := trendPage{Title: "tailgate trends"}
	runs := map[*history.Run]bool{}
	failing := 0
	for i, t := range trends {
		for _, p := range t.Points {
			runs[p.Run] = true
		}
		c := trendChart{Title: fmt.Sprintf("%s · %s · %s", t.Component, t.Operation, t.Metric), Shifts: shiftText(t), SVG: trendSVG(fmt.Sprintf("trend-%d", i), t)}
		if t.Trend != nil {
			c.Verdict, c.VerdictClass, c.Detail = "trend "+t.Trend.Threshold+": "+string(t.Trend.Status), "st-"+statusClass(t.Trend.Status), t.Trend.Detail
			if t.Trend.Status == status.Fail {
				failing++
			}
		}
		page.Charts = append(page.Charts, c)
	}
	page.Runs = len(runs)
	if len(trends) > 0 && len(trends[0].Points) > 0 {
		pts := trends[0].Points
		page.First = pts[0].Run.StartedAt.UTC().Format("2006-01-02 15:04")
		page.Last = pts[len(pts)-1].Run.StartedAt.UTC().Format("2006-01-02 15:04")
	}
	page.Headline = fmt.Sprintf("%s over %s", gate.Plural(len(trends), "metric", "metrics"), gate.Plural(page.Runs, "run", "runs"))
	if failing > 0 {
		page.Headline += fmt.Sprintf("; %s by the trend tier", gate.Plural(failing, "metric fails", "metrics fail"))
	}
	return executePage(w, trendTemplate, page, "trend page")
}

// trendSVG draws one trend: runs along x, the metric up y from zero.
func trendSVG(id string, t Trend) template.HTML {
	f := frame{width: 960, height: 300, left: 70, right: 20, top: 20, bottom: 50}
	hi := 0.0
	for _, p := range t.Points {
		hi = math.Max(hi, p.Value)
	}
	// A bar far above the data would flatten it: such bars are named at
	// the top instead of drawn to scale.
	data := hi
	for _, b := range t.Bars {
		if b.ThresholdValue <= 2*data {
			hi = math.Max(hi, b.ThresholdValue)
		}
	}
	top, ticks := linearBounds(hi * 1.05)
	n := len(t.Points)
	xs := scale{lo: 0, hi: math.Max(float64(n-1), 1), from: f.x0() + 10, to: f.x1() - 10}
	ys := scale{lo: 0, hi: top, from: f.y0(), to: f.y1()}
	var s svgWriter
	s.open(id, "chart", f.width, f.height, fmt.Sprintf("%s %s %s over %d runs", t.Component, t.Operation, t.Metric, n),
		fmt.Sprintf("%s per run, oldest left; change points: %s", t.Metric, shiftText(t)))
	s.latencyPlot(f, ys, ticks, string(t.Metric))
	// The level of each stretch between change points.
	segs := stats.Segments(n, t.ChangePoints)
	values := make([]float64, n)
	for i, p := range t.Points {
		values[i] = p.Value
	}
	for _, sg := range segs {
		level := stats.Median(values[sg[0]:sg[1]])
		x1, x2 := math.Max(f.x0(), xs.at(float64(sg[0])-0.4)), math.Min(f.x1(), xs.at(float64(sg[1]-1)+0.4))
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8c959f" stroke-width="3" opacity="0.5"><title>%s</title></line>`,
			num(x1), num(ys.at(level)), num(x2), num(ys.at(level)), esc("level "+chartLatency(level)))
	}
	for _, c := range t.ChangePoints {
		x := xs.at(float64(c.Index) - 0.5)
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#cf222e" stroke-dasharray="4 3" class="change-point"/>`, num(x), num(f.y1()), num(x), num(f.y0()))
		s.text(x+4, f.y1()+12, "start", "bar-label", fmt.Sprintf("%s (p=%.3f)", SignedPercent(c.Ratio-1), c.PValue))
	}
	above := 0
	for _, b := range t.Bars {
		if b.ThresholdValue > top {
			s.text(f.x1()-4, f.y1()+14+float64(above)*14, "end", "bar-label", fmt.Sprintf("%s %s (above the chart)", b.Tier, b.Threshold))
			above++
			continue
		}
		y := ys.at(b.ThresholdValue)
		s.barLine(f, y, b.Tier)
		s.text(f.x1()-4, y-4, "end", "bar-label", b.Tier+" "+b.Threshold)
	}
	px, py := make([]float64, n), make([]float64, n)
	for i, p := range t.Points {
		px[i], py[i] = xs.at(float64(i)), ys.at(p.Value)
	}
	s.polyline(px, py, `stroke="#0969da" stroke-width="2"`, "")
	step := max(1, n/12)
	for i, p := range t.Points {
		tip := fmt.Sprintf("%s: %s, %s, %s", runLabel(p.Run), chartLatency(p.Value), p.Run.StartedAt.UTC().Format("2006-01-02 15:04"), p.Run.Verdict)
		dot := fmt.Sprintf(`<circle cx="%s" cy="%s" r="4" fill="#0969da" class="run"><title>%s</title></circle>`, num(px[i]), num(py[i]), esc(tip))
		if u := p.Run.Source.CommitURL(); u != "" {
			s.printf(`<a href="%s">%s</a>`, esc(u), dot)
		} else {
			s.WriteString(dot)
		}
		if i%step == 0 || i == n-1 {
			s.text(px[i], f.y0()+16, "middle", "tick", runLabel(p.Run))
		}
	}
	s.text((f.x0()+f.x1())/2, f.y0()+38, "middle", "axis-label", "runs, oldest first (commit)")
	s.close()
	return template.HTML(s.String()) //nolint:gosec // every value went through esc
}

var trendTemplate = template.Must(template.New("trend").Parse(plainPageHead + `.verdict { font-weight: 700; }
.st-fail { color: #cf222e; }
.st-insufficient, .st-inconclusive { color: #9a6700; }
.st-pass, .st-met { color: #1a7f37; }
.st-nochange { color: #57606a; }
.note { color: #57606a; font-size: 13px; margin: 2px 0; }
` + plainChartStyle + `</style>
</head>
<body>
<header><div><h1>Trends</h1><p>{{.Headline}}{{if .First}}, {{.First}} to {{.Last}} UTC{{end}}</p></div></header>
<main>
{{- range .Charts}}
<section>
<h2>{{.Title}}</h2>
{{- if .Verdict}}
<p class="verdict {{.VerdictClass}}">{{.Verdict}}</p>
<p class="note">{{.Detail}}</p>
{{- end}}
<p class="note">change points: {{.Shifts}}</p>
{{.SVG}}
</section>
{{- end}}
` + plainPageFoot))
