package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseWrk2ReadsTheCorrectedAndTheUncorrectedPercentiles(t *testing.T) {
	out, err := os.ReadFile("testdata/wrk2-latency.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseWrk2(out, usage{cpu: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := measurement{requests: 14919, cpu: time.Second, opsPerS: 14919 / 3.0,
		p50: 731 * time.Microsecond, p99: 11490 * time.Microsecond,
		serviceP50: 64 * time.Microsecond, serviceP99: 183 * time.Microsecond}
	if m != want {
		t.Errorf("parseWrk2 = %+v, want %+v", m, want)
	}
}

func TestParseWrk2Refuses(t *testing.T) {
	good, err := os.ReadFile("testdata/wrk2-latency.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, out, want string
	}{
		{"errors", string(good) + "  Non-2xx or 3xx responses: 12\n", "wrk2 reported errors: 12"},
		{"socket errors", strings.Replace(string(good), "Requests/sec", "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec", 1), "read 3"},
		{"no count", strings.Replace(string(good), "requests in", "in", 1), "no request count"},
		{"no -U", string(good[:strings.Index(string(good), "Uncorrected")]) + "\n  14919 requests in 3.00s\n", "2 of the 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWrk2([]byte(tc.out), usage{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseWrk2 error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParseWrk2(f *testing.F) {
	if out, err := os.ReadFile("testdata/wrk2-latency.txt"); err == nil {
		f.Add(out)
	}
	f.Add([]byte("  10 requests in 1.00s\n 50.000% 1.00ms\n 99.000% 2.00s\n 50.000% 3us\n 99.000% 4ms\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := parseWrk2(out, usage{})
		if err == nil && (m.requests < 0 || m.p50 < 0 || m.p99 < 0) {
			t.Errorf("parseWrk2 = %+v from %q", m, out)
		}
	})
}
