package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
)

// TestJUnitDecodesBackWithTheResultsCounts decodes the XML again and checks
// that it holds one suite per component and one case per objective, each
// status mapped as documented.
func TestJUnitDecodesBackWithTheResultsCounts(t *testing.T) {
	for name, res := range fixtures(t) {
		t.Run(name+" result", func(t *testing.T) {
			var buf bytes.Buffer
			if err := JUnit(&buf, res); err != nil {
				t.Fatal(err)
			}
			var doc junitSuites
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("junit.xml does not decode: %v", err)
			}
			if len(doc.Suites) != len(res.Components) {
				t.Fatalf("%d suites, want one per component (%d)", len(doc.Suites), len(res.Components))
			}
			for i, c := range res.Components {
				suite := doc.Suites[i]
				var wantFailures, wantErrors, wantSkipped int
				wantTests := len(c.Objectives)
				if !res.Complete {
					wantTests++ // the "run completed" case
					wantErrors++
				}
				for _, o := range c.Objectives {
					unjudged := o.Status == status.Insufficient || o.Status == status.ClientBound
					switch {
					case o.Status == status.Fail:
						wantFailures++
					case unjudged && o.Tier == "aspirational":
						wantSkipped++
					case unjudged:
						wantErrors++
					case o.Status == status.Inconclusive && res.Verdict == status.VerdictPass:
						wantSkipped++
					case o.Status == status.Inconclusive:
						wantErrors++
					}
				}
				if suite.Name != c.Name || suite.Tests != wantTests || suite.Failures != wantFailures ||
					suite.Errors != wantErrors || suite.Skipped != wantSkipped {
					t.Errorf("suite %q: tests %d failures %d errors %d skipped %d, want %q: %d %d %d %d",
						suite.Name, suite.Tests, suite.Failures, suite.Errors, suite.Skipped,
						c.Name, wantTests, wantFailures, wantErrors, wantSkipped)
				}
				for _, tc := range suite.Cases {
					if tc.Classname != "tailgate."+c.Name {
						t.Errorf("case %q: classname %q, want %q", tc.Name, tc.Classname, "tailgate."+c.Name)
					}
					if tc.Failure != nil && (!strings.Contains(tc.Failure.Message, "measured") || !strings.Contains(tc.Failure.Message, "bar")) {
						t.Errorf("case %q: failure message %q should give the measured value and the bar", tc.Name, tc.Failure.Message)
					}
				}
			}
		})
	}
}

func TestJUnitNamesCasesByOperationMetricAndBar(t *testing.T) {
	var buf bytes.Buffer
	if err := JUnit(&buf, fixtures(t)["fail"]); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]junitCase{}
	for _, s := range doc.Suites {
		for _, tc := range s.Cases {
			names[tc.Name] = tc
		}
	}
	for name, check := range map[string]func(junitCase) bool{
		"get p99 <= 2ms (minimum)":              func(tc junitCase) bool { return tc.Failure != nil && tc.Failure.Type == "minimum" },
		"get p99 <= baseline +10% (regression)": func(tc junitCase) bool { return tc.Failure != nil && tc.Failure.Type == "regression" },
		"all throughput >= 99% (minimum)":       func(tc junitCase) bool { return tc.Failure == nil && tc.Error == nil },
		// A missed milestone passes, with a note.
		"get p99 <= 1ms (aspirational)": func(tc junitCase) bool {
			return tc.Failure == nil && tc.Error == nil && tc.Skipped == nil &&
				tc.SystemOut != nil && strings.Contains(tc.SystemOut.Text, "milestone missed")
		},
	} {
		tc, ok := names[name]
		if !ok {
			t.Errorf("no test case named %q among %v", name, keysOf(names))
			continue
		}
		if !check(tc) {
			t.Errorf("test case %q is not as expected: %+v", name, tc)
		}
	}
}

