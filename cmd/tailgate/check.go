package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/result"
)

func newCheckCmd(env environment) *cobra.Command {
	var plan, baselineFile, reportDir string
	var hist trend
	cmd := &cobra.Command{
		Use:   "check -c PLAN RESULT [--baseline RESULT] [--report-dir DIR]",
		Short: "Judge a saved result against the plan, without sending load",
		Long: `check judges a result file that run wrote earlier against the plan, as run would have
judged it, without sending load: the minimum bars, the aspirational milestones and, with
--baseline, the regression tier. The result must be of the plan's workloads. It prints the
diff report, writes every report with --report-dir and exits with the verdict.`,
		Args: needArgs(1, 1, "RESULT, the result file to judge (what run wrote with --out)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPlan(plan, env)
			if err != nil {
				return err
			}
			res, baseline, err := readResults(args[0], baselineFile)
			if err != nil {
				return err
			}
			if err := gate.Judgeable(p, res); err != nil {
				return usageError(fmt.Errorf("%s: %w", args[0], err))
			}
			if baseline != nil {
				if err := gate.Comparable(baseline, res); err != nil {
					return usageError(fmt.Errorf("--baseline %q: %w", baselineFile, err))
				}
			}
			if reportDir != "" {
				if err := checkWritableDir(reportDir, "--report-dir"); err != nil {
					return err
				}
			}
			if err := hist.open(env); err != nil {
				return err
			}
			if !res.Complete {
				return judgeAndReport(p, res, baseline, baselineFile, "", reportDir, &hist,
					runError(fmt.Errorf("result %q is incomplete: %s", args[0], res.Incomplete)), env)
			}
			return judgeAndReport(p, res, baseline, baselineFile, "", reportDir, &hist, nil, env)
		},
	}
	planFlag(cmd.Flags(), &plan)
	cmd.Flags().StringVar(&baselineFile, "baseline", "", "baseline result file for the regression tier")
	cmd.Flags().StringVar(&reportDir, "report-dir", "", "directory for the reports")
	cmd.Flags().StringVar(&hist.dir, "history", "", "history directory to judge the plan's trend tier against (the result is not added)")
	hist.flags.register(cmd)
	return cmd
}

// readResults reads a result and, when a path is given, its baseline; a bad
// file is bad input.
func readResults(path, baselinePath string) (res, baseline *result.Result, err error) {
	if res, err = result.Read(path); err != nil {
		return nil, nil, usageError(err)
	}
	if baselinePath != "" {
		if baseline, err = result.Read(baselinePath); err != nil {
			return nil, nil, usageError(err)
		}
	}
	return res, baseline, nil
}
