package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// HTML writes the report as one self-contained HTML page for release
// managers: the verdict, the run, and per component its objectives, a
// percentile spectrum with the bars, a latency waterfall per operation and
// throughput and errors over time. It loads nothing from anywhere (styles
// inline, charts as inline SVG, no script), and the same result always
// renders the same bytes.
func HTML(w io.Writer, res *result.Result) error {
	return HTMLWithBaseline(w, res, nil)
}

// HTMLWithBaseline is HTML with the baseline run's percentile spectrum drawn
// under each component's as dashed grey lines. baseline may be nil.
func HTMLWithBaseline(w io.Writer, res *result.Result, baseline *result.Result) error {
	page, err := buildPage(res, baseline)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return executePage(w, pageTemplate, page, "html report")
}

// executePage renders a page's template whole before writing it to w, so
// a template that fails midway writes nothing; what names the page in the
// error.
func executePage(w io.Writer, t *template.Template, page any, what string) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, page); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type htmlPage struct {
	Title, VerdictClass, Verdict, Headline string
	Failures                               []string
	Run                                    []htmlField
	Warnings                               []string
	Components                             []htmlComponent
	Footer                                 string
}

type htmlField struct {
	Label, Value string
	// Flag marks a value the reader must not miss.
	Flag bool
}

type htmlComponent struct {
	ID, Name, Target, Protocol string
	Embedded                   bool
	Objectives                 []htmlObjective
	FirstErrors                []string
	ErrorKinds                 string
	// Hits says what the component's reads found (HitsText).
	Hits string
	// Streams says what its streaming calls received (StreamsText).
	Streams              string
	Spectrum, Throughput template.HTML
	Waterfalls           []htmlWaterfall
	Operations           []htmlOperation
	// Stages are the rows of a component that ran in stages.
	Stages []stageRow
}

type htmlObjective struct {
	Operation, Metric, Bar, Tier, Measured, Change, Margin, Status, StatusClass, Detail string
	// Interval is the measurement's 95% confidence interval (intervalText);
	// WithinInterval says the bar lies inside it.
	Interval       string
	WithinInterval bool
}

type htmlWaterfall struct {
	Operation string
	Chart     template.HTML
}

type htmlOperation struct {
	Name                                         string
	Count, Errors, Late                          int64
	Rate, Asked, P50, P90, P99, P999, P9999, Max string
	ServiceP99, ClientP99                        string
}

