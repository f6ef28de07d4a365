package report

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/tailgate-dev/tailgate/gate/capacity"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/slo"
)

// WriteCapacityHTML writes CapacityHTML's page to path atomically.
func WriteCapacityHTML(path string, f *capacity.File) error {
	return writeRendered(path, func(w io.Writer) error { return CapacityHTML(w, f) })
}

type capacityPage struct {
	Title, Headline, VerdictClass string
	Warnings                      []string
	Components                    []capacityChart
}

type capacityChart struct {
	Name, Capacity, Detail string
	Objectives             []capacityObjective
	SVG                    template.HTML
	Probes                 []capacityRow
}

type capacityObjective struct {
	Status, Class, Text string
}

type capacityRow struct {
	Rate, Achieved, P50, P99, P999, Verdict, Class string
}

// CapacityHTML writes a capacity search as one self-contained HTML page:
// per component its latency against throughput (the "hockey stick": p50,
// p99 and p99.9 of every probe over the rate it achieved), with the latency
// bars the probes were judged by as lines, the capacity and its bracket
// marked, then the judged capacity objectives and the table of probes. Like
// the run report it loads nothing and needs no script.
func CapacityHTML(w io.Writer, f *capacity.File) error {
	page := capacityPage{Title: "tailgate capacity", VerdictClass: "st-" + string(f.Verdict), Warnings: f.Warnings}
	page.Headline = strings.ToUpper(string(f.Verdict))
	if f.Interrupted {
		page.Headline += " · interrupted: what was found so far"
	}
	for i := range f.Components {
		c := &f.Components[i]
		chart := capacityChart{Name: c.Name, Capacity: capacity.Bracket(c), Detail: c.Detail, SVG: capacitySVG(fmt.Sprintf("capacity-%d", i), c)}
		for _, o := range c.Objectives {
			text := fmt.Sprintf("%s %s %s %s: %s", o.Tier, o.Operation, o.Metric, o.Threshold, o.Measured)
			if o.Detail != "" {
				text += " (" + o.Detail + ")"
			}
			chart.Objectives = append(chart.Objectives, capacityObjective{Status: o.Status.Text(), Class: "st-" + statusClass(o.Status), Text: text})
		}
		for _, p := range c.Probes {
			chart.Probes = append(chart.Probes, capacityRow{
				Rate: rateText(p.Rate), Achieved: rateText(p.AchievedRate),
				P50: Latency(p.LatencyNS.P50), P99: Latency(p.LatencyNS.P99), P999: Latency(p.LatencyNS.P999),
				Verdict: string(p.Verdict), Class: probeClass(p.Verdict),
			})
		}
		page.Components = append(page.Components, chart)
	}
	return executePage(w, capacityTemplate, page, "capacity page")
}

func rateText(r float64) string { return fmt.Sprintf("%.0f/s", r) }

func probeClass(v capacity.ProbeVerdict) string {
	switch v {
	case capacity.ProbePass:
		return "st-pass"
	case capacity.ProbeFail, capacity.ProbeErrorRate:
		return "st-fail"
	}
	return "st-insufficient"
}

// capacityBars are the latency bars the probes were judged by (p50 to
// max), once each, from the first probe that judged them.
func capacityBars(c *capacity.Component) []status.ObjectiveResult {
	var bars []status.ObjectiveResult
	seen := map[string]bool{}
	for _, p := range c.Probes {
		for _, o := range p.Objectives {
			key := o.Operation + " " + o.Metric + " " + o.Threshold
			if slo.Metric(o.Metric).IsLatency() && !seen[key] && o.ThresholdValue > 0 {
				seen[key] = true
				bars = append(bars, o)
			}
		}
	}
	return bars
}

