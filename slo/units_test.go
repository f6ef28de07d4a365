package slo

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "2ms", want: 2 * time.Millisecond},
		{in: "1.5s", want: 1500 * time.Millisecond},
		{in: "250us", want: 250 * time.Microsecond},
		{in: "250µs", want: 250 * time.Microsecond},
		{in: "250μs", want: 250 * time.Microsecond},
		{in: "10ns", want: 10},
		{in: "5m", want: 5 * time.Minute},
		{in: "1h", want: time.Hour},
		{in: "1m30s", want: 90 * time.Second},
		{in: "0.001ms", want: time.Microsecond},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "2562047h", want: 2562047 * time.Hour},
		{in: "", err: "empty"},
		{in: "5", err: "missing unit"},
		{in: "1.5", err: "missing unit"},
		{in: "-1s", err: "must not be negative"},
		{in: "+1s", err: "want a number and a unit"},
		{in: "1 s", err: "want a number and a unit"},
		{in: "1S", err: "want a number and a unit"},
		{in: ".5s", err: "want a number and a unit"},
		{in: "1e3ms", err: "want a number and a unit"},
		{in: "1d", err: "want a number and a unit"},
		{in: "2562048h", err: "too large"},
		{in: "99999999999999999999ns", err: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			checkParse(t, "ParseDuration", tt.in, got, err, tt.want, tt.err, equal)
			if tt.err != "" && !strings.Contains(err.Error(), `"`+tt.in+`"`) {
				t.Errorf("error %q does not quote the input", err)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{1, "1ns"},
		{999, "999ns"},
		{1000, "1us"},
		{850 * time.Microsecond, "850us"},
		{999_700, "1ms"},
		{2 * time.Millisecond, "2ms"},
		{1_234_567, "1.23ms"},
		{1_235_000, "1.24ms"},
		{10_500_000, "10.5ms"},
		{123_456_789, "123ms"},
		{1500 * time.Millisecond, "1.5s"},
		{12_500 * time.Millisecond, "12.5s"},
		{59_960 * time.Millisecond, "1m"},
		{90 * time.Second, "1.5m"},
		{100 * time.Second, "1.67m"},
		{time.Hour, "1h"},
		{36 * time.Hour, "36h"},
		{-2 * time.Millisecond, "-2ms"},
		{math.MaxInt64, "2562047h"},
		{math.MinInt64, "-2562047h"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{in: "0.1%", want: 0.001},
		{in: "99%", want: 0.99},
		{in: "100%", want: 1},
		{in: "0%", want: 0},
		{in: "150%", want: 1.5},
		{in: "0.95", err: "needs a % sign"},
		{in: "95", err: "needs a % sign"},
		{in: "+10%", err: "must not have a sign"},
		{in: "-1%", err: "must not have a sign"},
		{in: "%", err: "want a number and a % sign"},
		{in: "1e2%", err: "want a number and a % sign"},
		{in: "ten%", err: "want a number and a % sign"},
		{in: "", err: "want a number and a % sign"},
		{in: strings.Repeat("9", 400) + "%", err: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePercent(tt.in)
			checkFraction(t, "ParsePercent", tt.in, got, err, tt.want, tt.err)
		})
	}
}

func TestParseRelative(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{in: "+10%", want: 0.10},
		{in: "-5%", want: -0.05},
		{in: "+0%", want: 0},
		{in: "+0.5%", want: 0.005},
		{in: "+2000%", want: 20},
		{in: "10%", err: "needs a sign, like +10%"},
		{in: "10", err: "needs a sign and a % sign"},
		{in: "+10", err: "needs a % sign, like +10%"},
		{in: "+ten%", err: "want a sign, a number and a % sign"},
		{in: "++10%", err: "want a sign, a number and a % sign"},
		{in: "", err: "want a sign"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRelative(tt.in)
			checkFraction(t, "ParseRelative", tt.in, got, err, tt.want, tt.err)
		})
	}
}

// checkFraction is checkParse for a parser of fractions, which may round
// in the last digits.
func checkFraction(t *testing.T, fn, in string, got float64, err error, want float64, wantErr string) {
	t.Helper()
	checkParse(t, fn, in, got, err, want, wantErr, func(got, want float64) bool { return math.Abs(got-want) <= 1e-12 })
}

