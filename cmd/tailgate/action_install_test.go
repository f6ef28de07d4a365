package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// releaseArchive is the archive name the release holds for this machine,
// as .goreleaser.yaml names it.
func releaseArchive() string {
	return fmt.Sprintf("tailgate_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)
}

// writeRelease lays out dir/tag the way a GitHub release's downloads are:
// the archive holding bin as tailgate, and checksums.txt. sum overrides the
// archive's checksum when not empty; listed=false leaves it out.
func writeRelease(t *testing.T, dir, tag, bin, sum string, listed bool) {
	t.Helper()
	rel := filepath.Join(dir, tag)
	require.NoError(t, os.MkdirAll(rel, 0o755))
	data := releaseArchiveOf(t, bin)
	require.NoError(t, os.WriteFile(filepath.Join(rel, releaseArchive()), data, 0o644))
	if sum == "" {
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
	}
	lines := "0000000000000000000000000000000000000000000000000000000000000000  tailgate_windows_amd64.zip\n"
	if listed {
		lines += sum + "  " + releaseArchive() + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(rel, "checksums.txt"), []byte(lines), 0o644))
}

// releaseArchives holds the archive of each binary, made once: every
// release of the test holds the same one, and compressing a binary of tens
// of megabytes takes many seconds under the race detector.
var releaseArchives sync.Map

// releaseArchiveOf is the release archive of bin: it and README.md, as
// goreleaser packs them.
func releaseArchiveOf(t *testing.T, bin string) []byte {
	t.Helper()
	if data, ok := releaseArchives.Load(bin); ok {
		return data.([]byte)
	}
	var buf bytes.Buffer
	// Stored, not compressed: still a valid .tar.gz for tar -xz, without
	// deflating 20 MB under the race detector.
	zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	require.NoError(t, err)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, file string }{{"tailgate", bin}, {"README.md", "../../README.md"}} {
		data, err := os.ReadFile(f.file)
		require.NoError(t, err)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	releaseArchives.Store(bin, buf.Bytes())
	return buf.Bytes()
}

// runnerArch is GitHub's RUNNER_ARCH for this machine.
func runnerArch() string {
	return map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
}