// capacitySVG draws latency (log scale) against the achieved rate: the
// hockey stick, flat while the target keeps up and rising at its knee.
func capacitySVG(id string, c *capacity.Component) template.HTML {
	f := frame{width: 960, height: 380, left: 70, right: 20, top: 20, bottom: 50}
	// Each curve joins the probes in the order of the rates asked, so a
	// target that achieves less when overloaded bends the curve back.
	probes := slices.Clone(c.Probes)
	slices.SortStableFunc(probes, func(a, b capacity.Probe) int { return cmp.Compare(a.Rate, b.Rate) })
	bars := capacityBars(c)
	lo, hi, right := math.Inf(1), 0.0, math.Max(c.CapacityRate, c.UpperRate)
	for _, p := range probes {
		for _, v := range []int64{p.LatencyNS.P50, p.LatencyNS.P99, p.LatencyNS.P999} {
			if v > 0 {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
		}
		right = math.Max(right, math.Max(p.AchievedRate, p.Rate))
	}
	for _, b := range bars {
		lo, hi = math.Min(lo, b.ThresholdValue), math.Max(hi, b.ThresholdValue)
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1e3, 1e6
	}
	lo, hi, ticks := logBounds(lo, hi)
	top, xticks := linearBounds(right * 1.05)
	xs := scale{lo: 0, hi: top, from: f.x0(), to: f.x1()}
	ys := scale{lo: lo, hi: hi, from: f.y0(), to: f.y1(), logarithms: true}
	var s svgWriter
	s.open(id, "chart", f.width, f.height, fmt.Sprintf("%s: latency against throughput", c.Name),
		fmt.Sprintf("p50, p99 and p99.9 of each of %d probes against the rate it achieved; capacity %s", len(c.Probes), capacity.Bracket(c)))
	s.latencyPlot(f, ys, ticks, "latency (log scale)")
	for _, t := range xticks {
		x := xs.at(t)
		s.line(x, f.y1(), x, f.y0(), "grid")
		s.text(x, f.y0()+16, "middle", "tick", rateLabel(t))
	}
	s.text((f.x0()+f.x1())/2, f.y0()+38, "middle", "axis-label", "achieved rate, operations per second")
	// The bracket the capacity lies in, shaded, and the capacity itself.
	if c.CapacityRate > 0 {
		x := xs.at(c.CapacityRate)
		if c.UpperRate > 0 {
			s.printf(`<rect class="bracket" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
				num(x), num(f.y1()), num(xs.at(c.UpperRate)-x), num(f.y0()-f.y1()), esc("the capacity lies in here: "+capacity.Bracket(c)))
		}
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" class="capacity"/>`, num(x), num(f.y1()), num(x), num(f.y0()))
		s.text(x-4, f.y1()+14, "end", "bar-label", "capacity "+rateText(c.CapacityRate))
	}
	for _, b := range bars {
		y := ys.at(b.ThresholdValue)
		s.barLine(f, y, b.Tier)
		s.text(f.x0()+6, y-4, "start", "bar-label", fmt.Sprintf("%s %s %s", b.Operation, b.Metric, b.Threshold))
	}
	series := []struct {
		name   string
		colour string
		at     func(capacity.Probe) int64
	}{
		{"p50", "#54aeff", func(p capacity.Probe) int64 { return p.LatencyNS.P50 }},
		{"p99", "#0969da", func(p capacity.Probe) int64 { return p.LatencyNS.P99 }},
		{"p99.9", "#0a3069", func(p capacity.Probe) int64 { return p.LatencyNS.P999 }},
	}
	for _, sr := range series {
		// The probes the series draws: those that measured it.
		var drawn []capacity.Probe
		var px, py []float64
		for _, p := range probes {
			if v := sr.at(p); v > 0 && p.Verdict != capacity.ProbeInterrupted {
				drawn = append(drawn, p)
				px, py = append(px, xs.at(p.AchievedRate)), append(py, ys.at(float64(v)))
			}
		}
		s.polyline(px, py, fmt.Sprintf(`stroke="%s" stroke-width="2"`, sr.colour), sr.name)
		for i, p := range drawn {
			tip := fmt.Sprintf("%s at %s asked, %s achieved: %s, %s", sr.name, rateText(p.Rate), rateText(p.AchievedRate), chartLatency(float64(sr.at(p))), p.Verdict)
			s.printf(`<circle cx="%s" cy="%s" r="3.5" fill="%s" class="probe %s"><title>%s</title></circle>`, num(px[i]), num(py[i]), sr.colour, probeClass(p.Verdict), esc(tip))
		}
		if len(px) > 0 {
			s.text(px[len(px)-1]+6, py[len(py)-1]+4, "start", "bar-label", sr.name)
		}
	}
	s.close()
	return template.HTML(s.String()) //nolint:gosec // every value went through esc
}

var capacityTemplate = template.Must(template.New("capacity").Parse(plainPageHead + `.capacity-rate { font-size: 17px; font-weight: 700; margin: 4px 0; }
.st-fail { color: #cf222e; font-weight: 700; }
.st-error, .st-insufficient, .st-inconclusive, .st-client-bound { color: #9a6700; font-weight: 700; }
.st-pass, .st-met { color: #1a7f37; }
.note { color: #57606a; font-size: 13px; margin: 2px 0; }
table { border-collapse: collapse; margin: 10px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 12px; text-align: right; border-bottom: 1px solid #eaeef2; }
th { font-weight: 600; color: #57606a; }
` + plainChartStyle + `.chart .bracket { fill: #1a7f37; opacity: 0.12; }
.chart .capacity { stroke: #1a7f37; stroke-width: 2; }
.chart .probe.st-fail { stroke: #cf222e; stroke-width: 2; }
</style>
</head>
<body>
<header><div><h1>Capacity</h1><p class="{{.VerdictClass}}">{{.Headline}}</p></div></header>
<main>
{{- range .Warnings}}
<p class="note">warning: {{.}}</p>
{{- end}}
{{- range .Components}}
<section>
<h2>{{.Name}}</h2>
<p class="capacity-rate">capacity {{.Capacity}}</p>
<p class="note">{{.Detail}}</p>
{{- range .Objectives}}
<p><span class="{{.Class}}">{{.Status}}</span> {{.Text}}</p>
{{- end}}
{{.SVG}}
<table>
<thead><tr><th>asked</th><th>achieved</th><th>p50</th><th>p99</th><th>p99.9</th><th>verdict</th></tr></thead>
<tbody>
{{- range .Probes}}
<tr><td>{{.Rate}}</td><td>{{.Achieved}}</td><td>{{.P50}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td class="{{.Class}}">{{.Verdict}}</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{- end}}
` + plainPageFoot))
