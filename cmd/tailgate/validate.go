package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd(env environment) *cobra.Command {
	var plan string
	cmd := &cobra.Command{
		Use:   "validate -c PLAN",
		Short: "Check a plan: errors as run would report them, plus warnings",
		Long: `validate reads the plan as run would, strictly, and sends no load: unknown keys, bad
values, objectives on operations the workload never issues and percentiles the duration and
rate cannot estimate are errors, every one printed with file:line:column. Warnings point at
what is valid but probably not meant (an aspirational bar looser than its minimum, latency
bars without an error_rate bar, a bar at or above the timeout); they do not fail the plan.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			p, err := loadPlan(plan, env)
			if err != nil {
				return err
			}
			warnings := p.Lint()
			for _, w := range warnings {
				fmt.Fprintln(env.stdout, w)
			}
			fmt.Fprintf(env.stdout, "%s: valid, %d components, %d warnings\n", p.File, len(p.Components), len(warnings))
			return nil
		},
	}
	planFlag(cmd.Flags(), &plan)
	return cmd
}
