package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// maxListed bounds the items of one "what to do next" list, so a bad run
// still makes a comment short enough to read in a pull request.
const maxListed = 10

// Markdown writes the report as GitHub-flavoured Markdown, for a job summary
// or a pull-request comment: the verdict, one table row per objective with
// failures first, what to do next, and the measurements folded away.
func Markdown(w io.Writer, res *result.Result) error {
	ew := &errWriter{w: w}
	ew.printf("### tailgate: **%s** — %s\n\n", verdictWord(res), mdText(headline(res)))
	ew.printf("%s\n\n", mdRunLine(res))

	rows := objectiveRows(res)
	if len(rows) > 0 {
		ew.printf("| Component | Operation | Metric | Bar | Measured [95%% CI] | Change vs baseline | Status |\n")
		ew.printf("|---|---|---|---|---|---:|---|\n")
		for _, row := range rows {
			o := row.o
			measured := o.Measured
			if interval := intervalText(o); interval != "" {
				measured += " " + interval
			}
			ew.printf("| %s | %s | %s | %s | %s | %s | %s |\n", mdText(row.component), mdText(o.Subject()),
				mdText(o.Metric), mdText(barExpression(o, "≤", "≥")+" ("+o.Tier+")"), mdText(measured),
				mdText(changeText(o)), mdStatus(o))
		}
		ew.printf("\n")
		if within := withinInterval(rows); len(within) > 0 {
			ew.printf("The bar of %s lies within the 95%% confidence interval of the measurement: the status follows the measured value, but the run cannot tell on which side of the bar the true percentile lies.\n\n",
				strings.Join(within, ", "))
		}
	}

	ew.printf("#### What to do next\n\n")
	nextSteps(ew, res, rows)

	for _, c := range res.Components {
		if c.Embedded {
			ew.printf("> **Note:** %s ran against tailgate's embedded in-process server, not a deployment.\n\n", mdText(c.Name))
		}
	}
	if len(res.Warnings) > 0 {
		ew.printf("**Warnings**\n\n")
		for _, warn := range res.Warnings {
			ew.printf("- %s\n", mdText(warn))
		}
		ew.printf("\n")
	}

	ew.printf("<details><summary>Measurements</summary>\n\n")
	ew.printf("| Component | Operation | Count | Errors | Rate | p50 | p99 | p99.9 | Max |\n")
	ew.printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range res.Components {
		for _, op := range c.Operations {
			ew.printf("| %s | %s | %d | %d | %.0f/s | %s | %s | %s | %s |\n", mdText(c.Name), mdText(op.Name),
				op.Count, op.Errors, op.AchievedRate, LatencyOf(op.Count, op.LatencyNS.P50), LatencyOf(op.Count, op.LatencyNS.P99),
				LatencyOf(op.Count, op.LatencyNS.P999), LatencyOf(op.Count, op.LatencyNS.Max))
		}
	}
	if rows := stageRows(res); len(rows) > 0 {
		ew.printf("\n| Component | Operation | Stage | Stage rate | Window | Count | Errors | Rate | p50 | p99 | p99.9 | Max |\n")
		ew.printf("|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range rows {
			ew.printf("| %s | %s | %d | %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", mdText(r.Component), mdText(r.Operation), r.Index,
				mdText(r.Rate), mdText(r.Span), r.Count, r.Errors, r.Achieved, r.P50, r.P99, r.P999, r.Max)
		}
	}
	ew.printf("\nLatency is measured from each operation's intended start, so a stalled server shows in the tail.\n\n")
	for _, c := range res.Components {
		if h := HitsText(&c); h != "" {
			ew.printf("Reads of %s: %s.\n\n", mdText(c.Name), mdText(h))
		}
	}
	for _, c := range res.Components {
		if s := StreamsText(&c); s != "" {
			ew.printf("Streams of %s (the latencies above are to the end of each stream): %s.\n\n", mdText(c.Name), mdText(s))
		}
	}
	for _, c := range res.Components {
		if f := FloorText(res, &c); f != "" {
			ew.printf("Measurement floor of %s (how late tailgate itself was): %s.\n\n", mdText(c.Name), mdText(f))
		}
	}
	ew.printf("</details>\n")
	return ew.err
}

