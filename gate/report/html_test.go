package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
)

func htmlOf(t *testing.T, res, baseline *result.Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := HTMLWithBaseline(&buf, res, baseline); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var renderedFixtures sync.Map

// fixtureHTML is a fixture's page, rendered once for the tests that only
// read it; with baseline, the fail fixture's is drawn in.
func fixtureHTML(t *testing.T, name string, withBaseline bool) []byte {
	t.Helper()
	key := fmt.Sprint(name, withBaseline)
	if page, ok := renderedFixtures.Load(key); ok {
		return page.([]byte)
	}
	var baseline *result.Result
	if withBaseline {
		baseline = fixtureBaseline(t)
	}
	page := htmlOf(t, fixtures(t)[name], baseline)
	renderedFixtures.Store(key, page)
	return page
}

// voidElements never have an end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// checkBalanced walks the tokens: every element is closed, in order, and
// nothing is left open, so browsers need no error recovery.
func checkBalanced(t *testing.T, page []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	var stack []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizing: %v", z.Err())
			}
			if len(stack) > 0 {
				t.Errorf("elements left open at the end: %v", stack)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("</%s> closes nothing open (open: %v)", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// walk calls visit on every element of the tree.
func walk(n *html.Node, visit func(*html.Node)) {
	if n.Type == html.ElementNode {
		visit(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

// TestHTMLIsOneSelfContainedAccessiblePage parses every fixture's page and
// checks its structure: a title and headings, one spectrum chart per
// component, a waterfall per operation and a throughput chart, every chart
// titled, and nothing loaded from anywhere.
func TestHTMLIsOneSelfContainedAccessiblePage(t *testing.T) {
	results := map[string]*result.Result{"hostile": hostileResult(t)}
	for name, res := range fixtures(t) {
		results[name] = res
	}
	for name, res := range results {
		t.Run(name+" result", func(t *testing.T) {
			var page []byte
			if name == "hostile" {
				page = htmlOf(t, res, nil)
			} else {
				page = fixtureHTML(t, name, name == "fail")
			}
			checkBalanced(t, page)
			doc, err := html.Parse(bytes.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			var title, h1 string
			var spectra, waterfalls, throughputs, h2s int
			var csp bool
			forbidden := map[string]bool{"script": true, "link": true, "iframe": true, "img": true, "object": true,
				"embed": true, "base": true, "audio": true, "video": true, "source": true, "image": true, "use": true, "foreignObject": true}
			walk(doc, func(n *html.Node) {
				switch n.Data {
				case "title":
					if n.Parent.Data == "head" {
						title = textOf(n)
					}
				case "h1":
					h1 = textOf(n)
				case "h2":
					h2s++
				case "meta":
					csp = csp || attr(n, "http-equiv") == "Content-Security-Policy"
				case "style":
					if css := textOf(n); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
						t.Error("the style sheet loads something")
					}
				case "svg":
					switch {
					case hasClass(n, "spectrum"):
						spectra++
					case hasClass(n, "heatmap"):
						waterfalls++
					case hasClass(n, "throughput"):
						throughputs++
					}
					first := n.FirstChild
					if first == nil || first.Data != "title" || strings.TrimSpace(textOf(first)) == "" || attr(n, "role") != "img" {
						t.Errorf("chart %q is not an image with a title first", attr(n, "id"))
					}
				}
				if forbidden[n.Data] {
					t.Errorf("page has a <%s> element", n.Data)
				}
				for _, a := range n.Attr {
					key := strings.ToLower(a.Key)
					val := strings.ToLower(strings.TrimSpace(a.Val))
					if strings.HasPrefix(val, "http://") || strings.HasPrefix(val, "https://") || strings.HasPrefix(val, "//") {
						t.Errorf("<%s %s=%q> points to a network resource", n.Data, a.Key, a.Val)
					}
					switch {
					case key == "src" || key == "srcset" || key == "action" || key == "poster" || key == "data" || key == "xmlns":
						t.Errorf("<%s> has a %s attribute", n.Data, a.Key)
					case key == "href" || strings.HasSuffix(key, ":href"):
						if !strings.HasPrefix(val, "#") {
							t.Errorf("<%s %s=%q> links outside the page", n.Data, a.Key, a.Val)
						}
					case strings.HasPrefix(key, "on"):
						t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
					case key == "style" && strings.Contains(val, "url("):
						t.Errorf("<%s> style loads something", n.Data)
					}
				}
			})
			if !strings.HasPrefix(title, "tailgate "+verdictWord(res)) {
				t.Errorf("title %q should start with the verdict", title)
			}
			if strings.TrimSpace(h1) != verdictWord(res) {
				t.Errorf("h1 %q, want the verdict %q", h1, verdictWord(res))
			}
			if !csp {
				t.Error("no Content-Security-Policy that forbids loading")
			}
			wantWaterfalls := 0
			for i := range res.Components {
				wantWaterfalls += len(waterfallOperations(&res.Components[i]))
			}
			if spectra != len(res.Components) || throughputs != len(res.Components) || waterfalls != wantWaterfalls {
				t.Errorf("%d spectra, %d throughput charts, %d waterfalls; want %d, %d, %d",
					spectra, throughputs, waterfalls, len(res.Components), len(res.Components), wantWaterfalls)
			}
			if h2s != len(res.Components)+1 {
				t.Errorf("%d h2 headings, want one for the run and one per component (%d)", h2s, len(res.Components)+1)
			}
		})
	}
}

func TestHTMLBannerColourFollowsTheVerdict(t *testing.T) {
	for name, res := range fixtures(t) {
		page := string(fixtureHTML(t, name, false))
		want := `class="banner verdict-` + string(res.Verdict) + `"`
		if !strings.Contains(page, want) {
			t.Errorf("%s page lacks %s", name, want)
		}
	}
}

func TestHTMLSaysWhenAComponentRanEmbedded(t *testing.T) {
	page := string(fixtureHTML(t, "pass", false))
	for _, want := range []string{"EMBEDDED in-process server, not a deployment", `<span class="badge embedded">embedded server</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(string(fixtureHTML(t, "fail", false)), "EMBEDDED") {
		t.Error("a deployment is flagged as embedded")
	}
}

// TestHTMLIsDeterministic renders twice, and again from a copy read back
// from JSON: the bytes must not change, so a saved result renders the same.
func TestHTMLIsDeterministic(t *testing.T) {
	for name, res := range fixtures(t) {
		first := fixtureHTML(t, name, false)
		if second := htmlOf(t, res, nil); !bytes.Equal(first, second) {
			t.Errorf("%s: two renderings differ", name)
		}
		if again := htmlOf(t, clone(t, res), nil); !bytes.Equal(first, again) {
			t.Errorf("%s: the rendering of the result read back differs", name)
		}
	}
}

func TestHTMLGolden(t *testing.T) {
	golden.Check(t, "error.html.golden", fixtureHTML(t, "error", false))
}

func TestHTMLOverlaysTheBaselineSpectrum(t *testing.T) {
	res := fixtures(t)["fail"]
	with := string(fixtureHTML(t, "fail", true))
	want := 0
	for i := range res.Components {
		want += len(operationsToPlot(&res.Components[i]))
	}
	if got := strings.Count(with, `class="baseline"`); got != want {
		t.Errorf("%d baseline lines, want one per plotted operation (%d)", got, want)
	}
	if without := string(fixtureHTML(t, "fail", false)); strings.Contains(without, `class="baseline"`) {
		t.Error("HTML without a baseline draws one")
	}
	var buf bytes.Buffer
	if err := HTML(&buf, res); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), fixtureHTML(t, "fail", false)) {
		t.Error("HTML differs from HTMLWithBaseline with no baseline")
	}
}

func TestHTMLEscapesValues(t *testing.T) {
	res := hostileResult(t)
	page := htmlOf(t, res, nil)
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	walk(doc, func(n *html.Node) {
		if n.Data == "h2" && strings.Contains(textOf(n), res.Components[0].Name) {
			found = true
		}
		if n.Data == "script" || n.Data == "b" || n.Data == "i" || n.Data == "img" {
			t.Errorf("a value became a <%s> element", n.Data)
		}
	})
	if !found {
		t.Errorf("no heading shows the component's name %q as text", res.Components[0].Name)
	}
}

// TestSpectrumPlacesBarsAndPercentiles checks the chart's geometry where a
// mistake would mislead: the nines axis and a bar's height.
func TestSpectrumPlacesBarsAndPercentiles(t *testing.T) {
	xs := scale{lo: minNines, hi: maxNines, from: 0, to: 100}
	for _, tc := range []struct {
		metric string
		want   float64
	}{{"p50", 0}, {"p99", (2 - minNines) / (maxNines - minNines) * 100}, {"max", 100}} {
		if got := xs.at(metricNines(tc.metric)); got < tc.want-1e-6 || got > tc.want+1e-6 {
			t.Errorf("%s at x %.3f, want %.3f", tc.metric, got, tc.want)
		}
	}
	lo, hi, ticks := logBounds(430e3, 17e6)
	if lo != 200e3 || hi != 20e6 {
		t.Errorf("bounds of 430us..17ms: %v..%v, want 200us..20ms", lo, hi)
	}
	if len(ticks) == 0 || ticks[0] != 1e6 && ticks[0] != 200e3 {
		t.Errorf("ticks %v", ticks)
	}
	// A wide axis labels its ends when they are clear of the powers of ten.
	if lo, hi, ticks := logBounds(250e3, 206e6); lo != 200e3 || hi != 500e6 || fmt.Sprint(ticks) != fmt.Sprint([]float64{200e3, 1e6, 1e7, 1e8, 500e6}) {
		t.Errorf("bounds of 250us..206ms: %v..%v, ticks %v; want 200us..500ms with both ends labelled", lo, hi, ticks)
	}
	ys := scale{lo: 1e3, hi: 1e6, from: 300, to: 0, logarithms: true}
	if got := ys.at(1e4); got < 199.9 || got > 200.1 {
		t.Errorf("10us on a 1us..1ms log axis at %.2f, want 200", got)
	}
}

// TestWaterfallDrawsTheMeasurementFloorWhereTheResultHasOne: with each
// interval's client delays and the runner's wake-ups recorded, the
// waterfall draws the floor per interval, keyed in its legend and said in
// its description, at the height the gate reads (client delay p99 plus
// wake-up p99); without them, none.
func TestWaterfallDrawsTheMeasurementFloorWhereTheResultHasOne(t *testing.T) {
	c := makeComponent(t, 7, "cache", "redis://127.0.0.1:6379", "redis", 20,
		opSpec{name: "get", perSecond: 500, latency: logNormal(time.Millisecond, 0.4)})
	op := c.Operation("get")
	hists, err := op.IntervalHistograms()
	require.NoError(t, err)
	withFloor := *op
	withFloor.Intervals = slices.Clone(op.Intervals)
	runner := fixtureRunner()
	for i, h := range hists {
		client, wake := result.NewHistogram(), result.NewHistogram()
		for _, b := range stats.Buckets(h) {
			if b.Count > 0 {
				// tailgate sent a tenth of each latency late
				require.NoError(t, client.RecordValues(max((b.Lo+b.Hi)/2/10, 1), b.Count))
			}
		}
		for range 500 {
			record(t, wake, int64(20_000+i*1_000))
		}
		withFloor.Intervals[i].ClientDelayHistogram = encode(t, client)
		runner.Intervals = append(runner.Intervals, result.RunnerInterval{OffsetNS: int64(i) * fixtureInterval, WakeupHistogram: encode(t, wake)})
	}
	measured := int64(20) * fixtureInterval
	chart, err := heatmapChart("w", "cache", &withFloor, nil, runner, fixtureInterval, measured)
	require.NoError(t, err)
	assert.Contains(t, string(chart), `class="floor"`)
	assert.Contains(t, string(chart), ">measurement floor<")
	assert.Contains(t, string(chart), "measurement floor: how late tailgate itself was at p99")

	cols, err := columnsOf(&withFloor, fixtureInterval, measured, false)
	require.NoError(t, err)
	floors := floorsOf(&withFloor, runner, cols)
	require.Len(t, floors, 20)
	client, err := withFloor.IntervalClientDelay(3)
	require.NoError(t, err)
	wake, err := runner.IntervalWakeup(3)
	require.NoError(t, err)
	assert.Equal(t, float64(client.ValueAtPercentile(99)+wake.ValueAtPercentile(99)), floors[3], "interval 4's floor")

	for name, args := range map[string]struct {
		op     *result.OperationResult
		runner *result.Runner
	}{"no interval client delays": {op, runner}, "no runner": {&withFloor, nil}} {
		chart, err := heatmapChart("w", "cache", args.op, nil, args.runner, fixtureInterval, measured)
		require.NoError(t, err)
		assert.NotContains(t, string(chart), `class="floor"`, name)
	}
}