// TestJUnitFollowsTheCommonSchema checks the document against the rules of
// the JUnit schema CI tools read (Jenkins' junit-10.xsd): which elements may
// appear where and in which order, the required attributes and their types,
// and that every count agrees with the cases it counts.
func TestJUnitFollowsTheCommonSchema(t *testing.T) {
	results := map[string]*result.Result{}
	for name, res := range fixtures(t) {
		results[name] = res
	}
	results["hostile"] = hostileResult(t)
	for name, res := range results {
		t.Run(name+" result", func(t *testing.T) {
			var buf bytes.Buffer
			if err := JUnit(&buf, res); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
				t.Error("no XML declaration with UTF-8")
			}
			root, err := parseTree(buf.Bytes())
			if err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			for _, problem := range checkJUnitSchema(root) {
				t.Error(problem)
			}
		})
	}
}

// node is an element of a decoded XML document.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string
}

// parseTree decodes a whole document strictly: one root, nothing after it.
func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else if root != nil {
				return nil, fmt.Errorf("a second root element <%s>", n.name)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			} else if strings.TrimSpace(string(tok)) != "" {
				return nil, fmt.Errorf("text outside the root element: %q", tok)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

var (
	xsdDecimal   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	xsdTimestamp = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
)

// checkJUnitSchema lists every way the document breaks the schema.
func checkJUnitSchema(root *node) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	count := func(n *node, attr string, required bool) int {
		v, ok := n.attrs[attr]
		if !ok {
			if required {
				fail("<%s %q> lacks the required attribute %s", n.name, n.attrs["name"], attr)
			}
			return -1
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			fail("<%s %q> %s=%q is not a non-negative integer", n.name, n.attrs["name"], attr, v)
		}
		return i
	}
	decimal := func(n *node, attr string) {
		if v, ok := n.attrs[attr]; ok && !xsdDecimal.MatchString(v) {
			fail("<%s %q> %s=%q is not a decimal", n.name, n.attrs["name"], attr, v)
		}
	}
	// order checks children appear only as allowed, in the allowed order.
	order := func(n *node, allowed ...string) {
		at := 0
	next:
		for _, c := range n.children {
			for i := at; i < len(allowed); i++ {
				if c.name == allowed[i] {
					at = i
					continue next
				}
			}
			fail("<%s %q>: <%s> is not allowed there (allowed, in order: %v)", n.name, n.attrs["name"], c.name, allowed)
		}
	}
	one := func(n *node, names ...string) {
		seen := map[string]int{}
		for _, c := range n.children {
			seen[c.name]++
		}
		for _, name := range names {
			if seen[name] > 1 {
				fail("<%s %q> has %d <%s>, at most one is allowed", n.name, n.attrs["name"], seen[name], name)
			}
		}
	}

	if root.name != "testsuites" {
		return []string{fmt.Sprintf("root element is <%s>, want <testsuites>", root.name)}
	}
	order(root, "testsuite")
	decimal(root, "time")
	var tests, failures, errors, skipped int
	for _, suite := range root.children {
		if suite.attrs["name"] == "" {
			fail("a <testsuite> has no name")
		}
		order(suite, "properties", "testcase", "system-out", "system-err")
		one(suite, "properties", "system-out", "system-err")
		decimal(suite, "time")
		if ts, ok := suite.attrs["timestamp"]; ok && !xsdTimestamp.MatchString(ts) {
			fail("<testsuite %q> timestamp %q is not the schema's date and time", suite.attrs["name"], ts)
		}
		var cases, caseFailures, caseErrors, caseSkipped int
		for _, child := range suite.children {
			switch child.name {
			case "properties":
				order(child, "property")
				for _, p := range child.children {
					if _, ok := p.attrs["name"]; !ok {
						fail("<property> without a name")
					}
					if _, ok := p.attrs["value"]; !ok {
						fail("<property %q> without a value", p.attrs["name"])
					}
				}
			case "testcase":
				cases++
				if child.attrs["name"] == "" || child.attrs["classname"] == "" {
					fail("<testcase> needs a name and a classname: %v", child.attrs)
				}
				decimal(child, "time")
				order(child, "skipped", "error", "failure", "system-out", "system-err")
				one(child, "skipped", "system-out", "system-err")
				kinds := 0
				for _, k := range child.children {
					switch k.name {
					case "failure":
						caseFailures++
						kinds++
					case "error":
						caseErrors++
						kinds++
					case "skipped":
						caseSkipped++
						kinds++
					}
					if k.name == "failure" || k.name == "error" {
						if k.attrs["message"] == "" || k.attrs["type"] == "" {
							fail("<testcase %q>: <%s> needs a message and a type", child.attrs["name"], k.name)
						}
					}
				}
				if kinds > 1 {
					fail("<testcase %q> is more than one of failure, error and skipped", child.attrs["name"])
				}
			}
		}
		if got := count(suite, "tests", true); got != cases {
			fail("<testsuite %q> tests=%d, but it holds %d cases", suite.attrs["name"], got, cases)
		}
		if got := count(suite, "failures", true); got != caseFailures {
			fail("<testsuite %q> failures=%d, but %d cases failed", suite.attrs["name"], got, caseFailures)
		}
		if got := count(suite, "errors", true); got != caseErrors {
			fail("<testsuite %q> errors=%d, but %d cases erred", suite.attrs["name"], got, caseErrors)
		}
		if got := count(suite, "skipped", false); got != caseSkipped && got != -1 {
			fail("<testsuite %q> skipped=%d, but %d cases were skipped", suite.attrs["name"], got, caseSkipped)
		}
		tests, failures, errors, skipped = tests+cases, failures+caseFailures, errors+caseErrors, skipped+caseSkipped
	}
	for attr, want := range map[string]int{"tests": tests, "failures": failures, "errors": errors, "skipped": skipped} {
		if got := count(root, attr, false); got != want && got != -1 {
			fail("<testsuites> %s=%d, but its suites add up to %d", attr, got, want)
		}
	}
	return problems
}

