// Package ab_test checks the interleaved A/B example as a reviewer would: the
// plan with tailgate's own parser, and the workflow's wiring (two services,
// the candidate as the target, the other as the live baseline, on the ports
// the services publish). scripts/test lints the workflow with actionlint.
package ab_test

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tailgate-dev/tailgate/slo"
)

type workflow struct {
	Jobs map[string]struct {
		Services map[string]struct {
			Image string   `yaml:"image"`
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
		Steps []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func TestPlanHasARegressionTierToJudgePairByPair(t *testing.T) {
	p, err := slo.Load("plan.yaml")
	require.NoError(t, err)
	assert.Empty(t, p.Lint())
	require.Len(t, p.Components, 1)
	assert.NotEmpty(t, p.Components[0].SLO.Regression, "an A/B gate judges the regression tier")
}

func TestWorkflowGatesTheCandidateAgainstTheLiveBaseline(t *testing.T) {
	data, err := os.ReadFile("github-workflow.yml")
	require.NoError(t, err)
	var wf workflow
	require.NoError(t, yaml.Unmarshal(data, &wf))
	job, ok := wf.Jobs["ab"]
	require.True(t, ok, "an ab job")
	published := map[string]string{} // host port -> service
	for name, svc := range job.Services {
		assert.NotEmpty(t, svc.Image, "service %s has an image", name)
		for _, p := range svc.Ports {
			host, _, _ := strings.Cut(p, ":")
			published[host] = name
		}
	}
	plan, err := slo.Load("plan.yaml")
	require.NoError(t, err)

	var gate map[string]string
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Uses, "tailgate-dev/tailgate@") {
			gate = s.With
		}
	}
	require.NotNil(t, gate, "a step runs the tailgate action")
	assert.Equal(t, "examples/ab/plan.yaml", gate["plan"])
	port := func(t *testing.T, nameURL string) (string, string) {
		t.Helper()
		name, raw, ok := strings.Cut(strings.TrimSpace(nameURL), "=")
		require.True(t, ok, "NAME=URL: %q", nameURL)
		require.NotNil(t, plan.Component(name), "%q names a component of the plan", name)
		u, err := url.Parse(raw)
		require.NoError(t, err)
		return name, u.Port()
	}
	name, p := port(t, gate["targets"])
	assert.Equal(t, "candidate", published[p], "the target is the candidate service")
	args := strings.Fields(gate["args"])
	require.Len(t, args, 2)
	assert.Equal(t, "--baseline-target", args[0])
	bname, bp := port(t, args[1])
	assert.Equal(t, name, bname, "the baseline is the same component's")
	assert.Equal(t, "baseline", published[bp], "the baseline target is the baseline service")
}
