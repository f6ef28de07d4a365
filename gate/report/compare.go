package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tailgate-dev/tailgate/gate"
)

// Compare writes the side-by-side diff of two results: every operation and
// metric, the change, its interval and whether it is beyond noise ("~" when
// it is not).
func Compare(w io.Writer, baseName, candName string, changes []gate.Change) error {
	ew := &errWriter{w: w}
	ew.printf("tailgate compare: baseline %s, candidate %s\n\n", baseName, candName)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tOPERATION\tMETRIC\tBASELINE\tCANDIDATE\tCHANGE\tINTERVAL\tP")
	moved := 0
	for _, c := range changes {
		change, interval, p := "-", "", ""
		switch {
		case !c.Judgeable:
			change = SignedPercent(c.Ratio - 1)
			interval = c.Note
		case c.Significant:
			moved++
			change = SignedPercent(c.Ratio - 1)
		default:
			change = "~ (" + SignedPercent(c.Ratio-1) + ")"
		}
		if c.Judgeable {
			p = fmt.Sprintf("%.3f", c.PValue)
			if c.High != 0 {
				interval = "[" + SignedPercent(c.Low-1) + ", " + SignedPercent(c.High-1) + "]"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Component, c.Operation, c.Metric,
			gate.FormatValue(c.Metric, c.Base), gate.FormatValue(c.Metric, c.Cand), change, interval, p)
	}
	tw.Flush()
	ew.printf("\n%d of %d changes are beyond noise; \"~\" marks no significant change.\n", moved, len(changes))
	return ew.err
}
