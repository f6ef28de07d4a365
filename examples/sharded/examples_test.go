// Package sharded_test checks the sharded examples as a reviewer would: the
// GitHub workflow with actionlint (the linter scripts/test runs on
// .github/workflows), the Kubernetes manifest against the Kubernetes API
// types with strict decoding, the shell of every step with sh -n, and the
// plan they share with tailgate's own plan parser.
package sharded_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/tailgate-dev/tailgate/slo"
)

// actionlint is the linter scripts/test runs on .github/workflows; the same
// version lints the example.
const actionlint = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

const shards = 3

func TestPlanIsValid(t *testing.T) {
	p, err := slo.Load("plan.yaml")
	require.NoError(t, err)
	require.Len(t, p.Components, 1)
	assert.Empty(t, p.Lint())
}

func TestWorkflowPassesActionlint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds actionlint")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", actionlint, "-no-color", "github-workflow.yml")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "actionlint:\n%s", out)
}

// workflow is the part of a GitHub Actions workflow the checks read.
type workflow struct {
	Jobs map[string]struct {
		Needs    any `yaml:"needs"`
		Strategy struct {
			Matrix struct {
				Shard []int `yaml:"shard"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
		Steps []workflowStep `yaml:"steps"`
	} `yaml:"jobs"`
}

// workflowStep is one step of a workflow job.
type workflowStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	With map[string]any    `yaml:"with"`
}

func TestWorkflowShardsMergesAndGates(t *testing.T) {
	data, err := os.ReadFile("github-workflow.yml")
	require.NoError(t, err)
	var wf workflow
	require.NoError(t, yaml.Unmarshal(data, &wf))
	soak, gate := wf.Jobs["soak"], wf.Jobs["gate"]
	assert.Equal(t, []int{1, 2, 3}, soak.Strategy.Matrix.Shard, "one job per shard")
	assert.Contains(t, soak.Services["redis"].Image, "redis")
	assert.Equal(t, "soak", gate.Needs)
	var soakRun, allRuns strings.Builder
	for _, s := range soak.Steps {
		soakRun.WriteString(s.Run)
		allRuns.WriteString(s.Run)
		checkShell(t, "bash", "soak step "+s.Name, s.Run)
	}
	for _, s := range gate.Steps {
		allRuns.WriteString(s.Run)
		checkShell(t, "bash", "gate step "+s.Name, s.Run)
	}
	assert.Contains(t, soakRun.String(), `tailgate run -c examples/sharded/plan.yaml --shard "$SHARD/3"`)
	assert.Contains(t, allRuns.String(), "tailgate merge shards/shard-*.json --out merged.json")
	assert.Contains(t, allRuns.String(), "tailgate check -c examples/sharded/plan.yaml merged.json")
	// Copied into another repository it works: tailgate comes from the
	// action (installed on the PATH), not from this repository's source.
	for name, job := range map[string][]string{"soak": uses(soak.Steps), "gate": uses(gate.Steps)} {
		assert.Contains(t, job, "tailgate-dev/tailgate@v1", "the %s job installs tailgate with the action", name)
	}
	assert.NotContains(t, allRuns.String(), "go build", "nothing is built from this repository")
	assert.NotContains(t, allRuns.String(), "./tailgate", "tailgate is called from the PATH")
}

// uses lists the actions a job's steps use.
func uses(steps []workflowStep) []string {
	var out []string
	for _, s := range steps {
		if s.Uses != "" {
			out = append(out, s.Uses)
		}
	}
	return out
}

// checkShell parses a script with the shell, without running it.
func checkShell(t *testing.T, shell, what, script string) {
	t.Helper()
	if strings.TrimSpace(script) == "" {
		return
	}
	// GitHub expressions are substituted before the shell sees the script.
	script = regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(script, "x")
	cmd := exec.Command(shell, "-n")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s: %s -n: %s", what, shell, out)
}

// documents splits a multi-document YAML file.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out [][]byte
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(doc) != "" {
			out = append(out, []byte(doc))
		}
	}
	return out
}

// strict decodes one manifest document into its Kubernetes API type,
// rejecting unknown and duplicate fields and wrong types.
func strict(t *testing.T, doc []byte, into any) {
	t.Helper()
	require.NoError(t, k8syaml.UnmarshalStrict(doc, into))
}

func TestKubernetesManifestAgainstTheAPITypes(t *testing.T) {
	var (
		configMaps  = map[string]corev1.ConfigMap{}
		claims      = map[string]corev1.PersistentVolumeClaim{}
		services    []corev1.Service
		deployments []appsv1.Deployment
		jobs        = map[string]batchv1.Job{}
	)
	for i, doc := range documents(t, "k8s-indexed-job.yaml") {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		require.NoError(t, k8syaml.Unmarshal(doc, &meta))
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 ConfigMap":
			var o corev1.ConfigMap
			strict(t, doc, &o)
			configMaps[o.Name] = o
		case "v1 PersistentVolumeClaim":
			var o corev1.PersistentVolumeClaim
			strict(t, doc, &o)
			require.NotEmpty(t, o.Spec.AccessModes)
			_, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]
			require.True(t, ok, "claim %q requests storage", o.Name)
			claims[o.Name] = o
		case "v1 Service":
			var o corev1.Service
			strict(t, doc, &o)
			services = append(services, o)
		case "apps/v1 Deployment":
			var o appsv1.Deployment
			strict(t, doc, &o)
			deployments = append(deployments, o)
		case "batch/v1 Job":
			var o batchv1.Job
			strict(t, doc, &o)
			jobs[o.Name] = o
		default:
			t.Fatalf("document %d: unexpected %s %s", i+1, meta.APIVersion, meta.Kind)
		}
	}
	names := []string{}
	for n := range configMaps {
		names = append(names, n)
	}
	for n := range claims {
		names = append(names, n)
	}
	for n := range jobs {
		names = append(names, n)
	}
	for _, n := range names {
		assert.Empty(t, validation.IsDNS1123Subdomain(n), "name %q", n)
	}

	plan, ok := configMaps["tailgate-plan"].Data["plan.yaml"]
	require.True(t, ok, "the plan ConfigMap")
	p, err := slo.Parse([]byte(plan), "k8s-indexed-job.yaml:plan.yaml")
	require.NoError(t, err)
	fromFile, err := slo.Load("plan.yaml")
	require.NoError(t, err)
	assert.Equal(t, fromFile.Defaults, p.Defaults, "the ConfigMap holds examples/sharded/plan.yaml")
	require.Len(t, p.Components, len(fromFile.Components))
	for i, c := range p.Components {
		want := fromFile.Components[i]
		assert.Equal(t, want.Name, c.Name)
		assert.Equal(t, want.Workload, c.Workload, "component %q: the workload of examples/sharded/plan.yaml", c.Name)
		assert.Equal(t, bars(want.SLO), bars(c.SLO), "component %q: the bars of examples/sharded/plan.yaml", c.Name)
	}

	for _, d := range deployments {
		require.NotNil(t, d.Spec.Selector)
		for k, v := range d.Spec.Selector.MatchLabels {
			assert.Equal(t, v, d.Spec.Template.Labels[k], "deployment %q: the selector matches its pods", d.Name)
		}
		checkPod(t, "deployment "+d.Name, d.Spec.Template.Spec, configMaps, claims)
	}
	for _, s := range services {
		matched := false
		for _, d := range deployments {
			all := len(s.Spec.Selector) > 0
			for k, v := range s.Spec.Selector {
				all = all && d.Spec.Template.Labels[k] == v
			}
			matched = matched || all
		}
		assert.True(t, matched, "service %q selects a deployment's pods", s.Name)
	}

	shardJob, ok := jobs["tailgate-shards"]
	require.True(t, ok, "the shards Job")
	spec := shardJob.Spec
	require.NotNil(t, spec.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *spec.CompletionMode)
	require.NotNil(t, spec.Completions)
	require.NotNil(t, spec.Parallelism)
	assert.EqualValues(t, shards, *spec.Completions, "one completion per shard")
	assert.EqualValues(t, shards, *spec.Parallelism, "every shard at once")
	script := checkPod(t, "job tailgate-shards", spec.Template.Spec, configMaps, claims)
	assert.Contains(t, script, "shard=$((JOB_COMPLETION_INDEX + 1))", "JOB_COMPLETION_INDEX is 0-based")
	assert.Contains(t, script, `--shard "$shard/$SHARDS"`)
	assert.Contains(t, script, `--out "/results/shard-$shard.json"`)

	gateJob, ok := jobs["tailgate-gate"]
	require.True(t, ok, "the merge-and-gate Job")
	script = checkPod(t, "job tailgate-gate", gateJob.Spec.Template.Spec, configMaps, claims)
	assert.Contains(t, script, "tailgate merge /results/shard-*.json --out /results/merged.json")
	assert.Contains(t, script, "tailgate check -c /plan/plan.yaml /results/merged.json")
	for _, j := range []batchv1.Job{shardJob, gateJob} {
		for _, c := range j.Spec.Template.Spec.Containers {
			// The release image (see Dockerfile): nothing is built in the pod.
			assert.True(t, strings.HasPrefix(c.Image, "ghcr.io/tailgate-dev/tailgate:"), "job %q runs tailgate's image, not %q", j.Name, c.Image)
			for _, e := range c.Env {
				if e.Name == "SHARDS" {
					assert.Equal(t, "3", e.Value, "job %q", j.Name)
				}
			}
		}
	}
}

// bars lists a component's objectives as written, without positions.
func bars(s slo.SLO) []string {
	var out []string
	for _, tier := range [][]slo.Objective{s.Minimum, s.Aspirational, s.Regression} {
		for _, o := range tier {
			out = append(out, string(o.Tier)+" "+o.Operation+" "+string(o.Metric)+" "+o.Raw)
		}
	}
	return out
}

// checkPod checks what the API server would reject or a pod would fail on:
// containers with a name and an image, a Job's restart policy, and volumes
// that exist and are mounted; it returns the containers' shell scripts,
// checked with sh -n.
func checkPod(t *testing.T, what string, pod corev1.PodSpec, configMaps map[string]corev1.ConfigMap, claims map[string]corev1.PersistentVolumeClaim) string {
	t.Helper()
	require.NotEmpty(t, pod.Containers, "%s: containers", what)
	if strings.HasPrefix(what, "job ") {
		assert.Contains(t, []corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure}, pod.RestartPolicy,
			"%s: a Job's pods restart Never or OnFailure", what)
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
		switch {
		case v.ConfigMap != nil:
			_, ok := configMaps[v.ConfigMap.Name]
			assert.True(t, ok, "%s: volume %q: ConfigMap %q is in the manifest", what, v.Name, v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil:
			_, ok := claims[v.PersistentVolumeClaim.ClaimName]
			assert.True(t, ok, "%s: volume %q: claim %q is in the manifest", what, v.Name, v.PersistentVolumeClaim.ClaimName)
		}
	}
	var scripts bytes.Buffer
	for _, c := range pod.Containers {
		assert.Empty(t, validation.IsDNS1123Label(c.Name), "%s: container name %q", what, c.Name)
		assert.NotEmpty(t, c.Image, "%s: container %q has an image", what, c.Name)
		for _, m := range c.VolumeMounts {
			assert.True(t, volumes[m.Name], "%s: container %q mounts volume %q, which is declared", what, c.Name, m.Name)
		}
		if len(c.Command) == 2 && c.Command[0] == "sh" && c.Command[1] == "-c" {
			require.Len(t, c.Args, 1, "%s: one script", what)
			checkShell(t, "sh", what, c.Args[0])
			scripts.WriteString(c.Args[0])
		}
	}
	return scripts.String()
}

// The schema check is real: a misspelt field or a wrong type in the shards
// Job is rejected.
func TestStrictDecodingRejectsMistakes(t *testing.T) {
	var job []byte
	for _, doc := range documents(t, "k8s-indexed-job.yaml") {
		if bytes.Contains(doc, []byte("name: tailgate-shards")) {
			job = doc
		}
	}
	require.NotNil(t, job)
	var ok batchv1.Job
	require.NoError(t, k8syaml.UnmarshalStrict(job, &ok))
	for _, tt := range []struct{ name, from, to, want string }{
		{"a misspelt field", "completionMode: Indexed", "completionMod: Indexed", `unknown field "completionMod"`},
		{"a wrong type", "completions: 3", "completions: three", "completions"},
		{"a misspelt container field", "volumeMounts:", "volumeMount:", `unknown field "volumeMount"`},
	} {
		t.Run(tt.name+" is rejected", func(t *testing.T) {
			bad := bytes.Replace(job, []byte(tt.from), []byte(tt.to), 1)
			require.NotEqual(t, job, bad)
			var j batchv1.Job
			err := k8syaml.UnmarshalStrict(bad, &j)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
