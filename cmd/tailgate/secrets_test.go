package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
)

// assertNowhere fails when secret appears in the outputs or any file below dir.
func assertNowhere(t *testing.T, secret string, inv invocation, dirs ...string) {
	t.Helper()
	assert.NotContains(t, inv.stdout, secret, "stdout")
	assert.NotContains(t, inv.stderr, secret, "stderr")
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.NotContains(t, string(data), secret, "file %s", path)
			return nil
		})
		require.NoError(t, err)
	}
}

func TestSecretsAreRedactedEverywhere(t *testing.T) {
	const redisPassword = "s3cret-redis-pw-81b2"
	const token = "tok-9f8e7d6c5b4a-secret"
	redis := testserver.Redis(t, "--user", "gate", "on", ">"+redisPassword, "~tailgate:*", "+get", "+set", "+ping", "+auth",
		"--user", "default", "off")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer web.Close()
	plan := writePlan(t, `version: 1
defaults: {duration: 1s, warmup: 0s}
components:
  - name: cache
    target: redis://gate:${REDIS_PW}@`+redis.Addr+`
    workload:
      rate: 300
      arrival: uniform
      connections: 2
      keys: {count: 10, prefix: "tailgate:sec:"}
    slo:
      minimum:
        all: {p50: 1ns}
  - name: web
    target: `+web.URL+`
    workload:
      rate: 200
      arrival: uniform
      connections: 2
      requests:
        - {name: home, method: GET, path: "/", headers: {Authorization: "Bearer ${API_TOKEN}"}}
    slo:
      minimum:
        home: {p50: 1ns, error_rate: 0%}
`)
	dir := t.TempDir()
	env := map[string]string{"REDIS_PW": redisPassword, "API_TOKEN": token}
	inv := invoke(t, env, "run", "-c", plan, "--out", filepath.Join(dir, "result.json"), "--report-dir", filepath.Join(dir, "reports"))
	require.Equal(t, 1, inv.code, "the bars of 1ns fail; authentication must have worked")
	res, err := result.Read(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	for _, c := range res.Components {
		assert.Zero(t, c.Operation("all").Errors, "component %s authenticated", c.Name)
	}
	assertNowhere(t, redisPassword, inv, dir)
	assertNowhere(t, token, inv, dir)

	t.Run("a wrong password is refused before load, and not printed", func(t *testing.T) {
		env := map[string]string{"REDIS_PW": "wrong-" + redisPassword, "API_TOKEN": token}
		inv := invoke(t, env, "run", "-c", plan, "--out", filepath.Join(t.TempDir(), "r.json"))
		assert.Equal(t, 3, inv.code)
		assert.Contains(t, strings.ToLower(inv.stderr), "wrongpass")
		assertNowhere(t, redisPassword, inv)
	})
}

func TestRedisOverTLS(t *testing.T) {
	cert := testserver.NewCertificate(t)
	srv := testserver.RedisTLS(t, cert)
	plan := func(tls string) string {
		return writePlan(t, `version: 1
defaults: {duration: 1s, warmup: 0s}
components:
  - name: cache
    target: rediss://`+srv.Addr+`
    workload:
      rate: 200
      arrival: uniform
      connections: 2
      keys: {count: 10, prefix: "tailgate:tls:"}
`+tls+`
    slo:
      minimum:
        all: {p50: 10s}
`)
	}
	tests := []struct {
		name      string
		tls       string
		wantCode  int
		wantOut   string
		wantError string
	}{
		{name: "a CA file makes the server trusted", tls: "      tls: {ca_file: " + cert.CAFile + "}", wantCode: 0},
		{name: "the system roots do not trust a self-signed server", tls: "", wantCode: 3, wantError: "certificate"},
		{name: "insecure_skip_verify connects and the report flags it", tls: "      tls: {insecure_skip_verify: true}",
			wantCode: 0, wantOut: "TLS certificate checks were off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := invoke(t, nil, "run", "-c", plan(tt.tls), "--out", filepath.Join(t.TempDir(), "r.json"))
			assert.Equal(t, tt.wantCode, inv.code)
			assert.Contains(t, inv.stdout, tt.wantOut)
			assert.Contains(t, inv.stderr, tt.wantError)
		})
	}
}
