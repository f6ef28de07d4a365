package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// DefaultResultFile is where run writes its result without --out or
// --report-dir; with --report-dir and no --out, the result is DIR/result.json
// (report.ResultFile) and nothing is written in the working directory.
const DefaultResultFile = "tailgate-result.json"

// resultPath is where run writes its result: --out when given, else the
// report directory's result.json, else DefaultResultFile.
func resultPath(out string, outGiven bool, reportDir string) string {
	switch {
	case outGiven:
		return out
	case reportDir != "":
		return filepath.Join(reportDir, report.ResultFile)
	}
	return DefaultResultFile
}

type runFlags struct {
	planFlags
	baseline        string
	out             string
	reportDir       string
	duration        string
	seed            int64
	baselineTargets []string
	shard           string
	otlpEndpoint    string // --otlp-endpoint: run_otlp.go
	history         trend  // --history: history.go
}

func newRunCmd(env environment) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run -c PLAN [--target NAME=URL]... [--baseline RESULT] [--out RESULT] [--report-dir DIR]",
		Short: "Soak the plan's targets, judge the result and exit with the verdict",
		Long: `run sends each component's workload to its target (the plan's, --target's or
TAILGATE_TARGET_<NAME>'s) open loop, at the plan's rate and seed: the warmup first, then the
measured window, every latency measured from the operation's intended start. It judges the
result against the plan's minimum bars and aspirational milestones and, with --baseline (a
saved result) or --baseline-target (a live baseline, run interleaved), its regression tier;
writes the result file and, with --report-dir, every report; prints the diff report; and
exits with the verdict.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd.Context(), cmd, f, env)
		},
	}
	fl := cmd.Flags()
	f.planFlags.register(fl)
	fl.StringVar(&f.baseline, "baseline", "", "baseline result file for the regression tier")
	fl.StringVar(&f.out, "out", DefaultResultFile, "where to write the result file (with --report-dir and no --out: DIR/result.json only)")
	fl.StringVar(&f.reportDir, "report-dir", "", "directory for report.md, junit.xml, report.html, histograms.hlog and the result")
	fl.StringVar(&f.duration, "duration", "", "measured soak length, overriding the plan's (e.g. 30s)")
	fl.Int64Var(&f.seed, "seed", 0, "seed, overriding the plan's")
	fl.StringArrayVar(&f.baselineTargets, "baseline-target", nil, "run interleaved A/B against a live baseline: NAME=URL (repeatable)")
	fl.StringVar(&f.shard, "shard", "", "send shard I of N of the workload (I/N)")
	fl.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "export metrics over OTLP/gRPC while the run lasts, to this URL (e.g. http://127.0.0.1:4317); also OTEL_EXPORTER_OTLP_ENDPOINT")
	fl.StringVar(&f.history.dir, "history", "", "history directory: judge the plan's trend tier against it, then add this run")
	f.history.flags.register(cmd)
	return cmd
}

func runRun(ctx context.Context, cmd *cobra.Command, f runFlags, env environment) error {
	p, err := f.load(env)
	if err != nil {
		return err
	}
	if f.duration != "" {
		if p.Defaults.Duration, err = parseDurationFlag("duration", f.duration); err != nil {
			return err
		}
		if c := stagedComponent(p); c != "" {
			return usageError(fmt.Errorf("--duration %q: component %q runs in stages (workload.stages), whose durations are its measured length; change the stages instead", f.duration, c))
		}
		if errs := p.SampleErrors(p.Defaults.Duration); len(errs) > 0 {
			return usageError(fmt.Errorf("with --duration %s:\n%w", f.duration, errs))
		}
		if a := p.Defaults.Adaptive; a.Enabled() && p.Defaults.Duration > a.MaxDuration {
			return usageError(fmt.Errorf("--duration %q is longer than the plan's defaults.adaptive.max_duration %s, the longest a run may extend to", f.duration, slo.FormatDuration(a.MaxDuration)))
		}
	}
	if cmd.Flags().Changed("seed") {
		p.Defaults.Seed = f.seed
	}
	shard, err := parseShard(f.shard)
	if err != nil {
		return err
	}
	if c := stagedComponent(p); c != "" && len(f.baselineTargets) > 0 {
		return usageError(fmt.Errorf("--baseline-target: component %q runs in stages (workload.stages), which an interleaved run would cut into segments; compare with a saved result (--baseline) instead", c))
	}
	if len(f.baselineTargets) > 0 && f.baseline != "" {
		return usageError(errors.New("--baseline and --baseline-target exclude each other: compare with a saved result or with a live baseline"))
	}
	var baseline *result.Result
	if f.baseline != "" {
		if baseline, err = result.Read(f.baseline); err != nil {
			return usageError(err)
		}
	}
	// Find unwritable outputs before any load is sent.
	if f.reportDir != "" {
		if err := checkWritableDir(f.reportDir, "--report-dir"); err != nil {
			return err
		}
	}
	f.out = resultPath(f.out, cmd.Flags().Changed("out"), f.reportDir)
	if err := writable(f.out, "--out"); err != nil {
		return err
	}
	f.history.add = true
	if err := f.history.open(env); err != nil {
		return err
	}
	// Live baselines first: their secrets join the plan's before the specs
	// (the candidate's and, copied from them, the baseline's) take theirs.
	live, err := baselineTargets(p, f.baselineTargets)
	if err != nil {
		return err
	}
	if baseline != nil {
		if err := gate.BaselineComparable(p, baseline); err != nil {
			return usageError(fmt.Errorf("--baseline %q: %w", f.baseline, err))
		}
	}
	specs := specsFor(p, shard)

	// OpenTelemetry export while the run lasts (run_otlp.go).
	exporter, err := startOTLP(ctx, f.otlpEndpoint, p, shard, env)
	if err != nil {
		return err
	}
	pp := &progressPrinter{w: env.stderr, terminal: env.terminal}
	opts := workloads.Options{Progress: exporter.progress(pp.show), Keyspace: pp.keyspace, Tool: "tailgate " + version}
	m := measurer{opts: opts, live: live, plan: p, baseline: baseline, adaptive: p.Defaults.Adaptive.Enabled() && shard.Count <= 1,
		extending: func(measured, step, most time.Duration, reason string) {
			pp.done()
			fmt.Fprintf(env.stderr, "tailgate: inconclusive after %s (%s): measuring %s more, up to %s (defaults.adaptive)\n",
				slo.FormatDuration(measured), reason, slo.FormatDuration(step), slo.FormatDuration(most))
		}}
	started := time.Now()
	res, liveBase, runErr := m.measure(ctx, specs, nil, nil)
	pp.done()
	exporter.close(res, env)
	if res == nil {
		if !errors.Is(runErr, workloads.ErrUnreachable) && !errors.Is(runErr, workloads.ErrInterrupted) && !errors.Is(runErr, workloads.ErrAborted) {
			// Everything else a driver refuses before load is bad input: an
			// unsupported scheme, an unknown method, a body that does not fit.
			// (A prefill that failed is a run that failed: ErrAborted.)
			return usageError(runErr)
		}
		// The run stopped before it measured: it still leaves a result and
		// reports that say why (complete: false, verdict error).
		res = workloads.NotRunResult(specs, started, runErr.Error(), opts.Tool)
	}
	baselineFile := f.baseline
	if liveBase != nil {
		baseline, baselineFile = liveBase, "interleaved live baseline"
		if f.out != "" {
			baselineFile = strings.TrimSuffix(f.out, ".json") + ".baseline.json"
			liveBase.Plan = p.File
			if err := liveBase.WriteFile(baselineFile); err != nil {
				return runError(err)
			}
		}
	}
	if runErr == nil {
		res, baseline, runErr = gate.Confirm(p, res, baseline, m.remeasure(ctx, specs, env))
		pp.done()
	}
	return judgeAndReport(p, res, baseline, baselineFile, f.out, f.reportDir, &f.history, runErr, env)
}

// measurer runs load: plainly, or interleaved with a live baseline; with
// the plan's defaults.adaptive, for as long as a verdict is inconclusive.
type measurer struct {
	opts workloads.Options
	// live maps a component to its baseline deployment's URL.
	live map[string]string
	// plan judges the looks of an adaptive run against baseline (the
	// stored --baseline, or nil) or the live baseline's result.
	plan     *slo.Plan
	baseline *result.Result
	adaptive bool
	// extending tells of each extension of an adaptive run.
	extending func(measured, step, most time.Duration, reason string)
}

// measure runs specs; with live baselines it also returns the baseline's
// result. When specs re-measure some components of an earlier result
// (prior, and priorBase for a live baseline), an adaptive run judges its
// looks with the other components taken from those.
func (m measurer) measure(ctx context.Context, specs []*workloads.Spec, prior, priorBase *result.Result) (res, base *result.Result, err error) {
	var baseSpecs []*workloads.Spec
	for _, s := range specs {
		if url, ok := m.live[s.Component.Name]; ok {
			b := *s
			b.Component.Target = url
			baseSpecs = append(baseSpecs, &b)
		}
	}
	if m.adaptive {
		return workloads.RunAdaptive(ctx, specs, baseSpecs, m.opts, m.adaptation(prior, priorBase))
	}
	if len(baseSpecs) == 0 {
		res, err = workloads.Run(ctx, specs, m.opts)
		return res, nil, err
	}
	return workloads.RunInterleaved(ctx, specs, baseSpecs, m.opts)
}

// adaptation is how an adaptive run measures on: for as long as
// gate.Undecided finds a verdict of the components it measures
// inconclusive, up to the plan's max_duration.
func (m measurer) adaptation(prior, priorBase *result.Result) workloads.Adaptive {
	most := m.plan.Defaults.Adaptive.MaxDuration
	return workloads.Adaptive{
		Max:       most,
		Undecided: gate.Undecided(m.plan, m.baseline, prior, priorBase),
		Extending: func(measured, step time.Duration, reason string) {
			if m.extending != nil {
				m.extending(measured, step, most, reason)
			}
		},
	}
}

// remeasure is how gate.Confirm measures failing components again: the
// specs of the named components, with what measure takes for an adaptive
// run's looks.
func (m measurer) remeasure(ctx context.Context, specs []*workloads.Spec, env environment) gate.Remeasure {
	return func(attempt int, names []string, res, baseline *result.Result) (*result.Result, *result.Result, error) {
		var again []*workloads.Spec
		for _, s := range specs {
			if slices.Contains(names, s.Component.Name) {
				again = append(again, s)
			}
		}
		fmt.Fprintf(env.stderr, "tailgate: confirming the failure of %s (%d of %d)\n", strings.Join(names, ", "), attempt, m.plan.Defaults.Confirm)
		return m.measure(ctx, again, res, baseline)
	}
}

// judgeAndReport judges a result, writes it and its reports, prints the
// diff report and returns the verdict's exit status.
//
// With a history (hist.dir set), the trend tier is judged against it, and
// a run's judged result is then added to it.
func judgeAndReport(p *slo.Plan, res, baseline *result.Result, baselineFile, out, reportDir string, hist *trend, runErr error, env environment) error {
	if baseline != nil {
		res.Baseline = &result.BaselineReference{File: baselineFile, StartedAt: baseline.StartedAt}
	}
	res.Plan = p.File // the plan judged, which reports name
	v, err := gate.JudgeRunWithHistory(p, res, baseline, hist.hist, runErr != nil)
	if err != nil {
		return usageError(err)
	}
	v.Apply(res)
	if runErr == nil {
		if err := hist.record(res, env); err != nil {
			return err
		}
	}
	if out != "" {
		if err := res.WriteFile(out); err != nil {
			return runError(err)
		}
	}
	if reportDir != "" {
		if err := report.WriteDirWithBaseline(reportDir, res, baseline); err != nil {
			return runError(err)
		}
	}
	if err := report.Text(env.stdout, res); err != nil {
		return runError(err)
	}
	if out != "" {
		fmt.Fprintf(env.stderr, "tailgate: result written to %s\n", out)
	}
	githubActions(env, p, res, out, reportDir) // GitHub Actions: job summary, step outputs, annotations (github.go)
	if runErr != nil {
		return reportedError{runError(runErr)}
	}
	if code := gate.ExitCode(res.Verdict); code != gate.ExitPass {
		return &verdictExit{code: code}
	}
	return nil
}

// parseShard reads --shard I/N.
func parseShard(s string) (result.Shard, error) {
	if s == "" {
		return result.Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n || n > 1024 {
		return result.Shard{}, usageError(fmt.Errorf("--shard %q: want I/N with 1 <= I <= N <= 1024, e.g. 2/3", s))
	}
	return result.Shard{Index: i, Count: n}, nil
}
