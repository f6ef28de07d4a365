package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tailgate-dev/tailgate/gate/status"
	"github.com/tailgate-dev/tailgate/result"
	"github.com/tailgate-dev/tailgate/slo"
)

// The action and workflows live at the repository root; actionlint (in
// scripts/test) checks the workflows, and these tests check action.yml,
// which actionlint does not lint, and the run step's shell script.

// actionFile is action.yml's schema, decoded strictly so a misspelt key fails.
type actionFile struct {
	Name        string
	Description string
	Author      string
	Branding    struct{ Icon, Color string }
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     *string
	}
	Outputs map[string]struct {
		Description string
		Value       string
	}
	Runs struct {
		Using string
		Steps []actionStep
	}
}

type actionStep struct {
	Name             string
	ID               string
	Uses             string
	With             map[string]string
	Shell            string
	WorkingDirectory string `yaml:"working-directory"`
	Env              map[string]string
	Run              string
	If               string
}

func readAction(t *testing.T) (*actionFile, string) {
	t.Helper()
	data, err := os.ReadFile("../../action.yml")
	require.NoError(t, err)
	var a actionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&a), "action.yml")
	return &a, string(data)
}

func (a *actionFile) step(id string) *actionStep {
	for i := range a.Runs.Steps {
		if a.Runs.Steps[i].ID == id {
			return &a.Runs.Steps[i]
		}
	}
	return nil
}

// lookBash returns the path of bash, skipping t where it is not
// installed.
func lookBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	return bash
}

