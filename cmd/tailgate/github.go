package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// GitHub Actions integration. When a step runs tailgate on GitHub Actions
// (GITHUB_ACTIONS=true), run and check also
//
//   - append the Markdown report to the job summary ($GITHUB_STEP_SUMMARY);
//   - write the step outputs verdict, result and report-dir ($GITHUB_OUTPUT);
//   - print an ::error workflow command per failed minimum or regression
//     objective, and a ::warning per missed aspirational milestone, at the
//     objective's line and column in the plan, so the pull request shows
//     them beside the bar they missed.
//
// A command that ends with exit 2 or 3 before any result is judged (an
// invalid plan, an unwritable output, bad usage) still writes a job summary
// saying what went wrong, the step output verdict=error, and an ::error
// annotation per plan error at its file, line and column (githubFailure).
//
// None of it changes the verdict or the exit status: a summary that cannot
// be written is a warning on stderr, and the gate still says what it says.

// githubActions is the hook judgeAndReport calls once a result is judged and
// written: out is the result file (empty for check) and reportDir the
// report directory, if any.
func githubActions(env environment, p *slo.Plan, res *result.Result, out, reportDir string) {
	if env.getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(env.stderr, "tailgate: GitHub Actions: %s\n", workloads.Redact(fmt.Sprintf(format, args...), p.Secrets))
	}
	if path := env.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		var summary bytes.Buffer
		if err := report.Markdown(&summary, res); err != nil {
			warn("rendering the job summary: %v", err)
		} else if err := appendFile(path, []byte(workloads.Redact(summary.String(), p.Secrets)+"\n")); err != nil {
			warn("writing the job summary: %v", err)
		}
	}
	if path := env.getenv("GITHUB_OUTPUT"); path != "" {
		var outputs bytes.Buffer
		writeOutput(&outputs, "verdict", string(res.Verdict))
		switch {
		case out != "":
			writeOutput(&outputs, "result", out)
		case reportDir != "":
			// check writes no result file of its own; the report directory
			// holds the result as judged again.
			writeOutput(&outputs, "result", filepath.Join(reportDir, report.ResultFile))
		}
		if reportDir != "" {
			writeOutput(&outputs, "report-dir", reportDir)
		}
		if err := appendFile(path, outputs.Bytes()); err != nil {
			warn("writing the step outputs: %v", err)
		}
	}
	var commands bytes.Buffer
	writeAnnotations(&commands, annotationPath(p.File, env.getenv), res)
	if _, err := io.WriteString(env.stdout, workloads.Redact(commands.String(), p.Secrets)); err != nil {
		warn("printing annotations: %v", err)
	}
}

// reportedError is an error returned after githubActions has reported the
// run, so githubFailure does not report it again.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// githubFailure is the hook run calls when a command ends with exit 2 or 3
// and nothing reported it yet (see reportedError).
func githubFailure(env environment, code int, err error) {
	if env.getenv("GITHUB_ACTIONS") != "true" || errors.As(err, new(reportedError)) {
		return
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(env.stderr, "tailgate: GitHub Actions: %s\n", fmt.Sprintf(format, args...))
	}
	what := "the run failed"
	if code == gate.ExitUsage {
		what = "bad usage or input"
	}
	var planErrs slo.Errors
	isPlan := errors.As(err, &planErrs)
	if isPlan {
		what = "invalid plan"
	}
	msg := strings.TrimSuffix(err.Error(), "\n")
	if path := env.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "### tailgate: **ERROR** — %s (exit %d)\n\n", what, code)
		fmt.Fprintf(&b, "Nothing was judged, so this is not a pass.\n\n```\n%s\n```\n\n", strings.ReplaceAll(msg, "```", "`\u200b``"))
		if err := appendFile(path, []byte(b.String())); err != nil {
			warn("writing the job summary: %v", err)
		}
	}
	if path := env.getenv("GITHUB_OUTPUT"); path != "" {
		var outputs bytes.Buffer
		writeOutput(&outputs, "verdict", string(status.VerdictError))
		if err := appendFile(path, outputs.Bytes()); err != nil {
			warn("writing the step outputs: %v", err)
		}
	}
	var commands bytes.Buffer
	if isPlan {
		for _, e := range planErrs {
			props := [][2]string{{"file", annotationPath(e.File, env.getenv)}}
			if e.Line > 0 {
				props = append(props, [2]string{"line", fmt.Sprint(e.Line)})
				if e.Column > 0 {
					props = append(props, [2]string{"col", fmt.Sprint(e.Column)})
				}
			}
			props = append(props, [2]string{"title", "tailgate: invalid plan"})
			m := e.Msg
			if e.Component != "" {
				m = fmt.Sprintf("component %q: %s", e.Component, m)
			}
			workflowCommand(&commands, "error", props, m)
		}
	} else {
		workflowCommand(&commands, "error", [][2]string{{"title", "tailgate: " + what}}, msg)
	}
	if _, err := io.WriteString(env.stdout, commands.String()); err != nil {
		warn("printing annotations: %v", err)
	}
}

