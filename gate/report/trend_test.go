package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/result/history"
)

// trendHistory is a history of 14 runs whose get p99 steps up by 30% at
// the 8th, with commits linked to a repository, a minimum bar, a trend
// objective on the newest run, and two runs of another workload.
func trendHistory() []history.Run {
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	wobble := []float64{1, 1.02, 0.99, 1.01, 0.98, 1, 1.01, 0.99, 1.02, 1, 0.98, 1.01, 1, 0.99}
	var runs []history.Run
	for i := range 16 {
		hash := "w1"
		if i < 2 {
			hash = "w0"
		}
		level := 2e6 * wobble[max(0, i-2)%len(wobble)]
		if i >= 9 {
			level *= 1.3
		}
		objectives := []status.ObjectiveResult{
			{Tier: "minimum", Operation: "get", Metric: "p99", Threshold: "3ms", ThresholdValue: 3e6, MeasuredValue: level, Status: status.Pass},
			{Tier: "aspirational", Operation: "get", Metric: "p99", Threshold: "1ms", ThresholdValue: 1e6, MeasuredValue: level, Status: status.Missed},
		}
		if i == 15 {
			objectives = append(objectives, status.ObjectiveResult{Tier: "trend", Operation: "get", Metric: "p99", Threshold: "+10%", ThresholdValue: 0.1,
				Status: status.Fail, Detail: "a shift of +30% between c08 and c09"})
		}
		runs = append(runs, history.Run{
			Schema: history.Schema, ID: fmt.Sprintf("r%02d", i), StartedAt: start.Add(time.Duration(i) * time.Hour), Complete: true, Verdict: status.VerdictPass,
			Source: history.Source{Commit: fmt.Sprintf("c%02d0000000", i), Repository: "acme/cache", ServerURL: "https://github.com"},
			Components: []history.Component{{Name: "cache", WorkloadHash: hash, Objectives: objectives,
				Operations: []history.Operation{{Name: "get", Count: 20000, LatencyNS: result.Percentiles{P99: int64(level)}}}}},
		})
	}
	return runs
}

// TestTrendsOfAHistory: every judged latency metric gets its series (of
// the newest workload), bars, change points and trend verdict; the text and
// HTML renderings match their golden files.
func TestTrendsOfAHistory(t *testing.T) {
	trends := TrendsOf(trendHistory())
	if len(trends) != 1 {
		t.Fatalf("%d trends, want 1 (cache get p99)", len(trends))
	}
	tr := trends[0]
	if len(tr.Points) != 14 || tr.Other != 2 || len(tr.Bars) != 2 || tr.Trend == nil || tr.Trend.Status != status.Fail {
		t.Errorf("trend has %d points (want 14), %d of another workload (want 2), %d bars (want 2), trend %+v", len(tr.Points), tr.Other, len(tr.Bars), tr.Trend)
	}
	if len(tr.ChangePoints) != 1 || tr.ChangePoints[0].Index != 7 {
		t.Errorf("change points %+v, want one at the 8th run of the workload", tr.ChangePoints)
	}
	var text, page bytes.Buffer
	if err := TrendText(&text, trends); err != nil {
		t.Fatal(err)
	}
	if err := TrendHTML(&page, trends); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "trend.txt.golden", text.Bytes())
	golden.Check(t, "trend.html.golden", page.Bytes())
	for _, want := range []string{`class="change-point"`, `href="https://github.com/acme/cache/commit/c150000000"`, "minimum 3ms", "aspirational 1ms", `class="verdict st-fail"`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the trend page lacks %s", want)
		}
	}
}

// TestTrendPageRendersInChromium: the trend page builds a DOM with one
// titled chart per metric, its runs as links, and writes nothing to the
// console.
func TestTrendPageRendersInChromium(t *testing.T) {
	browser := chromium(t)
	var buf bytes.Buffer
	if err := TrendHTML(&buf, TrendsOf(trendHistory())); err != nil {
		t.Fatal(err)
	}
	doc := renderInChromium(t, browser, filepath.Join(t.TempDir(), "trend.html"), buf.Bytes())
	var charts, links, changePoints int
	walk(doc, func(n *html.Node) {
		switch {
		case n.Data == "svg":
			charts++
		case n.Data == "a":
			links++
		case n.Data == "line" && hasClass(n, "change-point"):
			changePoints++
		}
	})
	if charts != 1 || links != 14 || changePoints != 1 {
		t.Errorf("Chromium built %d charts (want 1), %d run links (want 14), %d change-point marks (want 1)", charts, links, changePoints)
	}
}
