package report

import (
	"fmt"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// stageRow is one stage of one operation, as the reports' stage tables
// show it.
type stageRow struct {
	Component, Operation string
	Index                int
	// Rate is the stage's asked rate ("1000/s", or "1000→3000/s linear"
	// for a ramp), Span its place in the measured window ("0s–30s").
	Rate, Span               string
	Count, Errors            int64
	Achieved                 string
	P50, P90, P99, P999, Max string
}

// stageRows lists the stages of every operation of the result's components
// that ran in stages; none for a result without stages.
func stageRows(res *result.Result) []stageRow {
	var rows []stageRow
	for _, c := range res.Components {
		for _, op := range c.Operations {
			for _, s := range op.Stages {
				rows = append(rows, stageRow{
					Component: c.Name, Operation: op.Name, Index: s.Index,
					Rate: StageRateText(s), Span: Latency(s.StartNS) + "–" + Latency(s.EndNS),
					Count: s.Count, Errors: s.Errors, Achieved: fmt.Sprintf("%.0f/s", s.AchievedRate),
					P50: LatencyOf(s.Count, s.LatencyNS.P50), P90: LatencyOf(s.Count, s.LatencyNS.P90), P99: LatencyOf(s.Count, s.LatencyNS.P99),
					P999: LatencyOf(s.Count, s.LatencyNS.P999), Max: LatencyOf(s.Count, s.LatencyNS.Max),
				})
			}
		}
	}
	return rows
}

// StageRateText is a stage's asked rate as reports write it: "1000/s", or
// "1000→3000/s linear" for a ramp.
func StageRateText(s result.StageResult) string {
	if s.Ramp != "" {
		return fmt.Sprintf("%s→%s/s %s", trimFloat(s.StartRate), trimFloat(s.Rate), s.Ramp)
	}
	return trimFloat(s.Rate) + "/s"
}

// stageMarks draws the boundaries of stages on a chart of the measured
// window: a dashed line where each stage after the first starts, and each
// stage's number above the plot.
func stageMarks(s *svgWriter, f frame, xs scale, stages []result.StageResult) {
	for _, st := range stages {
		x0, x1 := xs.at(float64(st.StartNS)/1e9), xs.at(float64(st.EndNS)/1e9)
		if st.Index > 1 {
			s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#57606a" stroke-width="1" stroke-dasharray="3 3" class="stage-boundary"><title>stage %d starts at %s</title></line>`,
				num(x0), num(f.y0()), num(x0), num(f.y1()), st.Index, esc(Latency(st.StartNS)))
		}
		label := fmt.Sprintf("stage %d · %s", st.Index, StageRateText(st))
		if textWidth(label, 11) > x1-x0-4 {
			label = fmt.Sprint(st.Index) // a narrow stage keeps its number
		}
		// Styled in place: the page's stylesheet is the same for runs with
		// stages and without.
		s.printf(`<text x="%s" y="%s" text-anchor="middle" class="stage-label" font-size="11" fill="#57606a">%s</text>`,
			num((x0+x1)/2), num(f.y1()+11), esc(label))
	}
}

// stageBarLines draws each bar of a stage on a waterfall, across its
// stage: a dashed line at the bar (red for the minimum, purple for a
// milestone) with its metric and bar above it when the stage is wide
// enough to hold them.
func stageBarLines(s *svgWriter, xs, ys scale, op *result.OperationResult, bars []status.ObjectiveResult) {
	for _, b := range bars {
		st := op.Stage(b.Stage)
		x0, x1 := xs.at(float64(st.StartNS)/1e9), xs.at(float64(st.EndNS)/1e9)
		y := ys.at(b.ThresholdValue)
		colour := "#cf222e"
		if b.Tier == string(slo.TierAspirational) {
			colour = "#8250df"
		}
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#fff" stroke-width="3.5" stroke-opacity="0.8"/>`, num(x0), num(y), num(x1), num(y))
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s" class="stage-bar"><title>%s</title></line>`,
			num(x0), num(y), num(x1), num(y), colour, tierDash(b.Tier), esc(barLabel(b)))
		label := fmt.Sprintf("%s %s", b.Metric, barExpression(b, "≤", "≥"))
		if textWidth(label, 10) < x1-x0-8 {
			s.printf(`<text x="%s" y="%s" text-anchor="start" class="stage-bar-label" font-size="10" fill="%s" paint-order="stroke" stroke="#fff" stroke-width="3">%s</text>`,
				num(x0+4), num(y-4), colour, esc(label))
		}
	}
}
