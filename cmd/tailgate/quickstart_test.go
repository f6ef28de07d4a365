package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailgate-dev/tailgate/result"
)

// TestTheQuickstartPassesAsTheREADMERunsIt runs the README's first command,
// `tailgate run -c examples/quickstart.yaml`, against the embedded Redis the
// plan names. It measures 6 s instead of the plan's 10 s, the least the
// plan's bars accept: its get p99.9 needs 10,409 expected samples (5.8 s of
// 90% of 2,000/s) and its set p99 1,135 (5.7 s of 10%); it keeps its 3 s
// warmup. The result goes to a temporary --out rather than the working
// directory (the default file is tested with the other output paths).
func TestTheQuickstartPassesAsTheREADMERunsIt(t *testing.T) {
	t.Parallel()
	plan, err := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart.yaml"))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "result.json")
	inv := invoke(t, nil, "run", "-c", plan, "--duration", "6s", "--out", out)
	require.Equal(t, 0, inv.code, "exit status of the quickstart\n%s", inv.stderr)
	assert.Contains(t, inv.stdout, "tailgate: PASS")
	res, err := result.Read(out)
	require.NoError(t, err)
	assert.Equal(t, "pass", string(res.Verdict))
	assert.True(t, res.Complete, "the run completed")
	require.Len(t, res.Components, 1)
	assert.Equal(t, "cache", res.Components[0].Name)
	all := res.Components[0].Operation("all")
	require.NotNil(t, all)
	assert.Zero(t, all.Errors, "the embedded server fails no operation")
}