// TestJUnitKeepsHostileTextWellFormed feeds names and messages with markup,
// control characters and a CDATA terminator through the XML.
func TestJUnitKeepsHostileTextWellFormed(t *testing.T) {
	res := hostileResult(t)
	var buf bytes.Buffer
	if err := JUnit(&buf, res); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not decode: %v\n%s", err, buf.String())
	}
	if got, want := doc.Suites[0].Name, res.Components[0].Name; got != want {
		t.Errorf("suite name %q, want %q back", got, want)
	}
	body := doc.Suites[0].Cases[0].Error.Text
	if !strings.Contains(body, "]]>") || !strings.Contains(body, "\uFFFD") {
		t.Errorf("the first error should come back with its ]]> and its control character replaced: %q", body)
	}
}

// TestJUnitSchemaCheckCatchesBrokenDocuments makes sure the schema check
// above is not vacuous.
func TestJUnitSchemaCheckCatchesBrokenDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"a count that disagrees": `<testsuites><testsuite name="a" tests="2" failures="0" errors="0"><testcase name="x" classname="c"/></testsuite></testsuites>`,
		"children out of order": `<testsuites><testsuite name="a" tests="1" failures="1" errors="1">` +
			`<testcase name="x" classname="c"><failure message="m" type="t"/><error message="m" type="t"/></testcase></testsuite></testsuites>`,
		"a case without classname": `<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x"/></testsuite></testsuites>`,
		"a failure without message": `<testsuites><testsuite name="a" tests="1" failures="1" errors="0">` +
			`<testcase name="x" classname="c"><failure type="t"/></testcase></testsuite></testsuites>`,
		"a bad timestamp": `<testsuites><testsuite name="a" tests="0" failures="0" errors="0" timestamp="yesterday"></testsuite></testsuites>`,
		"the wrong root":  `<testsuite name="a" tests="0" failures="0" errors="0"></testsuite>`,
	} {
		t.Run(name, func(t *testing.T) {
			root, err := parseTree([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if problems := checkJUnitSchema(root); len(problems) == 0 {
				t.Errorf("no problem found in %s", doc)
			}
		})
	}
}
