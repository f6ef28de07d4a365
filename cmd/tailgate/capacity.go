package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/capacity"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// DefaultCapacityFile is where capacity writes its file without --out.
const DefaultCapacityFile = "tailgate-capacity.json"

type capacityFlags struct {
	planFlags
	component string
	out       string
	html      string
	baseline  string
	min, max  string
	precision string
}

func newCapacityCmd(env environment) *cobra.Command {
	var f capacityFlags
	cmd := &cobra.Command{
		Use:   "capacity -c PLAN --out FILE [--component NAME] [--min R] [--max R] [--precision 5%] [--baseline FILE] [--html FILE]",
		Short: "Find the highest rate at which every minimum objective of a component holds",
		Long: `capacity searches each component of the plan (or --component's alone) for its capacity:
the highest open-loop rate at which every minimum objective still holds. Each probe is a short
open-loop run at one rate, with warmup, judged as run judges a result. The search ramps up
exponentially from the lowest rate (--min, the plan's capacity.min_rate, or the workload's
rate) until a probe fails, then bisects between the highest pass and the lowest fail until the
two are within --precision. It never goes above --max (or capacity.max_rate), stops at the
first breach of an error-rate bar, at a client-bound probe (the load generator, not the target,
is then the limit), and on its budgets of probes and time (capacity.max_probes,
capacity.max_duration). Every probe is printed on stderr as it ends; the table of probes and
the capacity with its bracket on stdout. The capacity file (--out) records it all, with the
plan's capacity objectives judged (capacity: 30000/s, and with --baseline, a previous
capacity file, capacity: -5%); --html draws latency against throughput.

Exit status:
  0  every component's capacity was found (and every capacity objective passed)
  1  a capacity objective or regression failed
  2  bad usage or bad input: unknown flag, invalid plan (file:line:column), a component with
     no minimum objective to search by, unreadable or foreign --baseline, unwritable --out
  3  the search could not measure: target unreachable, interrupted (what was found is still
     written, marked interrupted), a client-bound probe, too few samples, a budget spent
     before the precision, no rate that passed, a capacity objective inconclusive`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCapacity(cmd.Context(), f, env)
		},
	}
	fl := cmd.Flags()
	f.planFlags.register(fl)
	fl.StringVar(&f.component, "component", "", "search this component alone")
	fl.StringVar(&f.out, "out", DefaultCapacityFile, "where to write the capacity file")
	fl.StringVar(&f.html, "html", "", "write the latency-versus-throughput curve as one HTML page here")
	fl.StringVar(&f.baseline, "baseline", "", "a previous capacity file, for the capacity regression")
	fl.StringVar(&f.min, "min", "", "the first rate probed, per second (overrides capacity.min_rate)")
	fl.StringVar(&f.max, "max", "", "the highest rate probed, per second (overrides capacity.max_rate)")
	fl.StringVar(&f.precision, "precision", "", "the widest bracket the search ends with, e.g. 5% (overrides capacity.precision)")
	return cmd
}

// parseRateFlag reads --min and --max: 30000 or 30000/s, by the plan's
// rate grammar (slo.ParseRateArg).
func parseRateFlag(name, value string) (float64, error) {
	r, err := slo.ParseRateArg(value)
	if err != nil || r <= 0 {
		return 0, usageError(fmt.Errorf("--%s %q: want a rate more than 0, in operations per second, such as 30000", name, value))
	}
	return r, nil
}

// searchBounds are a component's bounds: its capacity block with its
// defaults, then the flags.
//
// A failing probe is measured again defaults.confirm times, as a failing
// run is, before the rate is believed to fail.
func searchBounds(p *slo.Plan, c *slo.Component, f capacityFlags) (capacity.Bounds, error) {
	k := c.Capacity.WithDefaults()
	b := capacity.Bounds{
		Min: k.MinRate, Max: k.MaxRate, Precision: k.Precision, MaxProbes: k.MaxProbes, MaxDuration: k.MaxDuration,
		ProbeDuration: k.ProbeDuration, ProbeWarmup: k.ProbeWarmup, Lengthen: 2, Confirm: p.Defaults.Confirm, Bars: capacity.Bars(c),
	}
	var err error
	if f.min != "" {
		if b.Min, err = parseRateFlag("min", f.min); err != nil {
			return b, err
		}
	}
	if f.max != "" {
		if b.Max, err = parseRateFlag("max", f.max); err != nil {
			return b, err
		}
	}
	if f.precision != "" {
		if b.Precision, err = parsePercentFlag("precision", f.precision); err != nil {
			return b, err
		}
	}
	if b.Min == 0 {
		b.Min = c.Workload.Rate
	}
	if b.Min == 0 {
		return b, usageError(fmt.Errorf("component %q is closed loop (rate 0): give the search its first rate with capacity.min_rate or --min", c.Name))
	}
	if b.Max == 0 {
		b.Max = b.Min * slo.CapacityMaxFactor
	}
	if err := b.Check(); err != nil {
		return b, usageError(fmt.Errorf("component %q: %w", c.Name, err))
	}
	return b, nil
}

