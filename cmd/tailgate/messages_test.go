package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tailgate-dev/tailgate/internal/testserver"
	"github.com/tailgate-dev/tailgate/result"
)

// None of these tests sends load: each command stops at its message.

// usageCase is a command line that is bad usage, and what its message
// must say.
type usageCase struct {
	name string
	args []string
	want string
}

// check runs the command line and checks that it exits 2 with the message
// on stderr; it returns the invocation for what else a test checks.
func (tc usageCase) check(t *testing.T) invocation {
	t.Helper()
	inv := invoke(t, nil, tc.args...)
	assert.Equal(t, 2, inv.code)
	assert.Contains(t, inv.stderr, tc.want)
	return inv
}

func TestNumericFlagsSayWhatIsWrongWithTheValue(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, planFor("redis://127.0.0.1:1", "2ms"))
	for _, tc := range []usageCase{
		{"a seed that is not a number", []string{"run", "-c", plan, "--seed", "abc"}, `invalid --seed "abc": not an integer`},
		{"a seed with a fraction", []string{"run", "-c", plan, "--seed", "1.5"}, `invalid --seed "1.5": not an integer`},
		{"a seed past int64", []string{"run", "-c", plan, "--seed", "99999999999999999999"}, `invalid --seed "99999999999999999999": out of range`},
		{"the canary's failure count", []string{"canary", "-c", plan, "--failures", "three"}, `invalid --failures "three": not an integer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.check(t)
			assert.NotContains(t, inv.stderr, "strconv")
			assert.NotContains(t, inv.stderr, "invalid syntax")
		})
	}
}

func TestAMissingArgumentIsNamedWithTheUsage(t *testing.T) {
	t.Parallel()
	plan := writePlan(t, planFor("redis://127.0.0.1:1", "2ms"))
	for _, tc := range []usageCase{
		{"check without a result", []string{"check", "-c", plan}, "check needs RESULT, the result file to judge"},
		{"check with two results", []string{"check", "-c", plan, "a.json", "b.json"}, `"b.json" is one argument too many`},
		{"compare with one result", []string{"compare", "a.json"}, "compare needs BASELINE and CANDIDATE"},
		{"report without a result", []string{"report", "--report-dir", t.TempDir()}, "report needs RESULT"},
		{"merge without shards", []string{"merge", "--out", "x.json"}, "merge needs at least one SHARD"},
		{"promote without results", []string{"promote", "-c", plan}, "promote needs at least one RESULT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.check(t)
			assert.Contains(t, inv.stderr, "Usage:\n  tailgate "+tc.args[0]+" ", "the usage follows the message")
			assert.NotContains(t, inv.stderr, "accepts 1 arg(s)")
		})
	}
}

// TestAPlanGivenAsAnArgumentIsAnsweredWithTheLineThatReadsIt: the plan is
// read from -c; a plan file given as an argument, a newcomer's first slip,
// is bad usage whose message is the command line that would read it, and
// a stray argument or an unknown command below a group is named.
func TestAPlanGivenAsAnArgumentIsAnsweredWithTheLineThatReadsIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []usageCase{
		{"run with its plan as an argument", []string{"run", "examples/quickstart.yaml"},
			`run reads its plan from -c, and "examples/quickstart.yaml" is given as an argument: tailgate run -c examples/quickstart.yaml`},
		{"validate with its plan as an argument", []string{"validate", "plan.yml"}, "tailgate validate -c plan.yml\n"},
		{"check with the plan before the result", []string{"check", "plan.yaml", "r.json"}, "tailgate check -c plan.yaml r.json\n"},
		{"check with only a plan", []string{"check", "plan.YAML"}, "tailgate check -c plan.YAML\n"},
		{"promote with the plan among the results", []string{"promote", "a.json", "plan.yaml", "b.json"}, "tailgate promote -c plan.yaml a.json b.json\n"},
		{"plan hash with its plan as an argument", []string{"plan", "hash", "plan.yaml"}, "tailgate plan hash -c plan.yaml\n"},
		{"capacity with its plan as an argument", []string{"capacity", "--out", "c.json", "plan.yaml"}, "tailgate capacity -c plan.yaml\n"},
		{"run with a stray argument", []string{"run", "-c", "plan.yaml", "now"}, `run takes no arguments, and "now" is one argument too many`},
		{"an unknown command below plan", []string{"plan", "hsah"}, `unknown command "hsah" for "tailgate plan"`},
		{"an unknown command below history", []string{"history", "list"}, `unknown command "list" for "tailgate history"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.check(t)
			assert.Contains(t, inv.stderr, "Usage:\n  tailgate "+tc.args[0]+" ", "the usage follows the message")
		})
	}
}