// checkParse fails t unless fn(in) returned got equal to want by same, or,
// when wantErr is set, an error containing wantErr (then it stops t at
// once, so that the caller may go on to check that error).
func checkParse[T any](t *testing.T, fn, in string, got T, err error, want T, wantErr string, same func(got, want T) bool) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s(%q) = %v, %v; want an error containing %q", fn, in, got, err, wantErr)
		}
		return
	}
	if err != nil || !same(got, want) {
		t.Errorf("%s(%q) = %v, %v; want %v", fn, in, got, err, want)
	}
}

// equal is checkParse's same for values compared exactly.
func equal[T comparable](got, want T) bool { return got == want }

func TestParseMetric(t *testing.T) {
	for _, m := range Metrics {
		if got, err := ParseMetric(string(m)); err != nil || got != m {
			t.Errorf("ParseMetric(%q) = %q, %v", m, got, err)
		}
	}
	for _, bad := range []string{"", "p95", "P99", "p99.90", "latency", "all"} {
		_, err := ParseMetric(bad)
		if err == nil || !strings.Contains(err.Error(), "allowed: p50, p90, p99, p99.9, p99.99, max, error_rate, throughput") {
			t.Errorf("ParseMetric(%q): want an error listing the metrics, got %v", bad, err)
		}
	}
}

func TestMinSamples(t *testing.T) {
	want := map[Metric]int64{
		MetricP50: 20, MetricP90: 100, MetricP99: 1000, MetricP999: 10000, MetricP9999: 100000,
		MetricMax: 1, MetricErrorRate: 1, MetricThroughput: 1, MetricHitRate: 1,
		MetricP99Window: 1000, MetricDrift: 1000, MetricCapacity: 1,
	}
	for _, m := range Metrics {
		if got := MinSamples(m); got != want[m] {
			t.Errorf("MinSamples(%s) = %d, want %d", m, got, want[m])
		}
	}
}

func TestFormatPercentAndRelative(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{FormatPercent(0.001), "0.1%"},
		{FormatPercent(0.99), "99%"},
		{FormatPercent(0.999), "99.9%"},
		{formatRelative(0.1), "+10%"},
		{formatRelative(-0.05), "-5%"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	good := map[string]float64{"30000/s": 30000, "2.5/s": 2.5, "0/s": 0}
	for in, want := range good {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if in != "0/s" && FormatRate(want) != in {
			t.Errorf("FormatRate(%v) = %q, want %q", want, FormatRate(want), in)
		}
	}
	bad := map[string]string{
		"30000":   "needs /s",
		"30k/s":   "want operations per second",
		"-5/s":    "want operations per second",
		"/s":      "want operations per second",
		"1e5/s":   "want operations per second",
		"30000/m": "want operations per second",
	}
	for in, want := range bad {
		if _, err := ParseRate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRate(%q): want an error containing %q, got %v", in, want, err)
		}
	}
}

func TestParseRateArgIsParseRateWithItsUnitOptional(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want float64
		err  string
	}{
		{"a rate as the plan writes it", "30000/s", 30000, ""},
		{"the same number without its unit", "30000", 30000, ""},
		{"a fraction without its unit", "2.5", 2.5, ""},
		{"no rate is the caller's to refuse", "0", 0, ""},
		{"a word", "fast", 0, `invalid rate "fast": want operations per second`},
		{"an exponent", "1e5", 0, `invalid rate "1e5": want operations per second`},
		{"a sign", "-5", 0, `invalid rate "-5": want operations per second`},
		{"another unit", "30000/m", 0, `invalid rate "30000/m": want operations per second`},
		{"the unit alone", "/s", 0, `invalid rate "/s": want operations per second`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRateArg(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseRateArg(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
			} else if err != nil || got != tt.want {
				t.Fatalf("ParseRateArg(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			plan, planErr := ParseRate(strings.TrimSuffix(tt.in, "/s") + "/s")
			if (planErr == nil) != (err == nil) || plan != got {
				t.Errorf("ParseRateArg(%q) = %v, %v, but the plan's rate reads %v, %v", tt.in, got, err, plan, planErr)
			}
		})
	}
}
