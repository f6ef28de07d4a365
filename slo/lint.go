package slo

import (
	"fmt"
	"sort"
	"strings"
)

// Lint returns warnings about a valid plan that is probably not what its
// author meant: an aspirational bar no tighter than the minimum it should
// improve on, a latency bar at or above the timeout (slower operations are errors, so the
// bar can never be missed on latency), latency bars without an error-rate
// bar (a target that fails every operation fast meets them), a component
// with no objectives, and TLS settings that have no effect.
func (p *Plan) Lint() []Warning {
	var warnings []Warning
	warn := func(c *Component, pos Position, format string, args ...any) {
		warnings = append(warnings, Warning{File: p.File, Pos: pos, Component: c.Name, Msg: fmt.Sprintf(format, args...)})
	}
	for i := range p.Components {
		c := &p.Components[i]
		s := &c.SLO
		if len(s.Minimum)+len(s.Aspirational)+len(s.Regression) == 0 {
			warn(c, c.Pos, "no objectives: the component is loaded but never judged")
		}
		if tls := c.Workload.TLS; tls != (TLS{}) && !usesTLS(c.Target) {
			warn(c, c.Pos, "workload.tls has no effect on a target without TLS; use rediss://, memcaches://, https:// or grpcs://")
		} else if tls.CAFile != "" && tls.InsecureSkipVerify {
			warn(c, c.Pos, "workload.tls.ca_file has no effect while insecure_skip_verify is true")
		}
		for _, tier := range [][]Objective{s.Minimum, s.Aspirational, s.Regression} {
			for _, o := range tier {
				if o.Tier != TierRegression && o.Metric.IsLatency() && c.Workload.Timeout > 0 && o.Threshold.Latency >= c.Workload.Timeout {
					warn(c, o.Pos, "%s %s %s %s is not below the timeout %s: slower operations count as errors, so this bar is never missed on latency",
						o.Tier, o.Operation, o.Metric, o.shown(), FormatDuration(c.Workload.Timeout))
				}
			}
		}
		if first, ok := firstLatencyBar(s.Minimum); ok && !hasMetric(s.Minimum, MetricErrorRate) {
			warn(c, first.Pos, "minimum latency bars but no error_rate bar: failed operations are counted, never recorded as latencies, so a target that fails every %s still meets %s %s %s; add all: {error_rate: ...}",
				first.Operation, first.Operation, first.Metric, first.shown())
		}
		for _, a := range s.Aspirational {
			for _, m := range s.Minimum {
				if a.Operation == m.Operation && a.Metric == m.Metric && !tighter(a, m) {
					warn(c, a.Pos, "aspirational %s %s %s is not tighter than the minimum %s (line %d): it is met whenever the minimum is, so promoting it changes nothing",
						a.Operation, a.Metric, a.shown(), m.shown(), m.Pos.Line)
				}
			}
		}
	}
	sort.SliceStable(warnings, func(i, j int) bool {
		a, b := warnings[i].Pos, warnings[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return warnings
}

// firstLatencyBar is the first latency objective of a tier.
func firstLatencyBar(tier []Objective) (Objective, bool) {
	for _, o := range tier {
		if o.Metric.IsLatency() {
			return o, true
		}
	}
	return Objective{}, false
}

// hasMetric reports whether a tier has an objective on metric m.
func hasMetric(tier []Objective, m Metric) bool {
	for _, o := range tier {
		if o.Metric == m {
			return true
		}
	}
	return false
}

// usesTLS reports whether a target's scheme speaks TLS.
func usesTLS(target string) bool {
	for _, scheme := range []string{"rediss://", "memcaches://", "https://", "grpcs://"} {
		if len(target) >= len(scheme) && strings.EqualFold(target[:len(scheme)], scheme) {
			return true
		}
	}
	return false
}

// tighter reports whether objective a is a stricter bar than b on the same
// operation and metric: lower latency or error rate, higher throughput.
func tighter(a, b Objective) bool {
	switch {
	case a.Metric.IsLatency():
		return a.Threshold.Latency < b.Threshold.Latency
	case a.Metric.HigherIsBetter():
		return a.Threshold.Ratio > b.Threshold.Ratio
	default:
		return a.Threshold.Ratio < b.Threshold.Ratio
	}
}
