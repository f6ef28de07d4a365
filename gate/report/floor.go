package report

import (
	"fmt"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// FloorText describes a component's measurement floor in one phrase: how
// late tailgate itself was at p99 (the client delay of all its operations
// plus the runner's wake-up delay), what share of sends was late, and the
// runner's CPU probe, CPU pressure and steal where recorded. Empty
// when the result records no client delay (a closed-loop run, an older
// result).
func FloorText(res *result.Result, c *result.ComponentResult) string {
	all := c.Operation(slo.AllOperations)
	if all == nil || all.ClientDelayNS == nil {
		return ""
	}
	late := "0%"
	if all.Count > 0 {
		late = gate.FormatPercent(float64(all.Late) / float64(all.Count))
	}
	if res.Runner == nil {
		return fmt.Sprintf("p99 client delay %s, %s of sends late", Latency(all.ClientDelayNS.P99), late)
	}
	text := fmt.Sprintf("p99 %s (client delay %s + runner wake-up delay %s), %s of sends late; runner CPU probe p50 %s on %d CPUs",
		Latency(all.ClientDelayNS.P99+res.Runner.WakeupNS.P99), Latency(all.ClientDelayNS.P99), Latency(res.Runner.WakeupNS.P99),
		late, Latency(res.Runner.CPUProbeNS.P50), res.Runner.CPUs)
	if p := res.Runner.CPUPressure; p != nil {
		text += ", CPU pressure " + gate.FormatPercent(*p)
	}
	if p := res.Runner.CPUSteal; p != nil {
		text += ", CPU steal " + gate.FormatPercent(*p)
	}
	return text
}
