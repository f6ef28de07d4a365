package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// lookConfidence is the one-sided confidence at which a component's
// regression objectives are judged: the plan's (per objective), or, for a
// run that may look at its data several times (defaults.adaptive), the
// level of its last look, so that every look together errs no more often
// than one look at the plan's confidence would (stats.LookConfidence).
func lookConfidence(confidence float64, looks *result.Looks) float64 {
	if looks == nil {
		return confidence
	}
	return (1 + stats.LookConfidence(twoSided(confidence), looks.Fractions())) / 2
}

// Inconclusive names the objectives of v that are inconclusive, with their
// estimates and intervals against their bars ("web home p99 +4.2%
// [-3.1%, +14.5%] against +10%"), or returns "" when none is or an
// objective has failed, which no more data can turn into a pass: what an
// adaptive run measures longer for. (A run failed by the plan's
// defaults.inconclusive: fail has no failed objective, and is measured on.) An objective inconclusive
// from runner noise is left out: the baseline's runner stays what it was,
// however long the candidate runs.
func Inconclusive(v *Verdict) string {
	names := make([]string, 0, len(v.Objectives))
	for name, objectives := range v.Objectives {
		for _, o := range objectives {
			if o.Status == status.Fail {
				return ""
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		for _, o := range v.Objectives[name] {
			if o.Status != status.Inconclusive || strings.HasPrefix(o.Detail, runnerNoiseDetail) {
				continue
			}
			out = append(out, fmt.Sprintf("%s %s %s %s [%s, %s] against %s", name, o.Operation, o.Metric,
				SignedPercent(o.Margin), SignedPercent(o.IntervalLow), SignedPercent(o.IntervalHigh), o.Threshold))
		}
	}
	return strings.Join(out, "; ")
}

// Undecided is the adaptation policy of a run with defaults.adaptive: what
// the engine asks after each look whether to measure on. It judges the
// results so far, cand and base (the live baseline's, nil without one),
// against plan, and returns what Inconclusive names, or "" when the run may
// stop. baseline is the stored baseline, judged against when there is no
// live one (nil for none).
//
// When the run measures some components of an earlier result again (a
// confirmation: prior, and priorBase for a live baseline; nil otherwise),
// the other components are judged as they were there (Remeasured), and only
// the components measured now are asked about: measuring longer cannot
// decide the others. Results that cannot be judged are decided: no more
// data would make them judgeable.
func Undecided(plan *slo.Plan, baseline, prior, priorBase *result.Result) func(cand, base *result.Result) string {
	return func(cand, base *result.Result) string {
		full, fullBase := cand, base
		if fullBase == nil {
			fullBase = baseline
		}
		if prior != nil {
			full = Remeasured(prior, cand)
			if base != nil && priorBase != nil {
				fullBase = Remeasured(priorBase, base)
			}
		}
		v, err := Judge(plan, full, fullBase)
		if err != nil {
			return ""
		}
		for name := range v.Objectives {
			if cand.Component(name) == nil {
				delete(v.Objectives, name)
			}
		}
		return Inconclusive(v)
	}
}
