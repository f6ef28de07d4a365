package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// shotsEnv names a directory the layout test also writes its screenshots
// to (pass, fail, regression, and the fail page 800 px wide), for a person
// to look at.
const shotsEnv = "TAILGATE_REPORT_SHOTS"

// layoutProbe measures the rendered page in the browser: every pair of
// chart labels (bar labels and legend entries) whose boxes overlap, every
// curve of a percentile chart that runs through a label, every Status cell
// outside the window, and how wide the page is against the window.
const layoutProbe = `<script>
(function () {
  function hits(p, q, b) {
    // Liang-Barsky: does segment p-q cross box b?
    var t0 = 0, t1 = 1, dx = q[0] - p[0], dy = q[1] - p[1];
    var edges = [[-dx, p[0] - b.x], [dx, b.x + b.w - p[0]], [-dy, p[1] - b.y], [dy, b.y + b.h - p[1]]];
    for (var i = 0; i < 4; i++) {
      var e = edges[i][0], f = edges[i][1];
      if (e === 0) { if (f < 0) return false; continue; }
      var r = f / e;
      if (e < 0) { if (r > t1) return false; if (r > t0) t0 = r; }
      else { if (r < t0) return false; if (r < t1) t1 = r; }
    }
    return true;
  }
  var out = {overlaps: [], crossings: [], statusOutside: [], labels: 0, statusCells: 0,
    innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth};
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var boxes = [];
    svg.querySelectorAll('text.bar-label, text.legend').forEach(function (t) {
      var b = t.getBBox();
      boxes.push({x: b.x, y: b.y, w: b.width, h: b.height, text: t.textContent});
    });
    out.labels += boxes.length;
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], b = boxes[j];
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) out.overlaps.push(svg.id + ': "' + a.text + '" and "' + b.text + '"');
    }
    if (!svg.classList.contains('spectrum')) return;
    svg.querySelectorAll('polyline.curve, polyline.baseline').forEach(function (pl) {
      var pts = pl.getAttribute('points').trim().split(/\s+/).map(function (s) { return s.split(',').map(Number); });
      boxes.forEach(function (b) {
        for (var k = 1; k < pts.length; k++) if (hits(pts[k - 1], pts[k], b)) {
          out.crossings.push(svg.id + ': curve "' + pl.textContent + '" runs through "' + b.text + '"'); return;
        }
      });
    });
  });
  document.querySelectorAll('td.status').forEach(function (td) {
    out.statusCells++;
    var r = td.getBoundingClientRect();
    if (r.left < 0 || r.right > window.innerWidth + 0.5) out.statusOutside.push(td.textContent + ' spans ' + r.left + ' to ' + r.right);
  });
  document.body.setAttribute('data-layout', JSON.stringify(out));
})();
</script>`

type layoutReport struct {
	Overlaps, Crossings, StatusOutside []string
	Labels, StatusCells                int
	InnerWidth, ScrollWidth            float64
}

var cspMeta = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>`)

// measureLayout renders page at the given window width and runs the probe
// on it (in a copy without the page's script ban).
func measureLayout(t *testing.T, browser string, page []byte, width string) layoutReport {
	t.Helper()
	probed := cspMeta.ReplaceAll(page, nil)
	probed = bytes.Replace(probed, []byte("</body>"), []byte(layoutProbe+"</body>"), 1)
	file := filepath.Join(t.TempDir(), "probe.html")
	if err := os.WriteFile(file, probed, 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := runChromium(t, browser, "--window-size="+width+",1000", "--dump-dom", fileURL(file))
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	walk(doc, func(n *html.Node) {
		if n.Data == "body" {
			for _, a := range n.Attr {
				if a.Key == "data-layout" {
					raw = a.Val
				}
			}
		}
	})
	if raw == "" {
		t.Fatalf("the layout probe did not run at width %s", width)
	}
	var r layoutReport
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("layout probe: %v: %s", err, raw)
	}
	return r
}

// crowdedResult is the fail fixture with the bars the issue saw collide:
// get p99.9 and set max both at 100ms, and more bars on one line.
func crowdedResult(t *testing.T) *result.Result {
	res := clone(t, fixtures(t)["fail"])
	c := &res.Components[0]
	c.Objectives = append(c.Objectives,
		judgeLatency(t, c, slo.TierMinimum, "set", slo.MetricMax, "100ms", 20),
		judgeLatency(t, c, slo.TierAspirational, "get", slo.MetricMax, "100ms", 23),
		judgeLatency(t, c, slo.TierAspirational, "set", slo.MetricP999, "3ms", 24),
		judgeLatency(t, c, slo.TierAspirational, "get", slo.MetricP999, "3ms", 24),
	)
	for i := range c.Objectives {
		if c.Objectives[i].Operation == "get" && c.Objectives[i].Metric == "p99.9" && c.Objectives[i].Tier == "minimum" {
			c.Objectives[i] = judgeLatency(t, c, slo.TierMinimum, "get", slo.MetricP999, "100ms", 17)
		}
	}
	return res
}

// regressionResult is the fail fixture where only the regression failed.
func regressionResult(t *testing.T) *result.Result {
	res := clone(t, fixtures(t)["fail"])
	for ci := range res.Components {
		c := &res.Components[ci]
		var kept []status.ObjectiveResult
		for _, o := range c.Objectives {
			if o.Status == status.Fail && !isRegression(o) {
				continue
			}
			kept = append(kept, o)
		}
		c.Objectives = kept
	}
	return res
}

func TestHTMLLayoutInChromium(t *testing.T) {
	browser := chromium(t)
	shots := os.Getenv(shotsEnv)
	// Each page is rendered once, and measured at each of its widths.
	page := func(res *result.Result, baseline bool) []byte {
		var base *result.Result
		if baseline {
			base = fixtureBaseline(t)
		}
		var buf bytes.Buffer
		if err := HTMLWithBaseline(&buf, res, base); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	fail, crowded := page(fixtures(t)["fail"], true), page(crowdedResult(t), true)
	pages := []struct {
		name  string
		html  []byte
		width string
	}{
		{"pass", page(fixtures(t)["pass"], false), "1280"},
		{"fail", fail, "1280"},
		{"regression", page(regressionResult(t), true), "1280"},
		{"crowded", crowded, "1280"},
		{"fail-800px", fail, "800"},
		{"crowded-800px", crowded, "800"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			r := measureLayout(t, browser, p.html, p.width)
			if r.Labels == 0 || r.StatusCells == 0 {
				t.Fatalf("the probe found %d chart labels and %d Status cells: it measured nothing", r.Labels, r.StatusCells)
			}
			for _, o := range r.Overlaps {
				t.Errorf("labels overlap: %s", o)
			}
			for _, c := range r.Crossings {
				t.Errorf("%s", c)
			}
			for _, s := range r.StatusOutside {
				t.Errorf("a Status cell is outside the %v px window: %s", r.InnerWidth, s)
			}
			if r.ScrollWidth > r.InnerWidth {
				t.Errorf("the page is %v px wide in a %v px window: something overflows", r.ScrollWidth, r.InnerWidth)
			}
			if shots != "" {
				shot := filepath.Join(shots, p.name+".png")
				runChromium(t, browser, "--screenshot="+shot, "--window-size="+p.width+",2400", fileURL(writePage(t, p.html)))
				t.Logf("screenshot written to %s", shot)
			}
		})
	}
}

func writePage(t *testing.T, page []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), HTMLFile)
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
