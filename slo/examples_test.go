package slo

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The plans a user is shown (the files under examples/ and the whole plans
// in README.md) are read here, with the parser run uses, and must be valid and
// free of warnings: a plan the documentation offers that tailgate refuses, or
// lints, is a bug in the documentation.

// examplePlans are the plan files under examples/: examples/*.yaml and
// examples/*/plan.yaml, found by glob so that a new example is checked
// without editing the test.
func examplePlans(t *testing.T) []string {
	t.Helper()
	var plans []string
	for _, pattern := range []string{"../examples/*.yaml", "../examples/*/plan.yaml"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatalf("glob %q: %v", pattern, err)
		}
		plans = append(plans, matches...)
	}
	return plans
}

func TestEveryExamplePlanIsValidAndLintClean(t *testing.T) {
	t.Parallel()
	plans := examplePlans(t)
	// The README's quickstart runs this one: a glob that no longer finds it
	// has stopped checking the examples.
	if !slices.Contains(plans, filepath.Join("..", "examples", "quickstart.yaml")) {
		t.Fatalf("the examples found are %q: examples/quickstart.yaml is not among them", plans)
	}
	for _, path := range plans {
		t.Run(filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator))), func(t *testing.T) {
			t.Parallel()
			requireValidAndLintClean(t, func() (*Plan, error) { return Load(path) })
		})
	}
}

// readmePlan is a fenced yaml block of README.md that is a whole plan.
type readmePlan struct {
	line int    // the README line of the block's first line
	text string // the block, fences left out
}

// readmePlans returns README.md's fenced yaml blocks that are whole plans.
// The rule that tells a plan from a fragment (a workload: or slo: excerpt, a
// workflow's step): a whole plan is a block whose first line that is neither
// blank nor a comment starts with "version:", as every plan must; any other
// block is a fragment and is skipped.
func readmePlans(t *testing.T, data []byte) []readmePlan {
	t.Helper()
	var (
		plans  []readmePlan
		block  []string
		inYAML bool
		fence  string // the opening fence's indentation, stripped from the block's lines
		start  int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case !inYAML && (trimmed == "```yaml" || trimmed == "```yml"):
			inYAML, fence, start, block = true, line[:len(line)-len(trimmed)], n+1, nil
		case inYAML && trimmed == "```":
			inYAML = false
			if isWholePlan(block) {
				plans = append(plans, readmePlan{line: start, text: strings.Join(block, "\n") + "\n"})
			}
		case inYAML:
			block = append(block, strings.TrimPrefix(line, fence))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	if inYAML {
		t.Fatalf("README.md: the yaml block opened at line %d is never closed", start-1)
	}
	return plans
}

func isWholePlan(block []string) bool {
	for _, line := range block {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return strings.HasPrefix(line, "version:")
	}
	return false
}

func TestEveryPlanInTheREADMEIsValidAndLintClean(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	plans := readmePlans(t, data)
	// The README opens "The plan" with a whole plan: finding none means the
	// rule above no longer sees the README's plans.
	if len(plans) == 0 {
		t.Fatal("README.md: no fenced yaml block is a whole plan")
	}
	for _, rp := range plans {
		t.Run("README.md line "+strconv.Itoa(rp.line), func(t *testing.T) {
			t.Parallel()
			// Blank lines ahead of the block put it at its place in the
			// README, so that messages give README.md's own line numbers.
			text := strings.Repeat("\n", rp.line-1) + rp.text
			requireValidAndLintClean(t, func() (*Plan, error) { return Parse([]byte(text), "README.md") })
		})
	}
}

func TestTheREADMERuleTellsWholePlansFromFragments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		readme string
		want   []readmePlan
	}{
		{
			name:   "a block starting with version is a plan, at the line after its fence",
			readme: "# t\n\n```yaml\nversion: 1\ncomponents: []\n```\n",
			want:   []readmePlan{{line: 4, text: "version: 1\ncomponents: []\n"}},
		},
		{
			name:   "comments and blank lines ahead of version still make a plan",
			readme: "```yaml\n# a plan\n\nversion: 1\n```\n",
			want:   []readmePlan{{line: 2, text: "# a plan\n\nversion: 1\n"}},
		},
		{
			name:   "a workload excerpt is a fragment",
			readme: "```yaml\n    workload:\n      rate: 5\n```\n",
		},
		{
			name:   "a workflow step is a fragment",
			readme: "```yaml\n      - name: gate\n        uses: tailgate-dev/tailgate@v1\n```\n",
		},
		{
			name:   "a block of another language is no plan, even one starting with version",
			readme: "```sh\nversion: 1\n```\n",
		},
		{
			name:   "an indented fence's block loses the fence's indentation",
			readme: "- item\n\n  ```yaml\n  version: 1\n  defaults: {seed: 1}\n  ```\n",
			want:   []readmePlan{{line: 4, text: "version: 1\ndefaults: {seed: 1}\n"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := readmePlans(t, []byte(tt.readme))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d plans %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("plan %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// requireValidAndLintClean fails t when load refuses the plan or the plan
// draws a warning, quoting every message.
func requireValidAndLintClean(t *testing.T, load func() (*Plan, error)) {
	t.Helper()
	p, err := load()
	if err != nil {
		t.Fatalf("the plan is invalid:\n%v", err)
	}
	if len(p.Components) == 0 {
		t.Fatalf("%s: the plan has no components", p.File)
	}
	for _, w := range p.Lint() {
		t.Errorf("%s", w)
	}
}