// TestActionInstallStep runs the action's install step against a local
// directory laid out like the project's releases, with a real tailgate
// binary in the archives.
func TestActionInstallStep(t *testing.T) {
	t.Parallel()
	bash := lookBash(t)
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("the install step's test runs on Linux and macOS")
	}
	a, _ := readAction(t)
	step := a.step("install")
	require.NotNil(t, step, "an install step")
	assert.Equal(t, "${{ inputs.version }}", step.Env["TAILGATE_VERSION"])
	assert.Equal(t, "${{ github.action_ref }}", step.Env["TAILGATE_ACTION_REF"])
	actionPath, err := filepath.Abs("../..")
	require.NoError(t, err)

	bin := buildTool(t, ".")
	releases := t.TempDir()
	writeRelease(t, releases, "v1.2.3", bin, "", true)
	writeRelease(t, releases, "v1", bin, "", true)
	writeRelease(t, releases, "v1.2.4", bin, strings.Repeat("ab", 32), true)
	writeRelease(t, releases, "v1.2.5", bin, "", false)
	// A release built without this platform: checksums, no archive.
	writeRelease(t, releases, "v1.2.6", bin, "", true)
	require.NoError(t, os.Remove(filepath.Join(releases, "v1.2.6", releaseArchive())))

	tests := []struct {
		name, version, ref string
		code               int
		outputs            string
		say                string // in the step's output
	}{
		{name: "the release of the action's ref is installed", ref: "v1.2.3", outputs: "installed=true\nversion=v1.2.3\n", say: "installed tailgate dev"},
		{name: "the major tag's release is installed", ref: "v1", outputs: "installed=true\nversion=v1\n"},
		{name: "version pins another release than the ref", version: "v1.2.3", ref: "v1.9.0", outputs: "installed=true\nversion=v1.2.3\n"},
		{name: "an archive that fails its checksum fails the step", ref: "v1.2.4", code: 1, say: "does not match its checksum"},
		{name: "an archive checksums.txt does not list fails the step", ref: "v1.2.5", code: 1, say: "does not list " + releaseArchive()},
		{name: "a release that does not exist is built", ref: "v7.0.0", outputs: "installed=false\n", say: "release v7.0.0 has no checksums.txt"},
		{name: "a release without this platform's archive is built", ref: "v1.2.6", outputs: "installed=false\n", say: "has no " + releaseArchive()},
		{name: "a branch is built", ref: "main", outputs: "installed=false\n", say: `ref "main" is not a release tag`},
		{name: "uses: ./ is built", outputs: "installed=false\n", say: "not used from a release"},
		{name: "version: source is built", version: "source", ref: "v1.2.3", outputs: "installed=false\n", say: "version: source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			temp := t.TempDir()
			output := filepath.Join(temp, "output")
			cmd := exec.Command(bash, "-e", "-c", step.Run)
			cmd.Dir = t.TempDir()
			cmd.Env = []string{
				"PATH=" + os.Getenv("PATH"), "RUNNER_TEMP=" + temp, "GITHUB_OUTPUT=" + output,
				"GITHUB_ACTION_PATH=" + actionPath, "RUNNER_OS=" + map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS],
				"RUNNER_ARCH=" + runnerArch(), "TAILGATE_RELEASE_URL=file://" + releases,
				"TAILGATE_VERSION=" + tt.version, "TAILGATE_ACTION_REF=" + tt.ref,
				"TAILGATE_ACTION_REPOSITORY=tailgate-dev/tailgate",
			}
			out, _ := cmd.CombinedOutput()
			require.Equal(t, tt.code, cmd.ProcessState.ExitCode(), "%s", out)
			assert.Contains(t, string(out), tt.say)
			written, _ := os.ReadFile(output)
			assert.Equal(t, tt.outputs, string(written))
			installed := filepath.Join(temp, "tailgate", "tailgate")
			if strings.HasPrefix(tt.outputs, "installed=true") {
				v, err := exec.Command(installed, "version").Output()
				require.NoError(t, err, "the installed binary runs")
				assert.Equal(t, "tailgate dev\n", string(v))
			} else {
				assert.NoFileExists(t, installed, "nothing unverified is installed")
			}
		})
	}
}

// TestActionBuildsWhatWasNotInstalled runs the action's build step, which
// runs when the install step installed nothing, from this checkout.
func TestActionBuildsWhatWasNotInstalled(t *testing.T) {
	t.Parallel()
	bash := lookBash(t)
	a, _ := readAction(t)
	install := -1
	var build *actionStep
	for i, s := range a.Runs.Steps {
		switch {
		case s.ID == "install":
			install = i
		case s.ID == "path":
			assert.Empty(t, s.If, "tailgate goes on the PATH however it was installed")
		case s.ID == "run":
			assert.Equal(t, "inputs.plan != ''", s.If, "tailgate runs when there is a plan, however it was installed")
		case install >= 0:
			// Everything between installing and running builds from source.
			assert.Equal(t, "steps.install.outputs.installed != 'true'", s.If, "step %q runs only when nothing was installed", s.Name)
			if strings.Contains(s.Run, "go build") {
				build = &a.Runs.Steps[i]
			}
		default:
			t.Errorf("step %q comes before the install step", s.Name)
		}
	}
	require.NotNil(t, build, "a go build step after the install step")
	assert.Equal(t, "${{ github.action_path }}", build.WorkingDirectory)

	temp := t.TempDir()
	cmd := exec.Command(bash, "-e", "-c", build.Run)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "RUNNER_TEMP="+temp, "TAILGATE_VERSION=main")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the build step: %s", out)
	v, err := exec.Command(filepath.Join(temp, "tailgate", "tailgate"), "version").Output()
	require.NoError(t, err, "the built binary runs")
	assert.Equal(t, "tailgate main\n", string(v))
}
