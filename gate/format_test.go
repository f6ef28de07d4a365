package gate_test

import (
	"math"
	"testing"

	"github.com/tailgate-dev/tailgate/gate"
)

func TestSignedPercent(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"no change reads as plus zero", 0, "+0%"},
		{"a change that rounds to zero has no minus sign", -0.0001, "+0%"},
		{"a small change keeps one decimal", 0.155, "+15.5%"},
		{"a whole percent drops its decimal", -0.03, "-3%"},
		{"just under 100% keeps its decimal", 0.9949, "+99.5%"},
		{"what rounds to 100% is a whole percent", 0.9996, "+100%"},
		{"three times the bar is +294%, never a factor", 2.94, "+294%"},
		{"far past the bar is whole percents, never an exponent", 1948.695, "+194870%"},
		{"a drop past 100% is whole percents", -1.5, "-150%"},
		{"above a bar of zero is +inf", math.Inf(1), "+inf"},
		{"no value is a question mark", math.NaN(), "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gate.SignedPercent(tt.in); got != tt.want {
				t.Errorf("SignedPercent(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"none is 0%", 0, "0%"},
		{"a small share keeps two decimals", 0.001, "0.1%"},
		{"a share below 10% drops the zeros it ends in", 0.025, "2.5%"},
		{"a share from 10% keeps one decimal", 0.995, "99.5%"},
		{"a tenfold share is whole percents, never an exponent", 10, "1000%"},
		{"below 0.01% two significant digits", 0.0000123, "0.0012%"},
		{"one error in ten million operations is no exponent", 1e-7, "0.00001%"},
		{"one error in a billion is no exponent", 1.5e-9, "0.00000015%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gate.FormatPercent(tt.in); got != tt.want {
				t.Errorf("FormatPercent(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
