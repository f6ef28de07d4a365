package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tailgate-dev/tailgate/gate/report"
)

func newReportCmd(env environment) *cobra.Command {
	var dir, baselineFile string
	cmd := &cobra.Command{
		Use:   "report RESULT --report-dir DIR [--baseline RESULT]",
		Short: "Write the reports of a saved result: Markdown, JUnit, HTML, HdrHistogram log",
		Long: `report renders a saved result as it was judged: report.txt, report.md, junit.xml,
report.html and histograms.hlog, with the result beside them. --baseline overlays a baseline's
percentile spectrum on the HTML charts. It sends no load and judges nothing: to judge again
against a plan, use check.`,
		Args: needArgs(1, 1, "RESULT, the saved result file to render"),
	}
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if dir == "" {
			return usageError(errors.New("report: --report-dir DIR is required"))
		}
		res, baseline, err := readResults(args[0], baselineFile)
		if err != nil {
			return err
		}
		if err := checkWritableDir(dir, "--report-dir"); err != nil {
			return err
		}
		if err := report.WriteDirWithBaseline(dir, res, baseline); err != nil {
			return runError(err)
		}
		verdict := "verdict " + string(res.Verdict)
		if res.Shard != nil && res.Shard.Count > 1 {
			verdict = fmt.Sprintf("shard %d of %d, not judged", res.Shard.Index, res.Shard.Count)
		}
		_, err = fmt.Fprintf(env.stdout, "tailgate: reports of %s (%s) written to %s\n", args[0], verdict, dir)
		return err
	}
	cmd.Flags().StringVar(&dir, "report-dir", "", "directory for the reports")
	cmd.Flags().StringVar(&baselineFile, "baseline", "", "baseline result to overlay on the charts")
	return cmd
}
