package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/internal/atomicfile"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

func newPromoteCmd(env environment) *cobra.Command {
	var plan string
	var write bool
	cmd := &cobra.Command{
		Use:   "promote -c PLAN RESULT... [--write]",
		Short: "Make the aspirational milestones every given run met the new minimums (a dry run without --write)",
		Long: `promote is the ratchet: each aspirational milestone that ALL the given results meet,
with enough samples, and that is tighter than the minimum on its operation and metric,
becomes the new minimum. A bar never loosens, and one lucky run among others cannot
tighten it. Results must be complete runs of the plan's workloads, not shards.

Without --write it prints what would change and exits 0. With --write it edits the plan
in place (atomically), keeping comments and style, and leaves a dated comment above each
changed minimum. The date is today's, or SOURCE_DATE_EPOCH's when set.`,
		Args: needArgs(1, -1, "at least one RESULT, a run that vouches for the milestones"),
		RunE: func(_ *cobra.Command, args []string) error {
			return runPromote(plan, args, write, env)
		},
	}
	planFlag(cmd.Flags(), &plan)
	cmd.Flags().BoolVar(&write, "write", false, "edit the plan in place instead of printing what would change")
	return cmd
}

func runPromote(planFile string, resultFiles []string, write bool, env environment) error {
	if planFile == "" {
		return usageError(errors.New("no plan given: use -c PLAN"))
	}
	date, err := promoteDate(env)
	if err != nil {
		return err
	}
	data, err := readPlanFile(planFile)
	if err != nil {
		return err
	}
	p, err := slo.ParseWithEnv(data, planFile, env.lookupEnv)
	if err != nil {
		return usageError(fmt.Errorf("invalid plan:\n%w", err))
	}
	runs, err := evidenceOf(p, resultFiles)
	if err != nil {
		return err
	}
	candidates := p.Candidates(runs)
	if len(candidates) == 0 {
		fmt.Fprintf(env.stdout, "%s has no aspirational milestones: nothing to promote\n", p.File)
		return nil
	}
	promoted, err := slo.Promote(data, p.File, candidates, date)
	if err != nil {
		return usageError(err)
	}
	earned := printCandidates(env.stdout, p, runs, candidates)
	if earned == 0 {
		fmt.Fprintf(env.stdout, "no milestone earned: %s is unchanged\n", p.File)
		return nil
	}
	if err := checkPromoted(promoted, p.File, runs, env); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	for _, line := range lineDiff(string(data), string(promoted)) {
		fmt.Fprintln(env.stdout, line)
	}
	fmt.Fprintln(env.stdout)
	if !write {
		fmt.Fprintf(env.stdout, "dry run: %s is unchanged; run again with --write to apply\n", p.File)
		return nil
	}
	if err := writePlanFile(planFile, data, promoted); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: %s tightened\n", p.File, gate.Plural(earned, "minimum", "minimums"))
	return nil
}

// promoteDate is the day promotion records carry: SOURCE_DATE_EPOCH (the
// reproducible-builds convention, seconds since 1970) when set, else now.
func promoteDate(env environment) (time.Time, error) {
	epoch := env.getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		return time.Now().UTC(), nil
	}
	seconds, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || seconds < 0 {
		return time.Time{}, usageError(fmt.Errorf("SOURCE_DATE_EPOCH %q: want whole seconds since 1970-01-01", epoch))
	}
	return time.Unix(seconds, 0).UTC(), nil
}

// readPlanFile reads the plan's bytes, which promote edits.
func readPlanFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("cannot read plan: %w", err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, slo.MaxPlanSize+1))
	if err != nil {
		return nil, usageError(fmt.Errorf("cannot read plan %q: %w", path, err))
	}
	return data, nil
}

