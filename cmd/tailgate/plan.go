package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
	"github.com/tailgate-dev/tailgate/workloads"
)

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
// first, then --target NAME=URL flags, which win.
func overrideTargets(p *slo.Plan, flags []string, env environment) error {
	set := func(name, target, from string) error {
		c := p.Component(name)
		if c == nil {
			names := make([]string, len(p.Components))
			for i, c := range p.Components {
				names[i] = c.Name
			}
			return usageError(fmt.Errorf("%s: no component %q in plan %q (components: %s)", from, name, p.File, strings.Join(names, ", ")))
		}
		oldProto, _ := slo.Protocol(c.Target)
		newProto, err := slo.Protocol(target)
		if err != nil {
			return usageError(fmt.Errorf("%s: component %q: %w", from, name, workloads.RedactError(err, p.Secrets)))
		}
		if oldProto != newProto {
			return usageError(fmt.Errorf("%s: component %q: the plan's workload is for %s, the target %q speaks %s",
				from, name, oldProto, workloads.Redact(target, p.Secrets), newProto))
		}
		c.Target = target
		p.Secrets = append(p.Secrets, urlSecrets(target)...)
		return nil
	}
	for _, c := range p.Components {
		if v, ok := env.lookupEnv(targetEnvName(c.Name)); ok && v != "" {
			if err := set(c.Name, v, targetEnvName(c.Name)); err != nil {
				return err
			}
		}
	}
	for _, f := range flags {
		name, target, ok := strings.Cut(f, "=")
		if !ok || name == "" || target == "" {
			return usageError(fmt.Errorf("--target %q: want NAME=URL", workloads.Redact(f, p.Secrets)))
		}
		if err := set(name, target, "--target "+name); err != nil {
			return err
		}
	}
	return nil
}

// urlSecrets returns the password in a URL's userinfo, if any.
func urlSecrets(target string) []string {
	if i := strings.Index(target, "://"); i >= 0 {
		rest := target[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
				return []string{pw}
			}
		}
	}
	return nil
}

// specsFor turns a plan into the engine's specs.
func specsFor(p *slo.Plan, shard result.Shard) []*workloads.Spec {
	specs := make([]*workloads.Spec, len(p.Components))
	for i := range p.Components {
		specs[i] = &workloads.Spec{
			Component: p.Components[i], Duration: p.Defaults.Duration, Warmup: p.Defaults.Warmup,
			Seed: p.Defaults.Seed, Shard: shard, Secrets: p.Secrets,
		}
	}
	return specs
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
			return nil, usageError(fmt.Errorf("--baseline-target %q: want NAME=URL", workloads.Redact(f, p.Secrets)))
		}
		c := p.Component(name)
		if c == nil {
			return nil, usageError(fmt.Errorf("--baseline-target: no component %q in plan %q", name, p.File))
		}
		want, _ := slo.Protocol(c.Target)
		got, err := slo.Protocol(target)
		if err != nil || got != want {
			return nil, usageError(fmt.Errorf("--baseline-target %s: %q must speak %s like the candidate",
				name, workloads.Redact(target, append(p.Secrets, urlSecrets(target)...)), want))
		}
		p.Secrets = append(p.Secrets, urlSecrets(target)...)
		live[name] = target
	}
	return live, nil
}