// writeAnnotations writes the workflow commands that annotate the plan: an
// error for each failed or unjudged minimum and regression objective, a
// warning for each missed aspirational milestone, and an error when the
// run did not complete.
func writeAnnotations(w *bytes.Buffer, planFile string, res *result.Result) {
	if !res.Complete {
		msg := "the run did not complete"
		if res.Incomplete != "" {
			msg += ": " + res.Incomplete
		}
		workflowCommand(w, "error", [][2]string{{"file", planFile}, {"title", "tailgate run incomplete"}}, msg)
	}
	for _, c := range res.Components {
		for _, o := range c.Objectives {
			aspirational := o.Tier == string(slo.TierAspirational)
			var kind, msg string
			switch {
			case aspirational && o.Status == status.Missed && o.MeasuredValue == 0 && o.Detail != "":
				// Nothing was measured: the detail says why.
				kind, msg = "warning", "aspirational milestone missed: "+o.Detail
			case aspirational && o.Status == status.Missed:
				kind, msg = "warning", "aspirational milestone missed: "+objectiveMiss(o)
			case aspirational && o.Status == status.Insufficient:
				kind, msg = "warning", "aspirational milestone could not be judged: "+o.Detail
			case aspirational:
				continue
			case o.Status == status.Fail && o.Tier == string(slo.TierTrend):
				kind, msg = "error", objectiveMiss(o)+": "+o.Detail // the commits the shift happened between
			case o.Status == status.Fail:
				kind, msg = "error", objectiveMiss(o)
			case o.Status == status.Insufficient:
				kind, msg = "error", fmt.Sprintf("could not be judged: %s [%s]", o.Detail, o.Tier)
			case o.Status == status.ClientBound:
				kind, msg = "error", fmt.Sprintf("could not be judged, client-bound: %s [%s]", o.Detail, o.Tier)
			case o.Status == status.Inconclusive:
				kind = "error"
				if res.Verdict == status.VerdictPass {
					kind = "warning" // let through by the plan's defaults.inconclusive: pass
				}
				msg = fmt.Sprintf("inconclusive: %s [%s]", o.Detail, o.Tier)
			default:
				continue
			}
			props := [][2]string{{"file", planFile}}
			if o.Line > 0 {
				props = append(props, [2]string{"line", fmt.Sprint(o.Line)})
				if o.Column > 0 {
					props = append(props, [2]string{"col", fmt.Sprint(o.Column)})
				}
			}
			props = append(props, [2]string{"title", fmt.Sprintf("%s %s %s", c.Name, o.Subject(), o.Metric)})
			workflowCommand(w, kind, props, msg)
		}
	}
}

// objectiveMiss says what was measured against which bar, and how far off:
// "1.3ms vs bar 1ms (+30%) [minimum]", or for a regression
// "1.3ms vs bar baseline 1.1ms +10% (+18.2%) [regression]".
func objectiveMiss(o status.ObjectiveResult) string {
	bar := o.Threshold
	if o.Tier == string(slo.TierTrend) {
		bar = "history " + o.Baseline + " " + o.Threshold
	} else if o.Tier == string(slo.TierRegression) {
		bar = "baseline"
		if o.Baseline != "" {
			bar += " " + o.Baseline
		}
		bar += " " + o.Threshold
	}
	// The figure as the reports write it: a relative tier's change from
	// the baseline, else the margin (positive past the bar, negative
	// headroom; for throughput, the shortfall).
	figure := "margin " + report.SignedPercent(o.Margin)
	if o.Tier == string(slo.TierRegression) || o.Tier == string(slo.TierTrend) {
		figure = "change " + report.SignedPercent(o.Margin)
	}
	return fmt.Sprintf("%s vs bar %s (%s) [%s]", o.Measured, bar, figure, o.Tier)
}

// workflowCommand writes one workflow command: ::kind props::message.
func workflowCommand(w *bytes.Buffer, kind string, props [][2]string, message string) {
	w.WriteString("::" + kind)
	for i, p := range props {
		if i == 0 {
			w.WriteByte(' ')
		} else {
			w.WriteByte(',')
		}
		w.WriteString(p[0] + "=" + escapeProperty(p[1]))
	}
	w.WriteString("::" + escapeData(message) + "\n")
}

// escapeData escapes a workflow command's message as the runner reads it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value: as a message,
// and also the ':' and ',' that would end it.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// writeOutput writes one step output in the $GITHUB_OUTPUT format: name=value,
// or a heredoc with a random delimiter when the value spans lines.
func writeOutput(w *bytes.Buffer, name, value string) {
	if !strings.ContainsAny(value, "\r\n") {
		fmt.Fprintf(w, "%s=%s\n", name, value)
		return
	}
	var delimiter string
	for delimiter == "" || strings.Contains(value, delimiter) {
		b := make([]byte, 16)
		rand.Read(b)
		delimiter = "ghadelimiter_" + hex.EncodeToString(b)
	}
	fmt.Fprintf(w, "%s<<%s\n%s\n%s\n", name, delimiter, value, delimiter)
}

// annotationPath is the plan's path as annotations need it: relative to the
// repository checkout ($GITHUB_WORKSPACE) when it lies inside it, with
// forward slashes.
func annotationPath(plan string, getenv func(string) string) string {
	workspace := getenv("GITHUB_WORKSPACE")
	if workspace == "" {
		return filepath.ToSlash(plan)
	}
	abs, err := filepath.Abs(plan)
	if err != nil {
		return filepath.ToSlash(plan)
	}
	rel, err := filepath.Rel(workspace, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(plan)
	}
	return filepath.ToSlash(rel)
}

// appendFile appends data to the file at path, creating it if needed, as
// the runner expects for $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