func runCapacity(ctx context.Context, f capacityFlags, env environment) error {
	p, err := f.load(env)
	if err != nil {
		return err
	}
	var comps []*slo.Component
	for i := range p.Components {
		if f.component == "" || p.Components[i].Name == f.component {
			comps = append(comps, &p.Components[i])
		}
	}
	if len(comps) == 0 {
		return usageError(fmt.Errorf("--component %q is not in the plan; its components: %s", f.component, strings.Join(p.ComponentNames(), ", ")))
	}
	bounds := make([]capacity.Bounds, len(comps))
	objectives := make([][]slo.Objective, len(comps))
	for i, c := range comps {
		if objectives[i] = capacity.ProbeObjectives(c); len(objectives[i]) == 0 {
			return usageError(fmt.Errorf("component %q has no minimum objective (but capacity) for a probe to hold: the capacity is the highest rate at which they all hold; add some, such as all: {p99: 2ms, error_rate: 0.1%%}", c.Name))
		}
		if bounds[i], err = searchBounds(p, c, f); err != nil {
			return err
		}
	}
	var baseline *capacity.File
	if f.baseline != "" {
		if baseline, err = capacity.Read(f.baseline); err != nil {
			return usageError(fmt.Errorf("--baseline: %w", err))
		}
	}
	if err := writable(f.out, "--out"); err != nil {
		return err
	}
	if f.html != "" {
		if err := writable(f.html, "--html"); err != nil {
			return err
		}
	}

	file := &capacity.File{Schema: capacity.Schema, Complete: true, Plan: p.File, Tool: "tailgate " + version, StartedAt: time.Now().UTC(), Baseline: f.baseline}
	var searchErr error
	for i, c := range comps {
		if ctx.Err() != nil {
			break
		}
		prober := &capacityProber{plan: p, comp: c, objectives: objectives[i], opts: workloads.Options{Tool: file.Tool}}
		s := &capacity.Search{Bounds: bounds[i], Probe: prober.probe, Progress: func(pr capacity.Probe) { printProbe(env.stderr, c.Name, pr) }}
		fmt.Fprintf(env.stderr, "tailgate: capacity of %s: probing from %s/s up to %s/s, to within %s\n", c.Name, rate(bounds[i].Min), rate(bounds[i].Max), slo.FormatPercent(bounds[i].Precision))
		out, err := s.Run(ctx)
		if err != nil && out == nil {
			return usageError(fmt.Errorf("component %q: %w", c.Name, err))
		}
		comp := capacity.Component{
			Name: c.Name, CapacityRate: out.Capacity, UpperRate: out.Upper, Precision: bounds[i].Precision,
			MinRate: bounds[i].Min, MaxRate: bounds[i].Max, Stop: out.Stop, Detail: workloads.Redact(out.Detail, p.Secrets), Probes: out.Probes,
		}
		var base *capacity.Component
		if baseline != nil {
			base = baseline.Component(c.Name)
		}
		var warnings []string
		comp.Objectives, warnings = capacity.Judge(c, &comp, base, f.baseline)
		if comp.Objectives == nil {
			comp.Objectives = []status.ObjectiveResult{}
		}
		file.Warnings = append(file.Warnings, warnings...)
		file.Components = append(file.Components, comp)
		if out.Stop == capacity.StopInterrupted || out.Stop == capacity.StopError {
			file.Complete = false
		}
		if err != nil {
			searchErr = fmt.Errorf("component %q: %w", c.Name, err)
			break
		}
	}
	if ctx.Err() != nil {
		file.Complete, file.Interrupted = false, true
	}
	if len(file.Components) == 0 {
		return runError(errors.New("interrupted before the first probe: nothing was found, nothing written"))
	}
	file.Verdict = capacity.Verdict(file)
	if err := file.WriteFile(f.out); err != nil {
		return runError(err)
	}
	if f.html != "" {
		if err := report.WriteCapacityHTML(f.html, file); err != nil {
			return runError(err)
		}
	}
	if err := printCapacity(env.stdout, file); err != nil {
		return runError(err)
	}
	fmt.Fprintf(env.stderr, "tailgate: capacity written to %s\n", f.out)
	if searchErr != nil {
		if !errors.Is(searchErr, workloads.ErrUnreachable) && !errors.Is(searchErr, workloads.ErrAborted) {
			// What a driver refuses before load is bad input, as for run:
			// an unsupported scheme, an unknown method.
			return reportedError{usageError(searchErr)}
		}
		return reportedError{runError(searchErr)}
	}
	if code := gate.ExitCode(file.Verdict); code != gate.ExitPass {
		return &verdictExit{code: code}
	}
	return nil
}

// capacityProber runs a component's probes: open-loop runs of its
// workload at the probe's rate, judged against its minimum objectives by
// the gate, as run judges a result.
type capacityProber struct {
	plan       *slo.Plan
	comp       *slo.Component
	objectives []slo.Objective
	opts       workloads.Options
	probes     int
}

