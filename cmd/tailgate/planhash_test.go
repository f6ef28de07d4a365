package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanHash(t *testing.T) {
	t.Parallel()
	base := planFor("redis://127.0.0.1:6379/0", "20ms")
	hash := func(t *testing.T, plan string, args ...string) string {
		t.Helper()
		inv := invoke(t, nil, append([]string{"plan", "hash", "-c", writePlan(t, plan)}, args...)...)
		require.Equal(t, 0, inv.code, inv.stderr)
		require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{16}\n$`), inv.stdout)
		return inv.stdout
	}
	want := hash(t, base)
	assert.Equal(t, want, hash(t, base), "the same plan, the same hash")

	// What leaves results comparable leaves the hash.
	for name, plan := range map[string]string{
		"a bar moved":      strings.Replace(base, "p99: 20ms", "p99: 15ms", 1),
		"a comment":        "# the cache gate\n" + base,
		"another duration": strings.Replace(base, "duration: 3s", "duration: 30s", 1),
		"another target":   strings.Replace(base, "127.0.0.1:6379", "10.0.0.7:6380", 1),
		"another tier":     strings.Replace(base, "all: {error_rate: 0.1%, throughput: 97%}", "all: {error_rate: 1%}", 1),
	} {
		t.Run("same after "+name, func(t *testing.T) {
			assert.Equal(t, want, hash(t, plan))
		})
	}
	// What makes results incomparable changes it.
	for name, plan := range map[string]string{
		"another rate":    strings.Replace(base, "rate: 2000", "rate: 2500", 1),
		"another mix":     strings.Replace(base, "mix: {get: 80, set: 20}", "mix: {get: 90, set: 10}", 1),
		"another keyset":  strings.Replace(base, "count: 1000", "count: 5000", 1),
		"another seed":    strings.Replace(base, "seed: 7", "seed: 8", 1),
		"a renamed cache": strings.Replace(base, "name: cache", "name: store", 1),
	} {
		t.Run("new after "+name, func(t *testing.T) {
			assert.NotEqual(t, want, hash(t, plan))
		})
	}
	t.Run("--seed as run --seed", func(t *testing.T) {
		assert.Equal(t, hash(t, strings.Replace(base, "seed: 7", "seed: 8", 1)), hash(t, base, "--seed", "8"))
	})
	t.Run("an invalid plan is bad input", func(t *testing.T) {
		inv := invoke(t, nil, "plan", "hash", "-c", writePlan(t, "version: 1\ncomponents: []\n"))
		assert.Equal(t, 2, inv.code)
		assert.Contains(t, inv.stderr, "invalid plan")
	})
}
