package gate

import (
	"fmt"
	"strings"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// ExitCode is the CLI's exit status for a run's verdict: ExitPass for
// pass, ExitFail for fail, and ExitRun for error or anything else, since a
// verdict the gate cannot read is never a pass.
func ExitCode(v status.Verdict) int {
	switch v {
	case status.VerdictPass:
		return ExitPass
	case status.VerdictFail:
		return ExitFail
	}
	return ExitRun
}

// JudgeRun judges a result as run and check write it: a shard's result is
// not judged (ShardVerdict), any other is judged by Judge against baseline
// (nil for none). runFailed is whether the run itself failed (a target
// unreachable, an interrupt, too many errors): its verdict is then error,
// whatever its objectives say, so a failed run never passes.
func JudgeRun(plan *slo.Plan, res, baseline *result.Result, runFailed bool) (*Verdict, error) {
	return JudgeRunWithHistory(plan, res, baseline, nil, runFailed)
}

// JudgeRunWithHistory is JudgeRun with the trend tier judged against hist
// (see JudgeWithHistory).
func JudgeRunWithHistory(plan *slo.Plan, res, baseline *result.Result, hist *History, runFailed bool) (*Verdict, error) {
	var v *Verdict
	if s := res.Shard; s != nil && s.Count > 1 {
		v = ShardVerdict(res)
	} else {
		var err error
		if v, err = JudgeWithHistory(plan, res, baseline, hist); err != nil {
			return nil, err
		}
	}
	if runFailed {
		v.Status = status.VerdictError
	}
	return v, nil
}

// Remeasure measures the named components again, with the same seed, and
// returns their results: the candidate's, and the live baseline's when the
// run is interleaved with one (nil otherwise). attempt counts from 1; res
// and baseline are the results so far, of every component. Confirm calls
// it; the caller runs the load, which gate never does.
type Remeasure func(attempt int, components []string, res, baseline *result.Result) (again, againBase *result.Result, err error)

// Confirm measures the failing components of a run again, up to the plan's
// defaults.confirm times: a failure stands only when it reproduces every
// time. Noise that fails a run once rarely fails it twice; a regression
// does. Only components with a failed objective are measured again, and
// their new results replace the old ones (Remeasured), in the baseline too
// when the run has a live one. Each attempt adds a warning saying whether
// the failure reproduced; the first that does not ends the confirmation.
//
// A result that does not fail, that cannot be judged (a shard's), or whose
// failure is no failed objective (defaults.inconclusive: fail) is returned
// as it is. An error from remeasure is returned with the results
// measured before it.
func Confirm(plan *slo.Plan, res, baseline *result.Result, remeasure Remeasure) (*result.Result, *result.Result, error) {
	attempts := plan.Defaults.Confirm
	for attempt := 1; attempt <= attempts; attempt++ {
		v, err := Judge(plan, res, baseline)
		if err != nil || v.Status != status.VerdictFail {
			return res, baseline, nil
		}
		failing := failingComponents(plan, v)
		if len(failing) == 0 {
			// Failed by defaults.inconclusive: fail, with no failed
			// objective: no measurement failed that could be confirmed.
			return res, baseline, nil
		}
		again, againBase, err := remeasure(attempt, failing, res, baseline)
		if err != nil {
			return res, baseline, err
		}
		res = Remeasured(res, again)
		if againBase != nil && baseline != nil {
			baseline = Remeasured(baseline, againBase)
		}
		v2, err := Judge(plan, res, baseline)
		if err != nil {
			return res, baseline, nil
		}
		outcome := "the failure reproduced"
		if v2.Status != status.VerdictFail {
			outcome = "the failure did not reproduce: the first measurement was noise"
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("confirmation %d of %d: re-measured %s with the same seed: %s",
			attempt, attempts, strings.Join(failing, ", "), outcome))
	}
	return res, baseline, nil
}

// failingComponents names the plan's components with a failed objective in
// v, in plan order.
func failingComponents(plan *slo.Plan, v *Verdict) []string {
	var names []string
	for _, c := range plan.Components {
		for _, o := range v.Objectives[c.Name] {
			if o.Status == status.Fail {
				names = append(names, c.Name)
				break
			}
		}
	}
	return names
}

// Remeasured returns res with the components of again, a re-measurement of
// some of them, in place of its own, and again's warnings after its own.
// res itself is not changed.
func Remeasured(res, again *result.Result) *result.Result {
	out := *res
	out.Components = append([]result.ComponentResult(nil), res.Components...)
	for _, c := range again.Components {
		for i := range out.Components {
			if out.Components[i].Name == c.Name {
				out.Components[i] = c
			}
		}
	}
	out.Warnings = append(append([]string(nil), res.Warnings...), again.Warnings...)
	return &out
}
