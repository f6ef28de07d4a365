package canary

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tailgate-dev/tailgate/gate"
	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// Metric names on /metrics.
const (
	MetricWindows             = "tailgate_canary_windows_total"
	MetricVerdict             = "tailgate_canary_verdict"
	MetricConsecutiveFailures = "tailgate_canary_consecutive_failures"
	MetricLastWindow          = "tailgate_canary_last_window_timestamp_seconds"
	MetricLatency             = "tailgate_canary_latency_seconds"
	MetricOperations          = "tailgate_canary_operations_total"
	MetricErrors              = "tailgate_canary_errors_total"
	MetricThroughput          = "tailgate_canary_throughput"
	MetricObjectivePassing    = "tailgate_canary_objective_passing"
	MetricObjectiveMeasured   = "tailgate_canary_objective_measured"
	MetricObjectiveThreshold  = "tailgate_canary_objective_threshold"
)

// verdicts are the values of the verdict label.
var verdicts = []status.Verdict{status.VerdictPass, status.VerdictFail, status.VerdictError}

// latencyQuantiles maps the quantile label to a Percentiles field; "1" is
// the maximum.
var latencyQuantiles = []struct {
	label string
	of    func(result.Percentiles) int64
}{
	{"0.5", func(p result.Percentiles) int64 { return p.P50 }},
	{"0.9", func(p result.Percentiles) int64 { return p.P90 }},
	{"0.99", func(p result.Percentiles) int64 { return p.P99 }},
	{"0.999", func(p result.Percentiles) int64 { return p.P999 }},
	{"1", func(p result.Percentiles) int64 { return p.Max }},
}

// metrics are the canary's collectors. Every label set comes from the plan
// (components, operations, objectives) or a fixed list, so the series do not
// grow with the number of windows.
type metrics struct {
	windows     *prometheus.CounterVec
	verdict     *prometheus.GaugeVec
	consecutive prometheus.Gauge
	lastWindow  prometheus.Gauge
	latency     *prometheus.GaugeVec
	operations  *prometheus.CounterVec
	errors      *prometheus.CounterVec
	throughput  *prometheus.GaugeVec
	passing     *prometheus.GaugeVec
	measured    *prometheus.GaugeVec
	threshold   *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry) metrics {
	objective := []string{"component", "operation", "metric"}
	m := metrics{
		windows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricWindows,
			Help: "Windows run, by verdict."}, []string{"verdict"}),
		verdict: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricVerdict,
			Help: "1 for the latest window's verdict, 0 for the others."}, []string{"verdict"}),
		consecutive: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricConsecutiveFailures,
			Help: "Failing windows in a row, up to the latest."}),
		lastWindow: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricLastWindow,
			Help: "When the latest window ended, Unix seconds."}),
		latency: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricLatency,
			Help: "Latest window's corrected latency (intended start to completion) at a quantile; 1 is the maximum."},
			[]string{"component", "operation", "quantile"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricOperations,
			Help: "Successful operations measured, all windows."}, []string{"component", "operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricErrors,
			Help: "Failed operations measured, all windows."}, []string{"component", "operation"}),
		throughput: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricThroughput,
			Help: "Latest window's achieved rate, operations per second."}, []string{"component"}),
		passing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricObjectivePassing,
			Help: "Latest window: 1 when the minimum bar passed, 0 when it failed or could not be judged."}, objective),
		measured: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricObjectiveMeasured,
			Help: "Latest window's measured value of the bar's metric: seconds for latencies, a ratio for error_rate and throughput."}, objective),
		threshold: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricObjectiveThreshold,
			Help: "The minimum bar: seconds for latencies, a ratio for error_rate and throughput."}, objective),
	}
	reg.MustRegister(m.windows, m.verdict, m.consecutive, m.lastWindow, m.latency, m.operations, m.errors,
		m.throughput, m.passing, m.measured, m.threshold)
	for _, v := range verdicts {
		m.windows.WithLabelValues(string(v))
		m.verdict.WithLabelValues(string(v))
	}
	return m
}

// publish records one window. res and v may be nil (the window could not be
// measured): then only the verdict series change, and the latest latencies
// stay those of the last measured window. An operation with no successful
// sample in a measured window (its target went away, every call failed)
// has no latency series until it has one again: a 0 would read as replies
// that took no time, and hide an outage from a latency alert.
func (m metrics) publish(verdict status.Verdict, consecutive int, end time.Time, res *result.Result, v *gate.Verdict) {
	m.windows.WithLabelValues(string(verdict)).Inc()
	for _, s := range verdicts {
		val := 0.0
		if s == verdict {
			val = 1
		}
		m.verdict.WithLabelValues(string(s)).Set(val)
	}
	m.consecutive.Set(float64(consecutive))
	m.lastWindow.Set(float64(end.UnixNano()) / 1e9)
	if res == nil {
		return
	}
	for _, c := range res.Components {
		for _, o := range c.Operations {
			for _, q := range latencyQuantiles {
				if o.Count == 0 {
					m.latency.DeleteLabelValues(c.Name, o.Name, q.label)
					continue
				}
				m.latency.WithLabelValues(c.Name, o.Name, q.label).Set(float64(q.of(o.LatencyNS)) / 1e9)
			}
			m.operations.WithLabelValues(c.Name, o.Name).Add(float64(o.Count))
			m.errors.WithLabelValues(c.Name, o.Name).Add(float64(o.Errors))
			if o.Name == slo.AllOperations {
				m.throughput.WithLabelValues(c.Name).Set(o.AchievedRate)
			}
		}
	}
	if v == nil {
		return
	}
	for comp, objs := range v.Objectives {
		for _, o := range objs {
			labels := []string{comp, o.Operation, o.Metric}
			passing := 0.0
			if o.Status == status.Pass {
				passing = 1
			}
			m.passing.WithLabelValues(labels...).Set(passing)
			scale := 1.0
			if slo.Metric(o.Metric).IsLatency() {
				scale = 1e-9
			}
			m.threshold.WithLabelValues(labels...).Set(o.ThresholdValue * scale)
			if o.Status == status.Insufficient {
				m.measured.DeleteLabelValues(labels...)
			} else {
				m.measured.WithLabelValues(labels...).Set(o.MeasuredValue * scale)
			}
		}
	}
}
