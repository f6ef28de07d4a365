package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

// planFlag adds -c PLAN, the plan file, to fl.
func planFlag(fl *pflag.FlagSet, plan *string) {
	fl.StringVarP(plan, "config", "c", "", "plan file (YAML)")
}

// planFlags are the flags of a command that loads a plan and sends load
// to its targets: -c PLAN and --target NAME=URL.
type planFlags struct {
	plan    string
	targets []string
}

// register adds -c and --target to fl.
func (f *planFlags) register(fl *pflag.FlagSet) {
	planFlag(fl, &f.plan)
	fl.StringArrayVar(&f.targets, "target", nil, "point component NAME at URL (repeatable); also TAILGATE_TARGET_<NAME>")
}

// load loads the plan and points its components at their targets from
// TAILGATE_TARGET_<NAME> and --target.
func (f *planFlags) load(env environment) (*slo.Plan, error) {
	p, err := loadPlan(f.plan, env)
	if err != nil {
		return nil, err
	}
	if err := overrideTargets(p, f.targets, env); err != nil {
		return nil, err
	}
	return p, nil
}

// loadPlan reads and validates a plan; every problem is a usage error.
func loadPlan(path string, env environment) (*slo.Plan, error) {
	if path == "" {
		return nil, usageError(errors.New("no plan given: use -c PLAN"))
	}
	p, err := slo.LoadWithEnv(path, env.lookupEnv)
	if err != nil {
		return nil, usageError(fmt.Errorf("invalid plan:\n%w", err))
	}
	return p, nil
}

// targetEnvName is the environment variable that points a component at a
// candidate: TAILGATE_TARGET_ plus the name in upper case, with every
// character other than a letter or digit replaced by an underscore.
func targetEnvName(component string) string {
	var b strings.Builder
	b.WriteString("TAILGATE_TARGET_")
	for _, r := range strings.ToUpper(component) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// overrideTargets points components at candidates: TAILGATE_TARGET_<NAME>
// first, then --target NAME=URL flags, which win. Both go through
// slo.Plan.SetTarget, which checks the target and collects its secrets.
func overrideTargets(p *slo.Plan, flags []string, env environment) error {
	for _, c := range p.Components {
		from := targetEnvName(c.Name)
		if v, ok := env.lookupEnv(from); ok && v != "" {
			if err := p.SetTarget(c.Name, v); err != nil {
				return usageError(fmt.Errorf("%s: %w", from, err))
			}
		}
	}
	for _, f := range flags {
		name, target, ok := strings.Cut(f, "=")
		if !ok || name == "" || target == "" {
			return usageError(fmt.Errorf("--target %q: want NAME=URL", workloads.Redact(f, append(p.Secrets, flagSecrets(f, target)...))))
		}
		if err := p.SetTarget(name, target); err != nil {
			return usageError(fmt.Errorf("--target %s: %w", name, err))
		}
	}
	return nil
}

// flagSecrets returns the secrets of a NAME=URL flag's target, also when the
// flag is malformed (no "=", so target is empty and f may be the URL).
func flagSecrets(f, target string) []string {
	return append(slo.TargetSecrets(target), slo.TargetSecrets(f)...)
}

// specsFor turns a plan into the engine's specs. A component in stages
// is measured for the stages' total length.
func specsFor(p *slo.Plan, shard result.Shard) []*workloads.Spec {
	specs := make([]*workloads.Spec, len(p.Components))
	for i := range p.Components {
		specs[i] = &workloads.Spec{
			Component: p.Components[i], Duration: p.Components[i].RunLength(p.Defaults.Duration), Warmup: p.Defaults.Warmup,
			Seed: p.Defaults.Seed, Shard: shard, Secrets: p.Secrets,
		}
	}
	return specs
}

// stagedComponent names the plan's first component in stages, or "".
func stagedComponent(p *slo.Plan) string {
	for _, c := range p.Components {
		if c.Workload.Stages != nil {
			return c.Name
		}
	}
	return ""
}

// parseDurationFlag reads a duration flag in the plan's units.
func parseDurationFlag(name, value string) (time.Duration, error) {
	d, err := slo.ParseDuration(value)
	if err != nil {
		return 0, usageError(fmt.Errorf("--%s: %w", name, err))
	}
	return d, nil
}

// writable checks before load that a file can be created at path.
func writable(path, what string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return usageError(fmt.Errorf("%s %q is not writable: %w", what, path, err))
	}
	info, _ := f.Stat()
	f.Close()
	if info != nil && info.Size() == 0 {
		os.Remove(path)
	}
	return nil
}

// parsePercentFlag reads a percentage flag such as 95%.
func parsePercentFlag(name, value string) (float64, error) {
	f, err := slo.ParsePercent(value)
	if err != nil {
		return 0, usageError(fmt.Errorf("--%s: %w", name, err))
	}
	return f, nil
}

// baselineTargets reads --baseline-target NAME=URL flags: the live baseline
// deployment of each named component, for an interleaved A/B run.
func baselineTargets(p *slo.Plan, flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	live := map[string]string{}
	for _, f := range flags {
		name, target, ok := strings.Cut(f, "=")
		if !ok || name == "" || target == "" {
			return nil, usageError(fmt.Errorf("--baseline-target %q: want NAME=URL", workloads.Redact(f, append(p.Secrets, flagSecrets(f, target)...))))
		}
		c := p.Component(name)
		if c == nil {
			return nil, usageError(fmt.Errorf("--baseline-target: no component %q in plan %q", name, p.File))
		}
		want, _ := slo.Protocol(c.Target)
		got, err := slo.Protocol(target)
		if err != nil || got != want {
			return nil, usageError(fmt.Errorf("--baseline-target %s: %q must speak %s like the candidate",
				name, workloads.Redact(target, append(p.Secrets, slo.TargetSecrets(target)...)), want))
		}
		p.Secrets = append(p.Secrets, slo.TargetSecrets(target)...)
		live[name] = target
	}
	return live, nil
}