func TestActionMetadata(t *testing.T) {
	t.Parallel()
	a, text := readAction(t)
	assert.NotEmpty(t, a.Name)
	assert.NotEmpty(t, a.Description)
	assert.NotEmpty(t, a.Branding.Icon)
	assert.NotEmpty(t, a.Branding.Color)
	assert.Equal(t, "composite", a.Runs.Using)

	t.Run("the inputs are the documented ones, all optional", func(t *testing.T) {
		var names []string
		for name, in := range a.Inputs {
			names = append(names, name)
			assert.NotEmpty(t, in.Description, "input %s has a description", name)
			assert.False(t, in.Required, "input %s is optional", name)
			assert.NotNil(t, in.Default, "optional input %s has a default", name)
		}
		sort.Strings(names)
		assert.Equal(t, []string{"args", "baseline", "go-version", "plan", "report-dir", "targets", "version"}, names)
		assert.Equal(t, "tailgate-report", *a.Inputs["report-dir"].Default)
	})

	t.Run("every input referenced is declared, and every input declared is used", func(t *testing.T) {
		used := map[string]bool{}
		for _, m := range regexp.MustCompile(`\binputs\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(text, -1) {
			used[m[1]] = true
			assert.Contains(t, a.Inputs, m[1], "inputs.%s is declared", m[1])
		}
		for name := range a.Inputs {
			assert.True(t, used[name], "input %s is used", name)
		}
	})

	t.Run("every output comes from a step that exists", func(t *testing.T) {
		for _, name := range []string{"verdict", "result", "report-dir", "exit-code"} {
			assert.Contains(t, a.Outputs, name)
		}
		ref := regexp.MustCompile(`^\$\{\{ steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+) \}\}$`)
		for name, out := range a.Outputs {
			assert.NotEmpty(t, out.Description, "output %s has a description", name)
			m := ref.FindStringSubmatch(out.Value)
			if assert.NotNil(t, m, "output %s is a step output: %q", name, out.Value) {
				assert.NotNil(t, a.step(m[1]), "step %q of output %s exists", m[1], name)
				assert.Equal(t, name, m[2], "output %s passes on the step output of its name", name)
			}
		}
	})

	t.Run("the outputs are what tailgate and the run step write", func(t *testing.T) {
		written := map[string]bool{}
		for _, line := range githubOutputs(t) {
			written[line] = true
		}
		run := a.step("run")
		require.NotNil(t, run)
		for name := range a.Outputs {
			assert.True(t, written[name] || strings.Contains(run.Run, name+"="),
				"output %s is written by tailgate's GitHub Actions hook or the run step", name)
		}
	})

	t.Run("without a release, tailgate is built from the action's own checkout with setup-go", func(t *testing.T) {
		var setup, build *actionStep
		for i := range a.Runs.Steps {
			s := &a.Runs.Steps[i]
			if strings.HasPrefix(s.Uses, "actions/setup-go@") {
				setup = s
			}
			if strings.Contains(s.Run, "go build") {
				build = s
			}
			if s.Run != "" {
				assert.Equal(t, "bash", s.Shell, "composite run steps need a shell (%s)", s.Name)
			}
		}
		require.NotNil(t, setup, "a setup-go step")
		assert.Contains(t, setup.With["go-version-file"], "github.action_path")
		require.NotNil(t, build, "a go build step")
		assert.Equal(t, "${{ github.action_path }}", build.WorkingDirectory)
		assert.Contains(t, build.Run, "./cmd/tailgate")
		assert.Contains(t, a.step("run").Run, `"$RUNNER_TEMP/tailgate/tailgate" run`)
	})
}

// githubOutputs returns the names of the step outputs tailgate writes.
func githubOutputs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	output := filepath.Join(dir, "output")
	vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": output}
	var stdout, stderr bytes.Buffer
	env := environment{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	res := &result.Result{Verdict: status.VerdictPass, Complete: true}
	githubActions(env, &slo.Plan{File: "plan.yaml"}, res, filepath.Join(dir, "r.json"), dir)
	var names []string
	sc := bufio.NewScanner(strings.NewReader(readFile(t, output)))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), "=")
		names = append(names, name)
	}
	return names
}

// TestActionRunStep runs the action's run step in bash with a stand-in for
// the tailgate binary that records its arguments.
func TestActionRunStep(t *testing.T) {
	t.Parallel()
	bash := lookBash(t)
	a, _ := readAction(t)
	step := a.step("run")
	require.NotNil(t, step)

	run := func(t *testing.T, inputs map[string]string, stub string) (args []string, outputs, stdout string, code int) {
		t.Helper()
		work, temp := t.TempDir(), t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(temp, "tailgate"), 0o755))
		argsFile := filepath.Join(temp, "args")
		require.NoError(t, os.WriteFile(filepath.Join(temp, "tailgate", "tailgate"),
			[]byte("#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > "+argsFile+"\n"+stub), 0o755))
		output := filepath.Join(temp, "output")
		require.NoError(t, os.WriteFile(filepath.Join(work, "baseline.json"), []byte("{}"), 0o644))

		cmd := exec.Command(bash, "-e", "-c", step.Run)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RUNNER_TEMP=" + temp, "GITHUB_OUTPUT=" + output}
		input := regexp.MustCompile(`^\$\{\{ inputs\.([A-Za-z0-9_-]+) \}\}$`)
		for name, value := range step.Env {
			m := input.FindStringSubmatch(value)
			require.NotNil(t, m, "env %s is an input", name)
			cmd.Env = append(cmd.Env, name+"="+inputs[m[1]])
		}
		out, err := cmd.CombinedOutput()
		code = cmd.ProcessState.ExitCode()
		if err != nil && code < 0 {
			t.Fatalf("running the step: %v\n%s", err, out)
		}
		if data, err := os.ReadFile(argsFile); err == nil {
			args = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		}
		written, _ := os.ReadFile(output)
		return args, string(written), string(out), code
	}

	t.Run("targets, baseline and extra arguments reach tailgate, and its exit status is the step's", func(t *testing.T) {
		args, outputs, _, code := run(t, map[string]string{
			"plan":       "plans/perf gate.yaml",
			"targets":    "cache=redis://:p@ss w0rd@10.0.0.1:6379/0\r\n\n  # the queue, later\n  api=http://api:8080  \n",
			"baseline":   "baseline.json",
			"report-dir": "out/report",
			"args":       "--duration 30s\n--seed 2",
		}, "echo verdict=fail >> \"$GITHUB_OUTPUT\"\nexit 1\n")
		assert.Equal(t, 1, code)
		assert.Equal(t, []string{"run", "-c", "plans/perf gate.yaml", "--report-dir", "out/report", "--out", "out/report/result.json",
			"--target", "cache=redis://:p@ss w0rd@10.0.0.1:6379/0", "--target", "api=http://api:8080",
			"--baseline", "baseline.json", "--duration", "30s", "--seed", "2"}, args)
		assert.Equal(t, "verdict=fail\nexit-code=1\n", outputs)
	})

	t.Run("a baseline that does not exist yet is skipped with a notice", func(t *testing.T) {
		args, outputs, stdout, code := run(t, map[string]string{"plan": "p.yaml", "baseline": "none-yet.json", "report-dir": "r"},
			"echo verdict=pass >> \"$GITHUB_OUTPUT\"\n")
		assert.Equal(t, 0, code)
		assert.Equal(t, []string{"run", "-c", "p.yaml", "--report-dir", "r", "--out", "r/result.json"}, args)
		assert.Contains(t, stdout, "::notice title=tailgate::no baseline result yet")
		assert.Equal(t, "verdict=pass\nexit-code=0\n", outputs)
	})

	t.Run("when tailgate stops before judging, the verdict is error", func(t *testing.T) {
		_, outputs, _, code := run(t, map[string]string{"plan": "bad.yaml"}, "exit 2\n")
		assert.Equal(t, 2, code)
		assert.Equal(t, "verdict=error\nexit-code=2\n", outputs)
	})
}

// workflowFile is the part of a workflow the example's checks read.
type workflowFile struct {
	Jobs map[string]struct {
		Services map[string]struct{ Image string }
		Steps    []actionStep
	}
}

func TestPerfGateExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../.github/workflows/perf-gate.yml")
	require.NoError(t, err)
	var wf workflowFile
	require.NoError(t, yaml.Unmarshal(data, &wf))
	job, ok := wf.Jobs["perf-gate"]
	require.True(t, ok, "a perf-gate job")
	assert.Contains(t, job.Services, "redis", "a Redis service container is the candidate")

	var gateStep *actionStep
	var uploads, saves []actionStep
	for i, s := range job.Steps {
		switch {
		case s.Uses == "./" && s.With["plan"] != "":
			gateStep = &job.Steps[i]
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			uploads = append(uploads, s)
		case strings.HasPrefix(s.Uses, "actions/cache/save@"):
			saves = append(saves, s)
		}
	}
	require.NotNil(t, gateStep, "the example runs the action")
	plan, err := slo.LoadWithEnv(filepath.Join("../..", gateStep.With["plan"]), func(string) (string, bool) { return "", false })
	require.NoError(t, err, "the example's plan is valid")
	assert.Empty(t, plan.Lint(), "the example's plan has no warnings")
	for _, line := range strings.Split(strings.TrimSpace(gateStep.With["targets"]), "\n") {
		name, _, _ := strings.Cut(line, "=")
		assert.NotNil(t, plan.Component(name), "target %q names a component of the plan", name)
	}
	if assert.Len(t, uploads, 1) {
		assert.Equal(t, "always()", uploads[0].If, "the reports are uploaded when the gate fails too")
		assert.Equal(t, gateStep.With["report-dir"], uploads[0].With["path"])
	}
	var runs strings.Builder
	for _, s := range job.Steps {
		runs.WriteString(s.Run)
		if strings.HasPrefix(s.Uses, "actions/cache/") {
			switch s.With["path"] {
			case ".tailgate-history":
				assert.Contains(t, s.With["key"], "steps.baseline.outputs.history", "%s keys the history on the workloads' hash", s.Uses)
			default:
				assert.Contains(t, s.With["key"], "steps.baseline.outputs.key", "%s keys the baseline on the workloads' hash", s.Uses)
			}
		}
	}
	assert.Contains(t, runs.String(), "tailgate plan hash -c "+gateStep.With["plan"], "the baseline's key is the plan's workload hash")
	assert.Contains(t, gateStep.With["args"], "--history .tailgate-history", "the gate judges the trend tier against the history and adds the run")
	assert.Contains(t, runs.String(), "tailgate history show --store .tailgate-history --html "+gateStep.With["report-dir"]+"/", "the trend page goes into the uploaded reports")
	require.Len(t, saves, 2, "main saves its baseline and its history")
	for _, save := range saves {
		assert.Contains(t, save.If, "refs/heads/main")
		if save.With["path"] == ".tailgate-history" {
			assert.NotContains(t, save.If, "outputs.verdict", "the history keeps failing runs too")
		} else {
			assert.Contains(t, save.If, "steps."+gateStep.ID+".outputs.verdict == 'pass'", "only a passing run becomes the baseline")
		}
	}
}

// TestReadmeWorkflowIsTheExample keeps the README's copyable workflow the
// same as the example this repository runs, but for the action reference
// and the plan's path.
func TestReadmeWorkflowIsTheExample(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "../../README.md")
	_, section, ok := strings.Cut(readme, "## Use in GitHub Actions\n")
	require.True(t, ok, "README has a Use in GitHub Actions section")
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := yamlBlocks(section)
	var block string
	for _, b := range blocks {
		if strings.HasPrefix(b, "name: perf-gate\n") {
			block = b
		}
	}
	require.NotEmpty(t, block, "the section shows the perf-gate workflow")
	block = strings.NewReplacer("uses: tailgate-dev/tailgate@v1", "uses: ./", "perf/plan.yaml", "examples/perf-gate.yaml").Replace(block)

	var fromReadme, example any
	require.NoError(t, yaml.Unmarshal([]byte(block), &fromReadme))
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, "../../.github/workflows/perf-gate.yml")), &example))
	assert.Equal(t, example, fromReadme)
}

// yamlBlocks returns the ```yaml blocks of a Markdown text.
func yamlBlocks(text string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(text, "```yaml\n")
		if !ok {
			return out
		}
		block, after, _ := strings.Cut(rest, "```")
		out = append(out, block)
		text = after
	}
}

// TestReadmeABStepIsTheExample keeps the README's interleaved A/B gate step
// the same as the one in examples/ab/github-workflow.yml.
func TestReadmeABStepIsTheExample(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "../../README.md")
	_, section, ok := strings.Cut(readme, "## Use in GitHub Actions\n")
	require.True(t, ok)
	var fromReadme []map[string]any
	for _, b := range yamlBlocks(section) {
		if strings.Contains(b, "--baseline-target") {
			require.NoError(t, yaml.Unmarshal([]byte(b), &fromReadme))
		}
	}
	require.Len(t, fromReadme, 1, "the README shows the A/B gate step")
	var wf struct {
		Jobs map[string]struct{ Steps []map[string]any }
	}
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, "../../examples/ab/github-workflow.yml")), &wf))
	var example map[string]any
	for _, s := range wf.Jobs["ab"].Steps {
		if s["name"] == fromReadme[0]["name"] {
			example = s
		}
	}
	require.NotNil(t, example, "the example has the step %v", fromReadme[0]["name"])
	// The README leaves out the id, the report directory and the comments.
	delete(example, "id")
	with := example["with"].(map[string]any)
	delete(with, "report-dir")
	assert.Equal(t, example, fromReadme[0])
}
