package gate_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDataFlowsOneWay: slo → workloads → result → gate → report. The gate
// judges plans and results and never reaches back into the engine (a result
// is judged again by tailgate check without running load), and the result
// file depends on neither, but for the statuses gate/status defines.
func TestDataFlowsOneWay(t *testing.T) {
	const module = "github.com/tailgate-dev/tailgate/"
	forbidden := map[string][]string{
		"slo":           {"workloads", "result", "gate"},
		"result":        {"workloads", "gate/stats", "gate/report", "gate"},
		"gate/status":   {"workloads", "result"},
		"gate/stats":    {"workloads", "result"},
		"gate":          {"workloads", "gate/report"},
		"gate/capacity": {"workloads", "gate/report"},
		"gate/report":   {"workloads"},
	}
	for pkg, not := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			rel, ok := strings.CutPrefix(dep, module)
			if !ok {
				continue
			}
			for _, n := range not {
				if rel == n || strings.HasPrefix(rel, n+"/") && !strings.HasPrefix(rel, "gate/status") {
					t.Errorf("%s imports %s: data flows slo → workloads → result → gate → report", pkg, rel)
				}
			}
		}
	}
}