func buildPage(res *result.Result, baseline *result.Result) (*htmlPage, error) {
	page := &htmlPage{
		Verdict: verdictWord(res), Headline: headline(res), Warnings: res.Warnings,
		VerdictClass: string(res.Verdict),
	}
	if (res.Verdict != status.VerdictPass && res.Verdict != status.VerdictFail) || page.Verdict == "NOT JUDGED" {
		page.VerdictClass = string(status.VerdictError)
	}
	page.Title = "tailgate " + page.Verdict
	if res.Plan != "" {
		page.Title += ": " + res.Plan
	}
	for _, row := range objectiveRows(res) {
		if row.o.Status != status.Fail || len(page.Failures) == maxListed {
			continue
		}
		o := row.o
		line := fmt.Sprintf("%s %s %s: measured %s against %s (%s), %s", row.component, o.Subject(), o.Metric,
			o.Measured, barExpression(o, "≤", "≥"), o.Tier, shortfall(o))
		if isRegression(o) {
			line = fmt.Sprintf("%s %s %s: %s (regression)", row.component, o.Subject(), o.Metric, shortfall(o))
		}
		if barInInterval(o) {
			line += fmt.Sprintf("; %s %s: the run cannot tell on which side of the bar the true %s lies", withinIntervalText, intervalText(o), o.Metric)
		}
		page.Failures = append(page.Failures, line)
	}
	page.Run = runFields(res)
	page.Footer = "Rendered by tailgate from a " + res.Schema + " result"
	if res.Tool != "" {
		page.Footer += " written by " + res.Tool
	}

	for ci := range res.Components {
		c := &res.Components[ci]
		hc := htmlComponent{
			ID: fmt.Sprintf("component-%d", ci+1), Name: c.Name, Target: c.Target, Protocol: c.Protocol, Embedded: c.Embedded,
		}
		objectives := append([]status.ObjectiveResult(nil), c.Objectives...)
		sort.SliceStable(objectives, func(i, j int) bool { return objectives[i].Status.Rank() < objectives[j].Status.Rank() })
		for _, o := range objectives {
			ho := htmlObjective{
				Operation: o.Subject(), Metric: o.Metric, Bar: barExpression(o, "≤", "≥"), Tier: o.Tier,
				Measured: o.Measured, Change: changeText(o), Status: o.Status.Text(),
				StatusClass: "st-" + statusClass(o.Status), Detail: o.Detail,
				Interval: intervalText(o), WithinInterval: barInInterval(o),
			}
			if !isRegression(o) {
				ho.Margin = MarginText(o)
			}
			if o.PValue > 0 {
				ho.Detail = strings.TrimPrefix(ho.Detail+fmt.Sprintf("; p = %.2g", o.PValue), "; ")
			}
			if o.Line > 0 {
				ho.Detail = strings.TrimPrefix(ho.Detail+fmt.Sprintf("; plan line %d", o.Line), "; ")
			}
			hc.Objectives = append(hc.Objectives, ho)
		}
		for _, kind := range sortedKeys(c.FirstErrors) {
			s := c.FirstErrors[kind]
			hc.FirstErrors = append(hc.FirstErrors, fmt.Sprintf("first %s error at %s: %s", kind,
				slo.FormatDuration(time.Duration(s.AtNS)), s.Message))
		}
		if all := c.Operation(slo.AllOperations); all != nil && len(all.ErrorKinds) > 0 {
			hc.ErrorKinds = ErrorsText(all)
		}
		hc.Hits = HitsText(c)
		hc.Streams = StreamsText(c)

		var base *result.ComponentResult
		if baseline != nil {
			base = baseline.Component(c.Name)
		}
		var err error
		if hc.Spectrum, err = spectrumChart(hc.ID+"-spectrum", c, base, baselineName(res, baseline)); err != nil {
			return nil, err
		}
		bars := latencyBars(c, true)
		for oi, op := range waterfallOperations(c) {
			chart, err := heatmapChart(fmt.Sprintf("%s-waterfall-%d", hc.ID, oi+1), c.Name, op, bars, res.Runner, res.IntervalNS, res.MeasuredNS)
			if err != nil {
				return nil, err
			}
			hc.Waterfalls = append(hc.Waterfalls, htmlWaterfall{Operation: op.Name, Chart: chart})
		}
		if hc.Throughput, err = throughputChart(hc.ID+"-throughput", c, res.IntervalNS, res.MeasuredNS); err != nil {
			return nil, err
		}
		for _, op := range c.Operations {
			ho := htmlOperation{
				Name: op.Name, Count: op.Count, Errors: op.Errors, Late: op.Late,
				Rate: fmt.Sprintf("%.0f/s", op.AchievedRate), Asked: "closed loop",
				P50: LatencyOf(op.Count, op.LatencyNS.P50), P90: LatencyOf(op.Count, op.LatencyNS.P90), P99: LatencyOf(op.Count, op.LatencyNS.P99),
				P999: LatencyOf(op.Count, op.LatencyNS.P999), P9999: LatencyOf(op.Count, op.LatencyNS.P9999), Max: LatencyOf(op.Count, op.LatencyNS.Max),
				ServiceP99: LatencyOf(op.Count, op.ServiceNS.P99), ClientP99: "-",
			}
			if op.ClientDelayNS != nil {
				ho.ClientP99 = LatencyOf(op.Count, op.ClientDelayNS.P99)
			}
			if op.AskedRate > 0 {
				ho.Asked = fmt.Sprintf("%.0f/s", op.AskedRate)
			}
			hc.Operations = append(hc.Operations, ho)
		}
		hc.Stages = stageRows(&result.Result{Components: []result.ComponentResult{*c}})
		page.Components = append(page.Components, hc)
	}
	return page, nil
}

