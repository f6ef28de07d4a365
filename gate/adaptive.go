package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tailgate-dev/tailgate/gate/stats"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
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
