package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// The JUnit document, in the common schema CI test views read (Jenkins'
// junit-10.xsd, which GitHub, GitLab and most others follow): element order
// within a test case is skipped, error, failure, system-out.
type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Name    string   `xml:"name,attr"`
	junitCounts
	Suites []junitSuite `xml:"testsuite"`
}

// junitCounts are the case counts and the time a suite, and the document,
// carry as attributes.
type junitCounts struct {
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

// add counts another's cases in too; the time stays.
func (c *junitCounts) add(o junitCounts) {
	c.Tests += o.Tests
	c.Failures += o.Failures
	c.Errors += o.Errors
	c.Skipped += o.Skipped
}

type junitSuite struct {
	Name string `xml:"name,attr"`
	junitCounts
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
	SystemOut *junitOutput  `xml:"system-out"`
}

// junitOutput is free text kept as CDATA, so its lines read as written.
type junitOutput struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// JUnit writes the verdict as JUnit XML, so CI test views list every
// objective: one test suite per component and one test case per objective.
// A failed bar is a failure; a bar that could not be judged (too few
// samples, client-bound, inconclusive unless the plan lets it through) or a
// run that did not complete is an error, and so is a verdict other than pass
// with no failed or erring case (nothing judged); an aspirational
// milestone passes either way, with a note when it was missed, and is
// skipped when it could not be judged.
func JUnit(w io.Writer, res *result.Result) error {
	doc := junitSuites{Name: "tailgate", junitCounts: junitCounts{Time: seconds(res.MeasuredNS)}}
	for ci := range res.Components {
		c := &res.Components[ci]
		suite := junitSuite{
			Name: c.Name, junitCounts: junitCounts{Time: seconds(res.MeasuredNS)}, Properties: junitProperties(res, c),
		}
		if !res.StartedAt.IsZero() {
			// The schema's timestamp has no zone; it is UTC.
			suite.Timestamp = res.StartedAt.UTC().Format("2006-01-02T15:04:05")
		}
		if !res.Complete {
			suite.Cases = append(suite.Cases, incompleteCase(res, c))
		}
		for _, o := range c.Objectives {
			suite.Cases = append(suite.Cases, objectiveCase(c, o, res.Verdict))
		}
		for _, tc := range suite.Cases {
			suite.Tests++
			switch {
			case tc.Failure != nil:
				suite.Failures++
			case tc.Error != nil:
				suite.Errors++
			case tc.Skipped != nil:
				suite.Skipped++
			}
		}
		doc.add(suite.junitCounts)
		doc.Suites = append(doc.Suites, suite)
	}
	if res.Verdict != status.VerdictPass && doc.Failures+doc.Errors == 0 && len(doc.Suites) > 0 {
		// Nothing judged, or judged but not a pass without a failed case:
		// the verdict itself is the error, so no CI view shows it green.
		s := &doc.Suites[0]
		s.Cases = append(s.Cases, junitCase{Name: "verdict", Classname: "tailgate." + s.Name, Time: "0",
			Error: &junitProblem{Message: headline(res), Type: string(res.Verdict), Text: xmlText(strings.Join(res.Warnings, "\n"))}})
		one := junitCounts{Tests: 1, Errors: 1}
		s.add(one)
		doc.add(one)
	}
	ew := &errWriter{w: w}
	ew.printf("%s", xml.Header)
	enc := xml.NewEncoder(ew)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	ew.printf("\n")
	return ew.err
}

// seconds prints a duration in the schema's decimal seconds.
func seconds(ns int64) string {
	return fmt.Sprintf("%.3f", float64(ns)/1e9)
}

func junitProperties(res *result.Result, c *result.ComponentResult) []junitProperty {
	props := []junitProperty{
		{"verdict", string(res.Verdict)},
		{"target", c.Target},
		{"protocol", c.Protocol},
		{"embedded", fmt.Sprint(c.Embedded)},
		{"seed", fmt.Sprint(res.Seed)},
		{"measured", Latency(res.MeasuredNS)},
		{"warmup", Latency(res.WarmupNS)},
		{"workload_hash", c.WorkloadHash},
	}
	if res.Plan != "" {
		props = append(props, junitProperty{"plan", res.Plan})
	}
	if res.Baseline != nil {
		props = append(props, junitProperty{"baseline", res.Baseline.File})
	}
	if res.Tool != "" {
		props = append(props, junitProperty{"tool", res.Tool})
	}
	if f := FloorText(res, c); f != "" {
		props = append(props, junitProperty{"measurement_floor", f})
	}
	return props
}

// incompleteCase is the test case that makes an incomplete run an error in
// each component's suite, with the component's first errors.
func incompleteCase(res *result.Result, c *result.ComponentResult) junitCase {
	msg := "the run did not complete"
	if res.Incomplete != "" {
		msg += ": " + res.Incomplete
	}
	var body strings.Builder
	fmt.Fprintf(&body, "%s\ntarget: %s\n", msg, c.Target)
	for _, kind := range sortedKeys(c.FirstErrors) {
		s := c.FirstErrors[kind]
		fmt.Fprintf(&body, "first %s error at %s: %s\n", kind, slo.FormatDuration(time.Duration(s.AtNS)), s.Message)
	}
	if all := c.Operation(slo.AllOperations); all != nil && len(all.ErrorKinds) > 0 {
		fmt.Fprintf(&body, "errors: %s\n", ErrorsText(all))
	}
	return junitCase{
		Name: "run completed", Classname: "tailgate." + c.Name, Time: seconds(res.MeasuredNS),
		Error: &junitProblem{Message: msg, Type: "incomplete", Text: xmlText(strings.TrimSuffix(body.String(), "\n"))},
	}
}

// objectiveCase is one objective's test case.
func objectiveCase(c *result.ComponentResult, o status.ObjectiveResult, verdict status.Verdict) junitCase {
	tc := junitCase{Name: objectiveName(o), Classname: "tailgate." + c.Name, Time: "0"}
	measured := "measured " + o.Measured + ", bar " + barExpression(o, "<=", ">=")
	var details []string
	if change := changeText(o); change != "" {
		details = append(details, "change: "+change)
	}
	if interval := intervalText(o); interval != "" {
		details = append(details, "95% confidence interval: "+interval)
	}
	if note := intervalNote(o); note != "" {
		details = append(details, note)
	}
	if o.PValue > 0 {
		details = append(details, fmt.Sprintf("p-value: %.3g", o.PValue))
	}
	if o.Detail != "" {
		details = append(details, o.Detail)
	}
	if o.Line > 0 {
		details = append(details, fmt.Sprintf("objective at plan line %d, column %d", o.Line, o.Column))
	}
	body := strings.Join(append([]string{measured}, details...), "\n")
	aspirational := o.Tier == string(slo.TierAspirational)
	var out string
	switch {
	case o.Status == status.Fail:
		tc.Failure = &junitProblem{Message: measured + ": " + shortfall(o), Type: o.Tier, Text: xmlText(body)}
	case (o.Status == status.Insufficient || o.Status == status.ClientBound) && aspirational:
		tc.Skipped = &junitSkipped{Message: "not judged: " + o.Detail}
	case o.Status == status.Insufficient || o.Status == status.ClientBound:
		tc.Error = &junitProblem{Message: "not judged: " + o.Detail, Type: string(o.Status), Text: xmlText(body)}
	case o.Status == status.Inconclusive && verdict == status.VerdictPass:
		// The plan lets inconclusive objectives through (defaults.inconclusive: pass).
		tc.Skipped = &junitSkipped{Message: "inconclusive, let through by the plan: " + o.Detail}
	case o.Status == status.Inconclusive:
		tc.Error = &junitProblem{Message: "inconclusive: " + changeText(o), Type: "inconclusive", Text: xmlText(body)}
	case o.Status == status.Missed:
		out = "aspirational milestone missed, which does not fail the gate: " + measured
		if o.Detail == "" {
			out += " (" + shortfall(o) + ")"
		}
		out = strings.Join(append([]string{out}, details...), "\n")
	case o.Status == status.Met:
		out = "aspirational milestone met (tailgate promote can make it the new minimum): " + body
	case o.Status == status.NoChange:
		out = "no change beyond noise: " + body
	default:
		out = body
	}
	if out != "" {
		tc.SystemOut = &junitOutput{xmlText(out)}
	}
	return tc
}

// xmlText makes text fit for CDATA: every character XML 1.0 forbids (most
// control characters, invalid UTF-8) becomes U+FFFD. Attributes need no
// such care: encoding/xml replaces them itself.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF && r != utf8.RuneError,
			r >= 0xE000 && r <= 0xFFFD && r != utf8.RuneError,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
