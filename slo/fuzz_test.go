package slo

import (
	"errors"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// addSeedFiles adds the contents of each file at paths to f's seed corpus.
func addSeedFiles(f *testing.F, paths []string) {
	f.Helper()
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse checks that any input either fails with positioned Errors or
// yields a plan that passes Validate again, without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	addSeedFiles(f, files)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseWithEnv(data, "fuzz.yaml", lookupTestEnv)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			if p != nil {
				t.Fatal("a plan came with an error")
			}
			for _, e := range errs {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without file or message: %+v", e)
				}
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("a parsed plan does not validate:\n%v", err)
		}
		for i := range p.Components {
			c := &p.Components[i]
			if _, err := Protocol(c.Target); err != nil {
				t.Fatalf("component %q: %v", c.Name, err)
			}
			if len(c.Operations()) == 0 {
				t.Fatalf("component %q has no operations", c.Name)
			}
		}
		_ = p.Lint()
	})
}

// FuzzParseDuration checks that durations parse without panics, are never
// negative, and survive FormatDuration within its three-digit rounding.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"2ms", "1.5s", "250µs", "1m30s", "0", "-1s", "5", "2562047h47m16.854775807s", "9999999999h", "0.0000000001ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(clip(s))) {
				t.Fatalf("error %q does not quote the input", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		text := FormatDuration(d)
		back, err := ParseDuration(text)
		if err != nil {
			t.Fatalf("FormatDuration(%v) = %q does not parse back: %v", d, text, err)
		}
		if diff := math.Abs(float64(back - d)); diff > 0.005*float64(d)+1 {
			t.Fatalf("%q → %v → %q → %v: off by %v", s, d, text, back, time.Duration(diff))
		}
	})
}

// FuzzParsePercent checks percents and relative changes: no panics, finite
// values, and a round trip through the plan's own formatting.
func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"0.1%", "99%", "+10%", "-5%", "0.95", "%", "1e3%", "100.000000000001%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParsePercent(s); err == nil {
			if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				t.Fatalf("ParsePercent(%q) = %v", s, v)
			}
			back, err := ParsePercent(FormatPercent(v))
			if err != nil || math.Abs(back-v) > 1e-9*v {
				t.Fatalf("%q → %v → %q → %v, %v", s, v, FormatPercent(v), back, err)
			}
		}
		if v, err := ParseRelative(s); err == nil {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				t.Fatalf("ParseRelative(%q) = %v", s, v)
			}
			back, err := ParseRelative(formatRelative(v))
			if err != nil || math.Abs(back-v) > 1e-9*math.Abs(v) {
				t.Fatalf("%q → %v → %q → %v, %v", s, v, formatRelative(v), back, err)
			}
		}
	})
}

// FuzzParseMetric checks the percentile names: no panics, and every accepted
// name is one of the metrics and prints back as itself.
func FuzzParseMetric(f *testing.F) {
	for _, s := range []string{"p99", "p99.9", "p99.99", "max", "error_rate", "throughput", "p100", "P99", "p99.90"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMetric(s)
		if err != nil {
			return
		}
		found := false
		for _, known := range Metrics {
			found = found || known == m
		}
		if !found || string(m) != s {
			t.Fatalf("ParseMetric(%q) = %q, not a metric as written", s, m)
		}
	})
}

// FuzzTargetSecrets checks that, for any userinfo, TargetSecrets collects
// the secret decoded and in the form net/url prints it (the password, or a
// user given alone), and finds none where net/url sees no userinfo.
func FuzzTargetSecrets(f *testing.F) {
	for _, userinfo := range []string{"Sup3rSecretPw", ":pw", "user:pw", "us%40er:p%3Ass", "u:p%3ass", "t%40k", "", ":", "a:b:c", "%zz"} {
		f.Add(userinfo)
	}
	f.Fuzz(func(t *testing.T, userinfo string) {
		target := "redis://" + userinfo + "@127.0.0.1:1/0"
		secrets := TargetSecrets(target)
		u, err := url.Parse(target)
		if err != nil || u.User == nil {
			if len(secrets) > 0 {
				t.Fatalf("TargetSecrets(%q) = %q for a target without userinfo", target, secrets)
			}
			return
		}
		secret, ok := u.User.Password()
		printed := u.User.String()
		if ok {
			_, printed, _ = strings.Cut(printed, ":")
		} else {
			secret = u.User.Username()
		}
		for _, want := range []string{secret, printed} {
			if want != "" && !slices.Contains(secrets, want) {
				t.Fatalf("TargetSecrets(%q) = %q, missing %q", target, secrets, want)
			}
		}
		for _, s := range secrets {
			if s == "" {
				t.Fatalf("TargetSecrets(%q) holds an empty secret", target)
			}
		}
	})
}
