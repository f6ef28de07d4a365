package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// durationUnits lists the accepted duration units, for messages.
const durationUnits = "ns, us, µs, ms, s, m, h"

var (
	// durationPattern is the duration grammar of the package doc. Both the
	// micro sign (U+00B5) and the Greek mu (U+03BC) are accepted, as
	// time.ParseDuration does, since keyboards produce either.
	durationPattern = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|μs|ms|s|m|h))+$`)
	unsignedPattern = regexp.MustCompile(`^[0-9]+(?:\.[0-9]+)?%$`)
	signedPattern   = regexp.MustCompile(`^[+-][0-9]+(?:\.[0-9]+)?%$`)
	bareNumber      = regexp.MustCompile(`^[+-]?[0-9.]+$`)
	unsignedNumber  = regexp.MustCompile(`^[0-9]+(?:\.[0-9]+)?$`)
)

// ParseDuration parses a non-negative duration such as 2ms, 1.5s or 1m30s.
// Every number needs a unit (ns, us, µs, ms, s, m, h); only "0" may stand
// alone. Signs, exponents and values beyond about 292 years are rejected.
func ParseDuration(s string) (time.Duration, error) {
	switch {
	case s == "0":
		return 0, nil
	case s == "":
		return 0, fmt.Errorf("invalid duration %q: empty; want a number and a unit, like 250ms or 1.5s", clip(s))
	case s[0] == '-':
		return 0, fmt.Errorf("invalid duration %q: must not be negative", clip(s))
	case bareNumber.MatchString(s):
		return 0, fmt.Errorf("invalid duration %q: missing unit; use one of %s", clip(s), durationUnits)
	case !durationPattern.MatchString(s):
		return 0, fmt.Errorf("invalid duration %q: want a number and a unit, like 250ms or 1.5s (units: %s)", clip(s), durationUnits)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// The syntax was checked above, so only overflow is left.
		return 0, fmt.Errorf("invalid duration %q: too large", clip(s))
	}
	return d, nil
}

// ParsePercent parses an unsigned percent such as 99% or 0.1% into a
// fraction (0.99, 0.001). The % sign is required so that 0.1 and 0.1% are
// never confused. Ranges are the caller's to check.
func ParsePercent(s string) (float64, error) {
	if !unsignedPattern.MatchString(s) {
		switch {
		case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
			return 0, fmt.Errorf("invalid percent %q: must not have a sign (signed changes like +10%% belong in the regression tier)", clip(s))
		case bareNumber.MatchString(s):
			return 0, fmt.Errorf("invalid percent %q: needs a %% sign, like 99%% or 0.1%%", clip(s))
		}
		return 0, fmt.Errorf("invalid percent %q: want a number and a %% sign, like 99%% or 0.1%%", clip(s))
	}
	return percentValue(s, strings.TrimSuffix(s, "%"))
}

// ParseRelative parses a signed relative change such as +10% or -5% into a
// fraction (0.10, -0.05). The sign is required: it says which way the bar
// moves. Ranges are the caller's to check.
func ParseRelative(s string) (float64, error) {
	if !signedPattern.MatchString(s) {
		switch {
		case unsignedPattern.MatchString(s):
			return 0, fmt.Errorf("invalid relative change %q: needs a sign, like +%s", clip(s), clip(s))
		case bareNumber.MatchString(s) && (s[0] == '+' || s[0] == '-'):
			return 0, fmt.Errorf("invalid relative change %q: needs a %% sign, like %s%%", clip(s), clip(s))
		case bareNumber.MatchString(s):
			return 0, fmt.Errorf("invalid relative change %q: needs a sign and a %% sign, like +10%% or -5%%", clip(s))
		}
		return 0, fmt.Errorf("invalid relative change %q: want a sign, a number and a %% sign, like +10%% or -5%%", clip(s))
	}
	return percentValue(s, strings.TrimSuffix(s, "%"))
}

// percentValue converts the checked number of a percent to a fraction.
func percentValue(s, number string) (float64, error) {
	f, err := strconv.ParseFloat(number, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid percent %q: too large", clip(s))
	}
	if f == 0 {
		return 0, nil // never -0: "-0%" is no change, and prints as +0%
	}
	return f / 100, nil
}

// ParseRate parses a rate such as 30000/s or 2.5/s: operations per second,
// the bar of a capacity objective. The "/s" is required so that a rate is
// never read as a count. Ranges are the caller's to check.
func ParseRate(s string) (float64, error) {
	return parseRate(s, false)
}

// ParseRateArg parses a rate given on the command line, where no count can
// be meant: a rate as ParseRate reads it (30000/s), or the same number
// without its /s (30000). Ranges are the caller's to check.
func ParseRateArg(s string) (float64, error) {
	return parseRate(s, true)
}

// parseRate reads a rate by the grammar of the package doc, its "/s"
// optional when bare is true.
func parseRate(s string, bare bool) (float64, error) {
	number, ok := strings.CutSuffix(s, "/s")
	if !ok && bare {
		number, ok = s, true
	}
	if !ok || !unsignedNumber.MatchString(number) {
		if bareNumber.MatchString(s) && !bare {
			return 0, fmt.Errorf("invalid rate %q: needs /s, like %s/s", clip(s), clip(s))
		}
		return 0, fmt.Errorf("invalid rate %q: want operations per second, like 30000/s", clip(s))
	}
	f, err := strconv.ParseFloat(number, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid rate %q: too large", clip(s))
	}
	return f, nil
}

// FormatRate writes a rate as a plan writes it: 30000/s.
func FormatRate(r float64) string {
	return formatNumber(r) + "/s"
}

// ParseMetric parses a metric name: p50, p90, p99, p99.9, p99.99, max,
// error_rate, throughput or hit_rate, or a latency of a streaming call,
// first_message. or complete. before a latency (first_message.p99).
// complete. names the latency every latency metric judges, to the end of
// the operation, so it is parsed as the plain metric: complete.p99 is
// p99, in the plan's checks, the verdicts, the reports and promote.
func ParseMetric(s string) (Metric, error) {
	for _, m := range Metrics {
		if s == string(m) {
			return m, nil
		}
	}
	if latency, plain := Metric(s).Latency(); latency != "" {
		if !contains(latencyNames(), string(plain)) {
			return "", fmt.Errorf("unknown metric %q: %s takes a latency: %s.%s", clip(s), latency, latency, strings.Join(latencyNames(), ", "+latency+"."))
		}
		if latency == LatencyComplete {
			return plain, nil
		}
		return Metric(s), nil
	}
	return "", fmt.Errorf("unknown metric %q; allowed: %s; for streaming calls also %s.p99, %s.p99 and the like", clip(s), metricList(), LatencyFirstMessage, LatencyComplete)
}

// latencyNames lists the latency metrics, in display order.
func latencyNames() []string {
	var names []string
	for _, m := range Metrics {
		if m.IsLatency() {
			names = append(names, string(m))
		}
	}
	return names
}

// clip shortens s for quoting in a message, so that a megabyte of garbage
// in a plan does not become a megabyte of error.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// metricList renders Metrics for messages.
func metricList() string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// durationUnitTable lists the units FormatDuration picks from, smallest first.
var durationUnitTable = []struct {
	name string
	size time.Duration
	// next is how many of this unit make the next one.
	next float64
}{
	{"ns", time.Nanosecond, 1000},
	{"us", time.Microsecond, 1000},
	{"ms", time.Millisecond, 1000},
	{"s", time.Second, 60},
	{"m", time.Minute, 60},
}

// FormatDuration prints d compactly for reports, in the largest unit that
// keeps it at or above 1, with at most three significant digits: 2ms,
// 1.23ms, 850us, 12.5s, 1.5m. The output parses back with ParseDuration
// (for non-negative d), to the same value when nothing was rounded.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	magnitude := math.Abs(float64(d))
	if d < 0 {
		sign = "-"
	}
	for _, unit := range durationUnitTable {
		text := threeDigits(magnitude / float64(unit.size))
		// Rounding may carry into the next unit: 999.7us is 1ms.
		if rounded, _ := strconv.ParseFloat(text, 64); rounded < unit.next {
			return sign + text + unit.name
		}
	}
	hours := magnitude / float64(time.Hour)
	if hours >= 1000 {
		// Whole hours, rounded down so that the longest durations still
		// parse back without overflow.
		return sign + strconv.FormatFloat(math.Floor(hours), 'f', 0, 64) + "h"
	}
	return sign + threeDigits(hours) + "h"
}

// threeDigits formats v ≥ 0 with at most three significant digits (more
// only for integers of four or more digits), without trailing zeros.
func threeDigits(v float64) string {
	decimals := 0
	switch {
	case v < 10:
		decimals = 2
	case v < 100:
		decimals = 1
	}
	text := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(text, ".") {
		text = strings.TrimRight(strings.TrimRight(text, "0"), ".")
	}
	return text
}