func TestEveryCommandsHelpDescribesItAndItsExitStatus(t *testing.T) {
	t.Parallel()
	for _, cmd := range newRoot(t.Context(), environment{}).Commands() {
		if cmd.Name() == "help" || cmd.Name() == "completion" {
			continue
		}
		for _, c := range append(cmd.Commands(), cmd) {
			if !c.Runnable() {
				continue
			}
			t.Run(c.CommandPath(), func(t *testing.T) {
				args := append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "tailgate ")), "--help")
				inv := invoke(t, nil, args...)
				assert.Equal(t, 0, inv.code)
				description, _, _ := strings.Cut(inv.stdout, "\n\n")
				assert.Greater(t, len(description), len(c.Short), "the help opens with a description longer than its one-line summary")
				assert.Contains(t, inv.stdout, "Exit status:")
				assert.Contains(t, inv.stdout, "Usage:")
			})
		}
	}
}

func TestTheInterruptNoticeSaysWhatTheCommandDoes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-c", "plan.yaml"}, "writing a partial result"},
		{[]string{"canary", "-c", "plan.yaml"}, "the window under way is dropped, not judged"},
		{[]string{"capacity", "-c", "plan.yaml"}, "writing what it found, marked interrupted"},
		{[]string{"check", "-c", "plan.yaml", "r.json"}, "stopping"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			got := interruptNotice(tc.args)
			assert.Contains(t, got, tc.want)
			if tc.args[0] != "run" {
				assert.NotContains(t, got, "partial result", "only run writes one")
			}
		})
	}
}

func TestATabIndentedPlanSaysTabsAreNotAllowed(t *testing.T) {
	t.Parallel()
	path := writePlan(t, "version: 1\ncomponents:\n  - name: cache\n\ttarget: redis://127.0.0.1:6379\n")
	inv := invoke(t, nil, "validate", "-c", path)
	assert.Equal(t, 2, inv.code)
	assert.Contains(t, inv.stderr, path+":4:1: invalid YAML: a tab in the indentation: tabs are not allowed in YAML indentation")
}

func TestTheResultGoesIntoTheReportDirectoryUnlessOutIsGiven(t *testing.T) {
	// An unreachable target: run stops before any load, exit 3, and still
	// writes its result and reports.
	plan := writePlan(t, planFor("redis://127.0.0.1:"+itoa(testserver.FreePort(t)), "10ms"))
	for _, tc := range []struct {
		name       string
		args       []string
		want, none []string
	}{
		{"--report-dir alone puts the result in the directory only", []string{"--report-dir", "out"},
			[]string{"out/result.json", "out/report.html"}, []string{DefaultResultFile}},
		{"--out with --report-dir writes the result there too", []string{"--report-dir", "out", "--out", "kept.json"},
			[]string{"kept.json", "out/result.json"}, []string{DefaultResultFile}},
		{"neither writes the default file", nil, []string{DefaultResultFile}, []string{"out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			inv := invoke(t, nil, append([]string{"run", "-c", plan}, tc.args...)...)
			assert.Equal(t, 3, inv.code)
			for _, f := range tc.want {
				_, err := result.Read(f)
				if strings.HasSuffix(f, ".html") {
					_, err = os.Stat(f)
				}
				assert.NoError(t, err, "%s is written", f)
			}
			for _, f := range tc.none {
				_, err := os.Stat(f)
				assert.True(t, os.IsNotExist(err), "%s is not written", f)
			}
			assert.Contains(t, inv.stderr, "result written to "+tc.want[0])
		})
	}
}
