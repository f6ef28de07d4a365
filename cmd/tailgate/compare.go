package main

import (
	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/report"
	"github.com/tailgate-dev/tailgate/result"
)

func newCompareCmd(env environment) *cobra.Command {
	var confidence string
	cmd := &cobra.Command{
		Use:   "compare BASELINE CANDIDATE",
		Short: "Print the side-by-side diff of two results, with what changed beyond noise",
		Long: `compare lines up every operation and percentile of two results of the same workload:
the baseline's value, the candidate's, the change with its confidence interval and p-value,
and "~" where nothing changed beyond noise; rows no test stands behind (max, a percentile
with too few samples) are marked "not tested". It judges nothing: the exit status is 0 unless
the input is bad (2), such as results of different workloads or a shard's result.`,
		Args: needArgs(2, 2, "BASELINE and CANDIDATE, the two result files to compare"),
		RunE: func(_ *cobra.Command, args []string) error {
			conf := 0.95
			if confidence != "" {
				c, err := parsePercentFlag("confidence", confidence)
				if err != nil {
					return err
				}
				conf = c
			}
			base, err := result.Read(args[0])
			if err != nil {
				return usageError(err)
			}
			cand, err := result.Read(args[1])
			if err != nil {
				return usageError(err)
			}
			changes, err := gate.Compare(base, cand, conf)
			if err != nil {
				return usageError(err)
			}
			return report.Compare(env.stdout, args[0], args[1], changes, gate.CompareWarnings(base, cand))
		},
	}
	cmd.Flags().StringVar(&confidence, "confidence", "", "one-sided confidence of \"beyond noise\" (default 95%)")
	return cmd
}