func (cp *capacityProber) probe(ctx context.Context, step capacity.Step) (capacity.Probe, error) {
	c := *cp.comp
	c.Workload.Rate, c.Workload.Stages = step.Rate, nil
	c.SLO = slo.SLO{Minimum: cp.objectives}
	spec := &workloads.Spec{Component: c, Duration: step.Duration, Warmup: step.Warmup, Seed: cp.plan.Defaults.Seed, Secrets: cp.plan.Secrets,
		// The first probe prefills (when the plan asks); the keys are
		// kept for the probes after it.
		SkipPrefill: cp.probes > 0, KeepKeys: true}
	cp.probes++
	pr := capacity.Probe{Rate: step.Rate, WarmupNS: int64(step.Warmup)}
	res, err := workloads.Run(ctx, []*workloads.Spec{spec}, cp.opts)
	switch {
	case errors.Is(err, workloads.ErrInterrupted) || ctx.Err() != nil:
		pr.Verdict, pr.Detail = capacity.ProbeInterrupted, "interrupted: not judged"
		return pr, nil
	case errors.Is(err, workloads.ErrAborted):
		pr.Verdict, pr.Detail = capacity.ProbeErrorRate, workloads.Redact(err.Error(), cp.plan.Secrets)
		if res != nil {
			fillProbe(&pr, res, c.Name)
		}
		return pr, nil
	case err != nil:
		return pr, err
	}
	fillProbe(&pr, res, c.Name)
	judged := &slo.Plan{Version: cp.plan.Version, File: cp.plan.File, Defaults: cp.plan.Defaults, Components: []slo.Component{c}, Secrets: cp.plan.Secrets}
	v, err := gate.Judge(judged, res, nil)
	if err != nil {
		return pr, err
	}
	pr.Objectives = v.Objectives[c.Name]
	pr.Verdict, pr.Detail = capacity.ProbeVerdictOf(pr.Objectives)
	if !res.Complete {
		pr.Verdict, pr.Detail = capacity.ProbeInterrupted, "the probe did not complete: "+res.Incomplete
	}
	return pr, nil
}

// fillProbe copies a probe's measurements from its result: the whole
// component's (its operations together). The warmup is the probe's step's,
// which the result repeats.
func fillProbe(pr *capacity.Probe, res *result.Result, name string) {
	pr.MeasuredNS = res.MeasuredNS
	cr := res.Component(name)
	if cr == nil {
		return
	}
	op := cr.Operation(slo.AllOperations)
	if op == nil && len(cr.Operations) == 1 {
		op = &cr.Operations[0]
	}
	if op == nil {
		return
	}
	pr.Count, pr.Errors, pr.AchievedRate, pr.LatencyNS = op.Count, op.Errors, op.AchievedRate, op.LatencyNS
}

func rate(r float64) string { return strconv.FormatFloat(math.Round(r), 'f', -1, 64) }

func ms(ns int64) string { return slo.FormatDuration(time.Duration(ns)) }

// printProbe tells of one probe on stderr as it ends.
func printProbe(w io.Writer, component string, p capacity.Probe) {
	fmt.Fprintf(w, "tailgate: capacity of %s: %s/s (achieved %s/s, %s measured): p50 %s, p99 %s, p99.9 %s: %s\n",
		component, rate(p.Rate), rate(p.AchievedRate), ms(p.MeasuredNS), ms(p.LatencyNS.P50), ms(p.LatencyNS.P99), ms(p.LatencyNS.P999), strings.ToUpper(string(p.Verdict)))
}

// printCapacity prints every component's probes, in the order of their
// rates, its capacity with its bracket, why the search ended and the
// judged capacity objectives, then the verdict.
func printCapacity(w io.Writer, f *capacity.File) error {
	var b strings.Builder
	for _, c := range f.Components {
		fmt.Fprintf(&b, "%s\n", c.Name)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  rate/s\tachieved/s\tp50\tp99\tp99.9\tverdict\t")
		for _, p := range c.Probes {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t\n", rate(p.Rate), rate(p.AchievedRate), ms(p.LatencyNS.P50), ms(p.LatencyNS.P99), ms(p.LatencyNS.P999), p.Verdict)
		}
		tw.Flush()
		fmt.Fprintf(&b, "  capacity: %s\n  %s\n", capacity.Bracket(&c), c.Detail)
		for _, o := range c.Objectives {
			fmt.Fprintf(&b, "  %s %s %s %s: %s, measured %s", o.Tier, o.Operation, o.Metric, o.Threshold, o.Status.Text(), o.Measured)
			if o.Detail != "" {
				fmt.Fprintf(&b, ": %s", o.Detail)
			}
			b.WriteString("\n")
		}
	}
	for _, warning := range f.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warning)
	}
	word := strings.ToUpper(string(f.Verdict))
	if f.Interrupted {
		word += " (interrupted: what was found so far)"
	}
	fmt.Fprintf(&b, "tailgate capacity: %s\n", word)
	_, err := io.WriteString(w, b.String())
	return err
}
