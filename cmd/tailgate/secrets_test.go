package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
			assert.NotContains(t, readFile(t, path), secret, "file %s", path)
			return nil
		})
		require.NoError(t, err)
	}
}

func TestSecretsAreRedactedEverywhere(t *testing.T) {
	t.Parallel()
	const redisPassword = "s3cret-redis-pw-81b2"
	const token = "tok-9f8e7d6c5b4a-secret"
	// Both targets 1 ms slow, so the 1ns bars are their misses whatever
	// the runner.
	redis := testserver.SlowRedis(t, time.Millisecond, "--user", "gate", "on", ">"+redisPassword, "~tailgate:*", "+get", "+set", "+ping", "+auth",
		"--user", "default", "off")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
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
	t.Parallel()
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

// userinfoForms are the ways a URL's userinfo carries a secret, each with
// every form of the secret that must never be printed or written.
var userinfoForms = []struct {
	name     string
	userinfo string
	secrets  []string
}{
	{"a user given alone (user@)", "Sup3rSecretPw@", []string{"Sup3rSecretPw"}},
	{"a password given alone (:pass@)", ":Sup3rSecretPw@", []string{"Sup3rSecretPw"}},
	{"a user and a password (user:pass@)", "gate:Sup3rSecretPw@", []string{"Sup3rSecretPw"}},
	{"a percent-encoded user and password", "us%40er:p%3Ass-S3cret@", []string{"p:ss-S3cret", "p%3Ass-S3cret"}},
	{"a password with lower-case escapes", "us%40er:p%3ass-S3cret@", []string{"p:ss-S3cret", "p%3ass-S3cret", "p%3Ass-S3cret"}},
	{"a percent-encoded user given alone", "T0k%40en-S3cret@", []string{"T0k@en-S3cret", "T0k%40en-S3cret"}},
}

// secretPlan is a one-component Redis plan with target TARGET.
const secretPlan = `version: 1
defaults: {duration: 1s, warmup: 0s}
components:
  - name: cache
    target: 'TARGET'
    workload:
      rate: 200
      arrival: uniform
      connections: 1
      keys: {count: 10, prefix: "tailgate:sec:"}
    slo:
      minimum:
        all: {p50: 1ns, error_rate: 1%}
`

// runWritingEverything runs the plan with the result, every report, the
// GitHub Actions job summary and step outputs written below dir.
func runWritingEverything(t *testing.T, dir, plan string, env map[string]string, args ...string) invocation {
	t.Helper()
	all := map[string]string{"GITHUB_ACTIONS": "true",
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"), "GITHUB_OUTPUT": filepath.Join(dir, "outputs")}
	for k, v := range env {
		all[k] = v
	}
	args = append([]string{"run", "-c", plan, "--out", filepath.Join(dir, "result.json"), "--report-dir", filepath.Join(dir, "reports")}, args...)
	inv := invoke(t, all, args...)
	for _, f := range []string{"result.json", "summary.md", "outputs", "reports/report.txt", "reports/report.md",
		"reports/junit.xml", "reports/report.html", "reports/histograms.hlog", "reports/result.json"} {
		assert.FileExists(t, filepath.Join(dir, f), "every output is written, so none can hide a secret")
	}
	return inv
}

func TestNoFormOfUserinfoSecretIsEverPrinted(t *testing.T) {
	t.Parallel()
	unreachable := "127.0.0.1:" + itoa(testserver.FreePort(t))
	plain := "redis://" + unreachable + "/0"
	paths := []struct {
		name string
		// setup returns the plan text, the environment and extra arguments
		// of a run whose cache target holds userinfo.
		setup func(userinfo string) (plan string, env map[string]string, args []string)
	}{
		{"the target written in the plan", func(ui string) (string, map[string]string, []string) {
			return "redis://" + ui + unreachable + "/0", nil, nil
		}},
		{"the plan's target through ${ENV}", func(ui string) (string, map[string]string, []string) {
			return "redis://${CACHE_USERINFO}" + unreachable + "/0", map[string]string{"CACHE_USERINFO": ui}, nil
		}},
		{"--target", func(ui string) (string, map[string]string, []string) {
			return plain, nil, []string{"--target", "cache=redis://" + ui + unreachable + "/0"}
		}},
		{"TAILGATE_TARGET_CACHE", func(ui string) (string, map[string]string, []string) {
			return plain, map[string]string{"TAILGATE_TARGET_CACHE": "redis://" + ui + unreachable + "/0"}, nil
		}},
		{"--baseline-target", func(ui string) (string, map[string]string, []string) {
			return "embedded:redis", nil, []string{"--baseline-target", "cache=redis://" + ui + unreachable + "/0"}
		}},
	}
	for _, path := range paths {
		for _, form := range userinfoForms {
			t.Run(path.name+": "+form.name, func(t *testing.T) {
				target, env, args := path.setup(form.userinfo)
				plan := writePlan(t, strings.Replace(secretPlan, "TARGET", target, 1))
				dir := t.TempDir()
				inv := runWritingEverything(t, dir, plan, env, args...)
				assert.Equal(t, 3, inv.code, "the target is unreachable")
				assert.Contains(t, inv.stderr, "unreachable")
				assert.Contains(t, inv.stderr, unreachable, "the message still names the address")
				for _, secret := range form.secrets {
					assertNowhere(t, secret, inv, dir)
				}
			})
		}
	}
}

func TestAPasswordGivenAloneOnTheCommandLineAuthenticatesAndIsNeverPrinted(t *testing.T) {
	t.Parallel()
	const password = "Sup3rSecretPw-live"
	redis := testserver.SlowRedis(t, time.Millisecond, "--requirepass", password) // the 1ns bar its miss whatever the runner
	plan := writePlan(t, strings.Replace(secretPlan, "TARGET", "redis://127.0.0.1:1/0", 1))
	dir := t.TempDir()
	inv := runWritingEverything(t, dir, plan, nil, "--target", "cache=redis://:"+password+"@"+redis.Addr+"/0")
	require.Equal(t, 1, inv.code, "the 1ns bar fails; authentication must have worked")
	res, err := result.Read(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	assert.Zero(t, res.Components[0].Operation("all").Errors, "authenticated")
	assert.Positive(t, res.Components[0].Operation("all").Count)
	assertNowhere(t, password, inv, dir)
}
