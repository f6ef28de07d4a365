package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// ErrIncomparable marks two results whose workloads differ, so comparing
// them would compare apples to oranges; also a result judged against a plan
// whose workload is not the one that produced it.
var ErrIncomparable = errors.New("results are not comparable")

// ErrShard marks a shard's result given where a whole run's is needed: a
// shard sends a share of the load, so the plan's bars are for the merged
// result, not for it.
var ErrShard = errors.New("a shard result: merge the shards, then check the merged result")

// identified is one component's workload identity, from a result or a plan.
type identified struct {
	name string
	id   result.WorkloadIdentity
	hash string
}

// identitiesOf lists the workload identities of a result's components.
func identitiesOf(res *result.Result) []identified {
	out := make([]identified, len(res.Components))
	for i, c := range res.Components {
		out[i] = identified{c.Name, c.Workload, c.WorkloadHash}
	}
	return out
}

// planIdentity is the workload identity a run of comp makes at seed.
func planIdentity(plan *slo.Plan, comp *slo.Component, seed int64) result.WorkloadIdentity {
	return result.IdentityOf(comp, seed, plan.Secrets)
}

// Comparable checks that two results ran the same workloads, and says what
// differs when they did not. A shard is comparable with nothing: its
// percentiles are of a share of the load.
func Comparable(base, cand *result.Result) error {
	if err := notAShard(base, "the baseline"); err != nil {
		return err
	}
	if err := notAShard(cand, "the candidate"); err != nil {
		return err
	}
	return comparableWith(base, identitiesOf(cand))
}

// PlanHash is a short digest of the workloads plan runs at seed: each
// component's name and workload identity, in the plan's order. Two plans
// with the same hash make results Comparable with each other, whatever
// else differs (bars, comments, durations, targets), so it is the key under
// which to keep a baseline (`tailgate plan hash`).
func PlanHash(plan *slo.Plan, seed int64) string {
	h := sha256.New()
	for i := range plan.Components {
		comp := &plan.Components[i]
		fmt.Fprintf(h, "%q %s\n", comp.Name, planIdentity(plan, comp, seed).Hash())
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// BaselineComparable checks, before a run sends any load, that baseline
// ran the workload the plan is about to run, at the plan's seed: what
// Comparable will ask of the run's result, asked early so no load is sent
// against a baseline it cannot be judged with. The messages are
// Comparable's.
func BaselineComparable(plan *slo.Plan, baseline *result.Result) error {
	if err := notAShard(baseline, "the baseline"); err != nil {
		return err
	}
	cand := make([]identified, len(plan.Components))
	for i := range plan.Components {
		comp := &plan.Components[i]
		id := planIdentity(plan, comp, plan.Defaults.Seed)
		cand[i] = identified{comp.Name, id, id.Hash()}
	}
	return comparableWith(baseline, cand)
}

// notAShard refuses a shard's result on side (ErrIncomparable, ErrShard).
func notAShard(res *result.Result, side string) error {
	if s := res.Shard; s != nil && s.Count > 1 {
		return fmt.Errorf("%w: %s is shard %d of %d (%w)", ErrIncomparable, side, s.Index, s.Count, ErrShard)
	}
	return nil
}

// comparableWith checks that the baseline ran each candidate workload.
func comparableWith(baseline *result.Result, cand []identified) error {
	var diffs []string
	for _, c := range cand {
		b := baseline.Component(c.name)
		if b == nil {
			diffs = append(diffs, fmt.Sprintf("component %q is not in the baseline", c.name))
			continue
		}
		if b.WorkloadHash == c.hash {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("component %q: %s", c.name, describeDiffs(b.Workload, c.id, "the baseline", "the candidate")))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %s", ErrIncomparable, strings.Join(diffs, "; "))
	}
	return nil
}

// Judgeable checks that res can be judged against plan: it is a whole run,
// not a shard (ErrShard), and each of the plan's components ran the plan's
// workload (ErrIncomparable, saying what differs). The seed is left out:
// run --seed changes it without changing the plan. A result written before
// results carried their workload identity is taken as it is.
func Judgeable(plan *slo.Plan, res *result.Result) error {
	if s := res.Shard; s != nil && s.Count > 1 {
		return fmt.Errorf("shard %d of %d: %w", s.Index, s.Count, ErrShard)
	}
	var diffs []string
	for i := range plan.Components {
		comp := &plan.Components[i]
		c := res.Component(comp.Name)
		if c == nil {
			diffs = append(diffs, fmt.Sprintf("component %q of the plan is not in the result", comp.Name))
			continue
		}
		if c.WorkloadHash == "" {
			continue
		}
		want := planIdentity(plan, comp, c.Workload.Seed)
		if want.Hash() == c.WorkloadHash {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("component %q: %s", comp.Name, describeDiffs(want, c.Workload, "the plan", "the result")))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: the result is not of plan %q's workload: %s", ErrIncomparable, plan.File, strings.Join(diffs, "; "))
	}
	return nil
}

// Evidence checks that res may vouch for plan's aspirational milestones, as
// promote asks: a whole run (a shard carried only part of the load), with
// every component of the plan, each of the workload the plan asks now
// (another seed is another sample of the same workload, and fine), and run
// against a deployment when the plan targets one, not against the embedded
// server.
func Evidence(plan *slo.Plan, res *result.Result) error {
	if s := res.Shard; s != nil && s.Count > 1 {
		return fmt.Errorf("it is shard %d/%d of a run, which carried only part of the load; merge the shards first", s.Index, s.Count)
	}
	for i := range plan.Components {
		comp := &plan.Components[i]
		rc := res.Component(comp.Name)
		if rc == nil {
			return fmt.Errorf("it has no component %q: it is a result of another plan", comp.Name)
		}
		want := planIdentity(plan, comp, res.Seed)
		if rc.WorkloadHash != want.Hash() {
			var names []string
			for _, f := range rc.Workload.Diff(want) {
				names = append(names, f.Name)
			}
			if len(names) == 0 {
				names = []string{"workload hashes"}
			}
			return fmt.Errorf("component %q ran another workload than the plan asks now (%s differ): its numbers are no evidence for these bars",
				comp.Name, strings.Join(names, ", "))
		}
		if rc.Embedded && comp.Target != slo.EmbeddedRedis {
			return fmt.Errorf("component %q ran against tailgate's embedded server, not a deployment: it is no evidence for the plan's target", comp.Name)
		}
	}
	return nil
}

// describeDiffs says how workload a (of side aName) differs from b (bName).
func describeDiffs(a, b result.WorkloadIdentity, aName, bName string) string {
	var out []string
	for _, f := range a.Diff(b) {
		out = append(out, fmt.Sprintf("%s %v in %s, %v in %s", f.Name, f.A, aName, f.B, bName))
	}
	if len(out) == 0 {
		return "workload hashes differ"
	}
	return strings.Join(out, ", ")
}
