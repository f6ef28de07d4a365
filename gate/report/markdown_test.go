package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/result"
)

func markdownOf(t *testing.T, res *result.Result) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Markdown(&buf, res); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMarkdownAdvisesWhatFitsTheVerdict(t *testing.T) {
	for _, tc := range []struct {
		fixture, first string
		want           []string
	}{
		{"fail", "### tailgate: **FAIL** — 3 of 10 objectives failed", []string{
			"Fix 3 failed objectives", "% over the bar)", "+2.2% over the bar; bar within the interval)",
			"The bar of **session-cache set p99** lies within the 95% confidence interval", "+10% allowed (regression)", "`tailgate compare BASELINE RESULT`"}},
		{"error", "### tailgate: **ERROR** — the run did not complete", []string{
			"The run did not complete", "first connect error at 1.1s: `dial tcp 10.0.0.7:6379: connect: connection refused`",
			"too few samples", "`--duration`"}},
		{"pass", "### tailgate: **PASS** — all 3 required objectives passed", []string{
			"1 aspirational milestone is still missed", "`tailgate promote -c perf/plan.yaml RESULT --write`",
			"embedded in-process server"}},
	} {
		t.Run(tc.fixture+" result", func(t *testing.T) {
			md := markdownOf(t, fixtures(t)[tc.fixture])
			if !strings.HasPrefix(md, tc.first) {
				t.Errorf("first line is %q, want it to start %q", strings.SplitN(md, "\n", 2)[0], tc.first)
			}
			for _, want := range tc.want {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q", want)
				}
			}
		})
	}
}

// TestMarkdownPutsFailuresFirst checks the objectives table's order.
func TestMarkdownPutsFailuresFirst(t *testing.T) {
	md := markdownOf(t, fixtures(t)["fail"])
	var statuses []string
	for _, line := range strings.Split(md, "\n") {
		if cells := tableCells(line); len(cells) == 7 && cells[0] != "Component" && !strings.HasPrefix(cells[0], "---") {
			statuses = append(statuses, cells[6])
		}
	}
	seenOther := false
	for _, s := range statuses {
		failed := strings.HasPrefix(s, "**FAIL**")
		if failed && seenOther {
			t.Fatalf("a failure comes after another status: %v", statuses)
		}
		seenOther = seenOther || !failed
	}
	if len(statuses) != 10 || !strings.HasPrefix(statuses[0], "**FAIL**") {
		t.Errorf("want 10 rows, failures first; got %v", statuses)
	}
}

// tableCells splits a Markdown table row on its unescaped pipes.
func tableCells(line string) []string {
	if !strings.HasPrefix(line, "|") {
		return nil
	}
	var cells []string
	var cell strings.Builder
	for i := 1; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			cell.WriteByte(line[i])
			cell.WriteByte(line[i+1])
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	return cells
}

// TestMarkdownEscapesValues renders names and messages full of Markdown
// and HTML: tables keep their columns and nothing becomes markup.
func TestMarkdownEscapesValues(t *testing.T) {
	md := markdownOf(t, hostileResult(t))
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		if n := len(tableCells(line)); n != 7 && n != 9 {
			t.Errorf("table row has %d cells, want 7 (objectives) or 9 (measurements): %s", n, line)
		}
	}
	// Code spans show their text as is; everywhere else markup must be escaped.
	text := withoutCodeSpans(md)
	for _, raw := range []string{"<script>", "<b>", "<i>", "<img", "[x](y)", "*boom*", "\n# not a heading", "\n- not a list", "\x00"} {
		if containsUnescaped(text, raw) {
			t.Errorf("%q reaches the Markdown unescaped", raw)
		}
	}
	for _, want := range []string{
		`cache\<\&\>"\|\*\_\[x\](y)`,                           // the component in a table and a list
		"`` bad ]]> \uFFFD\uFFFD <b>@team</b> | $x$ `tick` ``", // a first error, in a code span longer than its backticks
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestMarkdownStaysShortForAPullRequest renders a result with many failed
// objectives: the advice lists a few and says how many more there are.
func TestMarkdownStaysShortForAPullRequest(t *testing.T) {
	res := clone(t, fixtures(t)["fail"])
	c := &res.Components[0]
	failed := c.Objectives[0]
	for i := 0; i < 40; i++ {
		o := failed
		o.Threshold = fmt.Sprintf("%dus", 100+i)
		c.Objectives = append(c.Objectives, o)
	}
	md := markdownOf(t, res)
	if !strings.Contains(md, "- and 33 more, in the table above.") {
		t.Error("the list of failures is not cut short")
	}
	for name, res := range fixtures(t) {
		if n := len(markdownOf(t, res)); n > 8000 {
			t.Errorf("the %s report is %d bytes, too long for a comment", name, n)
		}
	}
}

// withoutCodeSpans removes Markdown code spans: a run of backticks up to the
// next run of the same length.
func withoutCodeSpans(md string) string {
	var out strings.Builder
	for i := 0; i < len(md); {
		if md[i] != '`' {
			out.WriteByte(md[i])
			i++
			continue
		}
		n := 0
		for i+n < len(md) && md[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := strings.Index(md[i+n:], fence)
		for end >= 0 && i+n+end+n < len(md) && md[i+n+end+n] == '`' {
			next := strings.Index(md[i+n+end+n:], fence)
			if next < 0 {
				end = -1
				break
			}
			end += n + next
		}
		if end < 0 {
			out.WriteString(fence)
			i += n
			continue
		}
		i += n + end + n
	}
	return out.String()
}

// containsUnescaped reports whether s holds sub other than right after a
// backslash.
func containsUnescaped(s, sub string) bool {
	for i := 0; ; {
		at := strings.Index(s[i:], sub)
		if at < 0 {
			return false
		}
		if at+i == 0 || s[at+i-1] != '\\' {
			return true
		}
		i += at + 1
	}
}
