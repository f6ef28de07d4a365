package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
)

func newPlanCmd(env environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Facts about a plan",
		Long:  "plan prints facts about a plan without running it: its workload hash (plan hash).",
	}
	cmd.AddCommand(newPlanHashCmd(env))
	return cmd
}

func newPlanHashCmd(env environment) *cobra.Command {
	var (
		plan string
		seed int64
	)
	cmd := &cobra.Command{
		Use:   "hash -c PLAN [--seed N]",
		Short: "Print the hash of the plan's workloads: the key to keep a baseline under",
		Long: `Prints a short hash of the workloads the plan runs (each component's name and
workload identity, at the plan's seed or --seed's): the same whenever two runs' results
are comparable, so only a workload change makes a new one. Bars, tiers, comments,
durations and targets do not change it: key a stored baseline on it (see the
perf-gate example), not on the plan file's hash.

Exit status: 0 printed; 2 bad usage or an invalid plan.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := loadPlan(plan, env)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("seed") {
				p.Defaults.Seed = seed
			}
			_, err = fmt.Fprintln(env.stdout, gate.PlanHash(p, p.Defaults.Seed))
			return err
		},
	}
	planFlag(cmd.Flags(), &plan)
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed, overriding the plan's (as run --seed)")
	return cmd
}