// withinInterval names the objectives whose bar lies within the confidence
// interval of their measurement, in bold.
func withinInterval(rows []objectiveRow) []string {
	var names []string
	for _, row := range rows {
		if barInInterval(row.o) {
			names = append(names, row.title())
		}
	}
	return names
}

// mdRunLine describes the run in one Markdown line.
func mdRunLine(res *result.Result) string {
	var parts []string
	if res.Plan != "" {
		parts = append(parts, "plan "+mdCode(res.Plan))
	}
	parts = append(parts, fmt.Sprintf("seed %d", res.Seed),
		"measured "+Latency(res.MeasuredNS), "warmup "+Latency(res.WarmupNS))
	if res.Shard != nil {
		parts = append(parts, fmt.Sprintf("shard %d/%d", res.Shard.Index, res.Shard.Count))
	}
	if res.Baseline != nil {
		parts = append(parts, "baseline "+mdCode(res.Baseline.File))
	}
	if res.Tool != "" {
		parts = append(parts, mdText(res.Tool))
	}
	s := strings.Join(parts, " · ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdStatus is an objective's status cell: what needs action in bold, with
// how far off it is.
func mdStatus(o status.ObjectiveResult) string {
	switch o.Status {
	case status.Fail:
		if isRegression(o) {
			return "**FAIL**"
		}
		return "**FAIL** (" + mdText(shortfall(o)) + withinSuffix(o) + ")"
	case status.Insufficient:
		return "**INSUFFICIENT**"
	case status.Missed:
		if o.Detail != "" {
			// Not measured at all (no data): there is no distance to give.
			return "missed"
		}
		return "missed (" + mdText(shortfall(o)) + withinSuffix(o) + ")"
	case status.Inconclusive:
		return "**INCONCLUSIVE**"
	case status.ClientBound:
		return "**CLIENT-BOUND**"
	case status.NoChange:
		return mdText("~ no change beyond noise")
	}
	if barInInterval(o) {
		return mdText(string(o.Status)) + " (" + withinIntervalText + ")"
	}
	return mdText(string(o.Status))
}

// withinSuffix is "; bar within the interval" when barInInterval.
func withinSuffix(o status.ObjectiveResult) string {
	if barInInterval(o) {
		return "; " + withinIntervalText
	}
	return ""
}

// nextSteps writes the advice that fits the verdict.
func nextSteps(ew *errWriter, res *result.Result, rows []objectiveRow) {
	if res.Shard != nil {
		ew.printf("This is shard %d of %d: it is not judged on its own. Merge the shards (%s), then check the merged result (%s).\n\n",
			res.Shard.Index, res.Shard.Count, mdCode("tailgate merge SHARD... --out merged.json"), mdCode("tailgate check -c PLAN merged.json"))
		return
	}
	var failed, blocked, inconclusive, clientBound, missed, met []objectiveRow
	for _, row := range rows {
		switch {
		case row.o.Status == status.Fail:
			failed = append(failed, row)
		case row.o.Status == status.Inconclusive:
			inconclusive = append(inconclusive, row)
		case row.o.Status == status.ClientBound && row.o.Tier != string(slo.TierAspirational):
			clientBound = append(clientBound, row)
		case row.o.Status == status.Insufficient && blocks(row.o):
			blocked = append(blocked, row)
		case row.o.Status == status.Missed:
			missed = append(missed, row)
		case row.o.Status == status.Met:
			met = append(met, row)
		}
	}
	wrote := false
	if !res.Complete {
		wrote = true
		ew.printf("The run did not complete")
		if res.Incomplete != "" {
			ew.printf(": %s", mdCode(res.Incomplete))
		}
		ew.printf(". Anything judged on the partial data does not make a pass. ")
		ew.printf("Check that every target is reachable from this runner and answers, then run again.\n\n")
		incompleteDetails(ew, res)
	}
	if len(failed) > 0 {
		wrote = true
		regressed := false
		listUnder(ew, failed, "Fix %s before merging:", "failed objective", "failed objectives", func(row objectiveRow) string {
			o := row.o
			if isRegression(o) {
				regressed = true
				s := fmt.Sprintf("%s is %s (regression)", row.title(), mdText(shortfall(o)))
				if o.PValue > 0 {
					s += fmt.Sprintf(", p = %.2g", o.PValue)
				}
				return s + "."
			}
			return fmt.Sprintf("%s measured %s against %s (%s): %s%s.", row.title(), mdText(o.Measured), mdText(barExpression(o, "≤", "≥")), mdText(o.Tier), mdText(shortfall(o)), withinSuffix(o))
		})
		if regressed {
			ew.printf("A regression is judged with statistics over the per-interval histograms, so rerunning rarely makes it go away. ")
			ew.printf("`tailgate compare BASELINE RESULT` shows every operation's change.\n\n")
		}
	}
	if len(blocked) > 0 {
		wrote = true
		listUnder(ew, blocked, "%s too few samples to be judged, and an unjudged bar is never a pass:",
			"objective had", "objectives had", detailRow)
		if !res.Complete {
			ew.printf("They follow from the run's end; if they remain once it completes, ")
		} else {
			ew.printf("To judge them, ")
		}
		ew.printf("lengthen the measured window (`duration` in the plan, or `--duration`) or raise the `rate`: ")
		ew.printf("a percentile needs at least 10/(1−q) samples, 1,000 for p99 and 10,000 for p99.9.\n\n")
	}
	if len(inconclusive) > 0 {
		wrote = true
		listUnder(ew, inconclusive, "%s: the run could neither rule the regression out nor show it, so it is no evidence either way:",
			"objective is inconclusive", "objectives are inconclusive", func(row objectiveRow) string {
				o := row.o
				why := ""
				switch {
				case o.Detectable > 0:
					why = " (the run could only have shown a regression of " + mdText(SignedPercent(o.Detectable)) + " or more)"
				case o.Detail != "":
					why = ": " + mdText(o.Detail)
				}
				return fmt.Sprintf("%s changed %s%s.", row.title(), mdText(changeText(o)), why)
			})
		ew.printf("To make it conclusive, lengthen the measured window, raise the `rate`, or run interleaved against a live baseline (`--baseline-target`), which cancels the runner's noise. ")
		ew.printf("`defaults.inconclusive` in the plan says what an inconclusive objective does to the verdict (`error` by default).\n\n")
	}
	if len(clientBound) > 0 {
		wrote = true
		listUnder(ew, clientBound, "%s: the load generator itself was too late sending for the percentile to measure the target:",
			"objective is client-bound", "objectives are client-bound", detailRow)
		ew.printf("Lower the rate, add connections, split the run into shards (`--shard`), or use a bigger runner.\n\n")
	}
	if res.Complete && res.Verdict == status.VerdictError && len(failed) == 0 && len(blocked) == 0 && len(inconclusive) == 0 && len(clientBound) == 0 {
		wrote = true
		ew.printf("The run failed without a failed objective; the warnings below say why.\n\n")
		incompleteDetails(ew, res)
	}
	if res.Verdict != status.VerdictPass {
		return
	}
	if len(missed) > 0 {
		wrote = true
		listUnder(ew, missed, "Every required bar is met. %s still missed; milestones never fail the gate:",
			"aspirational milestone is", "aspirational milestones are", func(row objectiveRow) string {
				o := row.o
				return fmt.Sprintf("%s measured %s against %s.", row.title(), mdText(o.Measured), mdText(barExpression(o, "≤", "≥")))
			})
	}
	if len(met) > 0 {
		wrote = true
		plan := "PLAN"
		if res.Plan != "" {
			plan = res.Plan
		}
		pronoun := "them"
		if len(met) == 1 {
			pronoun = "it"
		}
		ew.printf("%s met: %s makes %s the new minimum, so later changes cannot slide back.\n\n",
			gate.Plural(len(met), "aspirational milestone was", "aspirational milestones were"),
			mdCode("tailgate promote -c "+plan+" RESULT --write"), pronoun)
	} else if len(missed) > 0 {
		ew.printf("Once a milestone is met, `tailgate promote` makes it the new minimum.\n\n")
	}
	if !wrote {
		ew.printf("Nothing: every bar is met.\n\n")
	}
}

// incompleteDetails lists each component's first errors, where it ran, and
// what warmup saw.
func incompleteDetails(ew *errWriter, res *result.Result) {
	for _, c := range res.Components {
		target := mdCode(c.Target)
		if c.Embedded {
			target += " (embedded)"
		}
		ew.printf("- **%s** → %s\n", mdText(c.Name), target)
		for _, kind := range sortedKeys(c.FirstErrors) {
			s := c.FirstErrors[kind]
			ew.printf("  - first %s error at %s: %s\n", mdText(kind), slo.FormatDuration(time.Duration(s.AtNS)), mdCode(s.Message))
		}
		if all := c.Operation(slo.AllOperations); all != nil && len(all.ErrorKinds) > 0 {
			ew.printf("  - errors: %s\n", mdText(ErrorsText(all)))
		}
	}
	ew.printf("\n")
}

// listUnder writes a lead line, its %s the number of rows in words (one or
// many), and under it the rows as listRows does.
func listUnder(ew *errWriter, rows []objectiveRow, lead, one, many string, item func(objectiveRow) string) {
	ew.printf(lead+"\n\n", gate.Plural(len(rows), one, many))
	listRows(ew, rows, item)
}

// listRows writes a bulleted list of at most maxListed rows.
func listRows(ew *errWriter, rows []objectiveRow, item func(objectiveRow) string) {
	for i, row := range rows {
		if i == maxListed {
			ew.printf("- and %d more, in the table above.\n", len(rows)-maxListed)
			break
		}
		ew.printf("- %s\n", item(row))
	}
	ew.printf("\n")
}

// mdEscaper backslash-escapes what Markdown (and GitHub's extensions:
// tables, strikethrough, math) would read as markup, and folds line breaks,
// which would end a table row.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`,
	"|", `\|`, "~", `\~`, "&", `\&`, "$", `\$`, "#", `\#`, "\r\n", " ", "\n", " ", "\r", " ",
)

// mdText escapes a value for Markdown text, table cells included.
func mdText(s string) string {
	return mdEscaper.Replace(withoutControls(s))
}

// withoutControls replaces control characters, which have no business in a
// report, with U+FFFD; line breaks stay for the caller to fold.
func withoutControls(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// mdCode writes s as a code span, fenced by more backticks than it holds.
// It is for text outside tables: in a cell, GitHub would split on its pipes.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(withoutControls(s))
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || longest > 0 {
		s = " " + s + " "
	}
	return fence + s + fence
}

// detailRow writes an objective that was not judged as its name and the
// title names the row's objective in bold: component, operation, metric.
func (row objectiveRow) title() string {
	return fmt.Sprintf("**%s %s %s**", mdText(row.component), mdText(row.o.Subject()), mdText(row.o.Metric))
}

// gate's reason: "**cache get p99**: detail."
func detailRow(row objectiveRow) string {
	s := row.title()
	if row.o.Detail != "" {
		s += ": " + mdText(row.o.Detail)
	}
	return s + "."
}