// evidenceOf reads the result files and turns each into what promote
// weighs: the values of the plan's aspirational objectives, judged afresh.
// Results that are no evidence for the plan are refused: another plan's,
// another workload's, a shard's, or the same run given twice.
func evidenceOf(p *slo.Plan, files []string) ([]slo.RunEvidence, error) {
	type loaded struct {
		file string
		res  *result.Result
	}
	var results []loaded
	seenPath := map[string]string{}
	seenStart := map[time.Time]string{}
	names := map[string]int{}
	for _, file := range files {
		abs, err := filepath.Abs(file)
		if err != nil {
			abs = file
		}
		if _, ok := seenPath[abs]; ok {
			return nil, usageError(fmt.Errorf("result %q is given twice: one run cannot vouch twice", file))
		}
		seenPath[abs] = file
		res, err := result.Read(file)
		if err != nil {
			return nil, usageError(err)
		}
		if first, ok := seenStart[res.StartedAt]; ok && !res.StartedAt.IsZero() {
			return nil, usageError(fmt.Errorf("results %q and %q are the same run (both started %s): one run cannot vouch twice",
				first, file, res.StartedAt.Format(time.RFC3339Nano)))
		}
		seenStart[res.StartedAt] = file
		if err := gate.Evidence(p, res); err != nil {
			return nil, usageError(fmt.Errorf("result %q: %w", file, err))
		}
		results = append(results, loaded{file, res})
		names[filepath.Base(file)]++
	}
	runs := make([]slo.RunEvidence, 0, len(results))
	for _, r := range results {
		name := filepath.Base(r.file)
		if names[name] > 1 {
			// Downloaded artifacts are often all called result.json.
			name += " (" + r.res.StartedAt.UTC().Format(time.RFC3339) + ")"
		}
		run, err := measurementsOf(p, r.res, name)
		if err != nil {
			return nil, usageError(fmt.Errorf("result %q: %w", r.file, err))
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// measurementsOf judges the result against the plan, as check would, and
// keeps the measured value of each aspirational objective with the number
// of operations behind it.
func measurementsOf(p *slo.Plan, res *result.Result, name string) (slo.RunEvidence, error) {
	run := slo.RunEvidence{Name: name, Complete: res.Complete, Incomplete: res.Incomplete}
	verdict, err := gate.Judge(p, res, nil)
	if err != nil {
		return run, err
	}
	for _, c := range p.Components {
		rc := res.Component(c.Name)
		for _, o := range verdict.Objectives[c.Name] {
			if o.Tier != string(slo.TierAspirational) {
				continue
			}
			m := slo.Measurement{Component: c.Name, Operation: o.Operation, Metric: slo.Metric(o.Metric), Value: math.NaN()}
			if op := rc.Operation(o.Operation); op != nil {
				m.Samples = op.Count
				if !m.Metric.IsLatency() {
					m.Samples = op.Count + op.Errors
				}
				measured := o.Status == status.Met || o.Status == status.Missed
				switch {
				case measured && op.Count+op.Errors > 0:
					m.Value = o.MeasuredValue
				case !measured:
					m.Unjudged = string(o.Status)
				}
			}
			run.Measurements = append(run.Measurements, m)
		}
	}
	return run, nil
}

// printCandidates lists every milestone with what promote does with it, and
// returns how many are earned.
func printCandidates(w io.Writer, p *slo.Plan, runs []slo.RunEvidence, candidates []slo.Candidate) int {
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	fmt.Fprintf(w, "%s: %s weighed against %s: %s\n", p.File, gate.Plural(len(candidates), "milestone", "milestones"),
		gate.Plural(len(runs), "run", "runs"), strings.Join(names, ", "))
	earned := 0
	for _, c := range candidates {
		m := c.Milestone
		where := fmt.Sprintf("%s:%d:%d", p.File, m.Pos.Line, m.Pos.Column)
		switch c.Outcome {
		case slo.OutcomePromote:
			earned++
			fmt.Fprintf(w, "  %-9s  %s %s  (%s)\n", c.Outcome, c.Component, c.Change(), where)
		default:
			fmt.Fprintf(w, "  %-9s  %s %s %s %s: %s\n", c.Outcome, c.Component, m.Operation, m.Metric, m.Raw, c.Reason)
		}
	}
	fmt.Fprintf(w, "%d of %s earned by every run\n", earned, gate.Plural(len(candidates), "milestone", "milestones"))
	return earned
}

// checkPromoted makes sure the edited plan is valid and a fixed point: the
// same runs would promote nothing more.
func checkPromoted(promoted []byte, file string, runs []slo.RunEvidence, env environment) error {
	edited, err := slo.ParseWithEnv(promoted, file, env.lookupEnv)
	if err != nil {
		return fmt.Errorf("promote: the edited plan would not be valid, so it is left alone:\n%w", err)
	}
	for _, c := range edited.Candidates(runs) {
		if c.Outcome == slo.OutcomePromote {
			return fmt.Errorf("promote: after the edit, %s %s would still be promoted; the plan is left alone", c.Component, c.Change())
		}
	}
	return nil
}

// writePlanFile replaces the plan with its promoted version atomically,
// through a symlink to the file it points at, keeping its permissions. It
// refuses when the file changed since it was read.
func writePlanFile(path string, original, promoted []byte) error {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	info, err := os.Stat(target)
	if err != nil {
		return usageError(fmt.Errorf("plan %q: %w", path, err))
	}
	now, err := readPlanFile(target)
	if err != nil {
		return err
	}
	if !bytes.Equal(now, original) {
		return usageError(fmt.Errorf("plan %q changed while promote ran; run it again", path))
	}
	if err := atomicfile.Write(target, promoted); err != nil {
		return usageError(err)
	}
	if err := os.Chmod(target, info.Mode().Perm()); err != nil {
		return usageError(fmt.Errorf("plan %q: restoring its permissions: %w", path, err))
	}
	return nil
}

// lineDiff lists the lines that differ between two texts, as a shortest
// edit script (Myers' algorithm, cheap for the few lines promote changes):
// "-" and the line number for a line removed, "+" and the new line number
// for a line added.
func lineDiff(before, after string) []string {
	a := strings.SplitAfter(before, "\n")
	b := strings.SplitAfter(after, "\n")
	n, m := len(a), len(b)
	offset := n + m + 1
	v := make([]int, 2*offset+1)
	var trace [][]int
search:
	for d := 0; d <= n+m; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			x := v[offset+k-1] + 1
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[offset+k] = x
			if x >= n && y >= m {
				break search
			}
		}
	}
	clean := func(s string) string { return strings.TrimRight(s, "\r\n") }
	var reversed []string
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		v := trace[d]
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
			prevK = k + 1
		}
		prevX := v[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
		}
		if x == prevX {
			reversed = append(reversed, fmt.Sprintf("+%4d %s", prevY+1, clean(b[prevY])))
		} else {
			reversed = append(reversed, fmt.Sprintf("-%4d %s", prevX+1, clean(a[prevX])))
		}
		x, y = prevX, prevY
	}
	out := make([]string, len(reversed))
	for i, line := range reversed {
		out[len(reversed)-1-i] = line
	}
	return out
}