// baselineName names the baseline run a chart overlays: the file the
// result was judged against, and when it ran.
func baselineName(res, baseline *result.Result) string {
	if baseline == nil {
		return ""
	}
	var parts []string
	if res.Baseline != nil && res.Baseline.File != "" {
		parts = append(parts, res.Baseline.File)
	}
	if !baseline.StartedAt.IsZero() {
		parts = append(parts, "started "+baseline.StartedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if len(parts) == 0 {
		return "the baseline run"
	}
	return strings.Join(parts, ", ")
}

// statusClass names a status for the style sheet.
func statusClass(s status.Status) string {
	if s == status.NoChange {
		return "nochange"
	}
	return string(s)
}

// runFields describes the run: what was measured, where and for how long.
func runFields(res *result.Result) []htmlField {
	fields := []htmlField{}
	add := func(label, value string, flag bool) {
		fields = append(fields, htmlField{label, value, flag})
	}
	if res.Plan != "" {
		add("Plan", res.Plan, false)
	}
	add("Seed", fmt.Sprint(res.Seed), false)
	if !res.StartedAt.IsZero() {
		add("Started", res.StartedAt.UTC().Format("2006-01-02 15:04:05 MST"), false)
	}
	add("Measured window", Latency(res.MeasuredNS)+" (after "+Latency(res.WarmupNS)+" of warmup)", false)
	if res.IntervalNS > 0 {
		add("Interval", Latency(res.IntervalNS), false)
	}
	if res.Complete {
		add("Completed", "yes", false)
	} else {
		add("Completed", strings.TrimSuffix("no: "+res.Incomplete, ": "), true)
	}
	if res.Shard != nil {
		add("Shard", fmt.Sprintf("%d of %d", res.Shard.Index, res.Shard.Count), false)
	}
	if res.Baseline != nil {
		b := res.Baseline.File
		if !res.Baseline.StartedAt.IsZero() {
			b += ", started " + res.Baseline.StartedAt.UTC().Format("2006-01-02 15:04:05 MST")
		}
		add("Baseline", b, false)
	}
	if res.Tool != "" {
		add("Tool", res.Tool, false)
	}
	for _, c := range res.Components {
		target := c.Target + " (" + c.Protocol + ")"
		if c.Embedded {
			add("Target of "+c.Name, target+": EMBEDDED in-process server, not a deployment", true)
		} else {
			add("Target of "+c.Name, target, false)
		}
		if f := FloorText(res, &c); f != "" {
			add("Measurement floor of "+c.Name, f, false)
		}
	}
	return fields
}

// pageHead opens every HTML page tailgate writes: self-contained (the
// Content-Security-Policy loads nothing and runs no script), titled
// {{.Title}}, and its style sheet begun with the body's.
const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Title}}</title>
<style>
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; }
`

// plainPageHead opens the pages with a plain blue header (the trend and
// capacity pages): pageHead and the header's and section titles' style.
const plainPageHead = pageHead + `main, header div { max-width: 1020px; margin: 0 auto; padding: 0 24px; }
header { padding: 18px 0 14px; border-bottom: 4px solid #0969da; background: #ddf4ff; }
header h1 { margin: 0 0 2px; font-size: 26px; }
header p { margin: 0; font-size: 15px; }
h2 { margin: 28px 0 4px; font-size: 19px; }
`

// plainPageFoot closes the pages plainPageHead opens.
const plainPageFoot = `</main>
</body>
</html>
`

// plainChartStyle is the style of the charts on the plain pages (trend and
// capacity): the SVG, its text, axis and bar labels, grid and plot area.
const plainChartStyle = `.chart { display: block; max-width: 100%; height: auto; }
.chart text { font-size: 11px; fill: #57606a; }
.chart .axis-label { font-size: 12px; fill: #1f2328; }
.chart .bar-label { font-size: 11px; fill: #1f2328; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.chart .grid { stroke: #eaeef2; }
.chart .plot-bg { fill: #fff; stroke: #d8dee4; }
`

var pageTemplate = template.Must(template.New("report").Parse(pageHead + `main, .banner-inner, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
.banner { padding: 18px 0 14px; border-bottom: 4px solid; }
.banner h1 { margin: 0 0 2px; font-size: 30px; letter-spacing: .02em; }
.banner p { margin: 0; font-size: 16px; }
.banner ul { margin: 8px 0 0; padding-left: 20px; }
.verdict-pass { background: #dafbe1; border-color: #1a7f37; color: #0f5323; }
.verdict-fail { background: #ffebe9; border-color: #cf222e; color: #82071e; }
.verdict-error { background: #fff8c5; border-color: #bf8700; color: #5c3b00; }
h2 { margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; font-size: 22px; }
h3 { margin: 22px 0 6px; font-size: 17px; }
h4 { margin: 14px 0 4px; font-size: 14px; color: #57606a; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.run dt { color: #57606a; }
dl.run dd { margin: 0; overflow-wrap: anywhere; }
.flag { font-weight: 600; color: #7d4e00; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid #d0d7de; color: #57606a; vertical-align: middle; }
.badge.embedded { background: #fff8c5; border-color: #bf8700; color: #5c3b00; }
.target { color: #57606a; overflow-wrap: anywhere; }
.warnings { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px 8px 28px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #d8dee4; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bar { white-space: nowrap; }
td.detail { color: #57606a; max-width: 380px; overflow-wrap: anywhere; }
table.objectives { width: 100%; }
table.objectives .change { white-space: normal; min-width: 7em; }
.table-scroll { overflow-x: auto; }
@media (max-width: 960px) {
  main, .banner-inner, footer { padding: 0 12px; }
  th, td { padding: 4px 5px; }
  td.num, th.num, td.bar { white-space: normal; }
  td.detail { max-width: none; }
  .within { white-space: normal; }
}
.st-fail, .st-insufficient, .st-inconclusive, .st-client-bound { font-weight: 700; }
.st-fail { color: #cf222e; }
.st-insufficient, .st-inconclusive, .st-client-bound { color: #9a6700; }
.st-missed { color: #8250df; }
.st-pass, .st-met { color: #1a7f37; }
.st-nochange { color: #57606a; }
.errors { color: #82071e; }
.ci { font-weight: 400; color: #57606a; font-size: 12px; }
.within { display: inline-block; margin-top: 2px; padding: 0 6px; border-radius: 8px; font-size: 12px; font-weight: 600; color: #5c3b00; background: #fff8c5; border: 1px solid #d4a72c; white-space: nowrap; }
.chart { display: block; max-width: 100%; height: auto; }
.chart text { font-size: 11px; fill: #57606a; }
.chart .axis-label { font-size: 12px; fill: #1f2328; }
.chart .legend { font-size: 12px; fill: #1f2328; }
.chart .bar-label { font-size: 11px; fill: #1f2328; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.chart .bar-label.failing { fill: #cf222e; font-weight: 600; }
.chart .empty { font-size: 13px; }
.chart .grid { stroke: #eaeef2; }
.chart .axis { stroke: #8c959f; }
.chart .plot-bg { fill: #fff; stroke: #d8dee4; }
.note { color: #57606a; font-size: 13px; }
footer { margin: 40px auto 24px; color: #57606a; font-size: 12px; }
</style>
</head>
<body>
<header class="banner verdict-{{.VerdictClass}}" role="banner">
<div class="banner-inner">
<h1>{{.Verdict}}</h1>
<p>{{.Headline}}</p>
{{- if .Failures}}
<ul>
{{- range .Failures}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
</div>
</header>
<main>
<section aria-labelledby="run-heading">
<h2 id="run-heading">Run</h2>
<dl class="run">
{{- range .Run}}
<dt>{{.Label}}</dt><dd{{if .Flag}} class="flag"{{end}}>{{.Value}}</dd>
{{- end}}
</dl>
{{- if .Warnings}}
<ul class="warnings">
{{- range .Warnings}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- range .Components}}
<section id="{{.ID}}" aria-labelledby="{{.ID}}-heading">
<h2 id="{{.ID}}-heading">{{.Name}} <span class="badge">{{.Protocol}}</span>{{if .Embedded}} <span class="badge embedded">embedded server</span>{{end}}</h2>
<p class="target">Target: {{.Target}}{{if .Embedded}}. This component ran against tailgate's embedded in-process server, not a deployment.{{end}}</p>
<h3>Objectives</h3>
{{- if .Objectives}}
<table class="objectives">
<thead><tr><th scope="col">Operation</th><th scope="col">Metric</th><th scope="col">Bar <span class="ci">(tier)</span></th><th scope="col" class="num">Measured <span class="ci">[95% CI]</span></th><th scope="col" class="num">Margin</th><th scope="col" class="num change">Change vs baseline</th><th scope="col">Status</th><th scope="col">Detail</th></tr></thead>
<tbody>
{{- range .Objectives}}
<tr><td>{{.Operation}}</td><td>{{.Metric}}</td><td class="bar">{{.Bar}}<br><span class="ci">{{.Tier}}</span></td><td class="num">{{.Measured}}{{if .Interval}}<br><span class="ci">{{.Interval}}</span>{{end}}</td><td class="num">{{.Margin}}</td><td class="num change">{{.Change}}</td><td class="status {{.StatusClass}}">{{.Status}}{{if .WithinInterval}}<br><span class="within">bar within the interval</span>{{end}}</td><td class="detail">{{.Detail}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="note">No objectives for this component.</p>
{{- end}}
{{- if .Hits}}
<p class="note">Reads: {{.Hits}}</p>
{{- end}}
{{- if .Streams}}
<p class="note">Streams (latency to the first response message; every other latency here is to the end of the stream): {{.Streams}}</p>
{{- end}}
{{- if or .FirstErrors .ErrorKinds}}
<ul class="errors">
{{- if .ErrorKinds}}
<li>errors: {{.ErrorKinds}}</li>
{{- end}}
{{- range .FirstErrors}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
<h3>Percentile spectrum</h3>
{{.Spectrum}}
<p class="note">Latency is measured from each operation's intended start, so a stalled server shows in the tail. Each line ends at the highest percentile its sample count resolves, with the maximum.</p>
<h3>Latency over time</h3>
{{- range .Waterfalls}}
<h4>{{.Operation}}</h4>
{{.Chart}}
{{- end}}
<h3>Throughput and errors</h3>
{{.Throughput}}
<h3>Measurements</h3>
<div class="table-scroll">
<table class="operations">
<thead><tr><th scope="col">Operation</th><th scope="col" class="num">Count</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Late</th><th scope="col" class="num">Rate</th><th scope="col" class="num">Asked</th><th scope="col" class="num">p50</th><th scope="col" class="num">p90</th><th scope="col" class="num">p99</th><th scope="col" class="num">p99.9</th><th scope="col" class="num">p99.99</th><th scope="col" class="num">Max</th><th scope="col" class="num">Service p99</th><th scope="col" class="num">Client delay p99</th></tr></thead>
<tbody>
{{- range .Operations}}
<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td><td class="num">{{.Errors}}</td><td class="num">{{.Late}}</td><td class="num">{{.Rate}}</td><td class="num">{{.Asked}}</td><td class="num">{{.P50}}</td><td class="num">{{.P90}}</td><td class="num">{{.P99}}</td><td class="num">{{.P999}}</td><td class="num">{{.P9999}}</td><td class="num">{{.Max}}</td><td class="num">{{.ServiceP99}}</td><td class="num">{{.ClientP99}}</td></tr>
{{- end}}
</tbody>
</table>
</div>
{{- if .Stages}}
<h3>Stages</h3>
<div class="table-scroll">
<table class="operations">
<thead><tr><th scope="col">Operation</th><th scope="col" class="num">Stage</th><th scope="col">Stage rate</th><th scope="col">Window</th><th scope="col" class="num">Count</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Rate</th><th scope="col" class="num">p50</th><th scope="col" class="num">p90</th><th scope="col" class="num">p99</th><th scope="col" class="num">p99.9</th><th scope="col" class="num">Max</th></tr></thead>
<tbody>
{{- range .Stages}}
<tr><td>{{.Operation}}</td><td class="num">{{.Index}}</td><td>{{.Rate}}</td><td>{{.Span}}</td><td class="num">{{.Count}}</td><td class="num">{{.Errors}}</td><td class="num">{{.Achieved}}</td><td class="num">{{.P50}}</td><td class="num">{{.P90}}</td><td class="num">{{.P99}}</td><td class="num">{{.P999}}</td><td class="num">{{.Max}}</td></tr>
{{- end}}
</tbody>
</table>
</div>
{{- end}}
<p class="note">Service p99 is measured from the actual send, without the wait for the intended start; the objectives judge the latency from the intended start. Client delay is how late tailgate itself sent (not waiting for the connection's previous reply): the measurement floor.</p>
</section>
{{- end}}
</main>
<footer>{{.Footer}}</footer>
</body>
</html>
`))
