package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tailgate-dev/tailgate/gate"
)

// Compare writes the side-by-side diff of two results: every operation and
// metric, the change, its interval and whether it is beyond noise ("~" when
// it is not). A change no test stands behind (a maximum, a percentile with
// too few samples) is marked "not tested", never shown as a change.
// warnings (gate.CompareWarnings) come first, under the header.
func Compare(w io.Writer, baseName, candName string, changes []gate.Change, warnings []string) error {
	ew := &errWriter{w: w}
	ew.printf("tailgate compare: baseline %s, candidate %s\n", baseName, candName)
	for _, warn := range warnings {
		ew.printf("warning: %s\n", warn)
	}
	ew.printf("\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tOPERATION\tMETRIC\tBASELINE\tCANDIDATE\tCHANGE\tINTERVAL\tP")
	moved, tested := 0, 0
	for _, c := range changes {
		var change, interval, p string
		switch {
		case !c.Tested:
			change = "not tested"
			interval = c.Note
		case c.Significant:
			change = SignedPercent(c.Ratio - 1)
		default:
			change = "~ (" + SignedPercent(c.Ratio-1) + ")"
		}
		if c.Tested {
			tested++
			if c.Significant {
				moved++
			}
			p = fmt.Sprintf("%.3f", c.PValue)
			if c.High != 0 {
				interval = "[" + SignedPercent(c.Low-1) + ", " + SignedPercent(c.High-1) + "]"
			}
		}
		bv, cv := c.Values()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Component, c.Operation, c.Metric,
			bv, cv, change, interval, p)
	}
	tw.Flush()
	ew.printf("\n%d of %d tested changes are beyond noise; \"~\" marks no change beyond noise.\n", moved, tested)
	if n := len(changes) - tested; n > 0 {
		ew.printf("%s not tested: no statistics stand behind them, so they say nothing about a change.\n", gate.Plural(n, "row is", "rows are"))
	}
	return ew.err
}
