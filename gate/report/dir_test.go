package report

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/result"
)

func TestWriteDirWritesEveryReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	res := fixtures(t)["fail"]
	if err := WriteDirWithBaseline(dir, res, fixtureBaseline(t)); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{HLogFile, MarkdownFile, HTMLFile, TextFile, JUnitFile, ResultFile}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("directory holds %v, want exactly %v (no temporary files left)", names, want)
	}

	back, err := result.Read(filepath.Join(dir, ResultFile))
	if err != nil {
		t.Fatalf("the result beside the reports does not read back: %v", err)
	}
	for _, check := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{TextFile, func(b *bytes.Buffer) error { return Text(b, res) }},
		{MarkdownFile, func(b *bytes.Buffer) error { return Markdown(b, res) }},
		{JUnitFile, func(b *bytes.Buffer) error { return JUnit(b, res) }},
		{HLogFile, func(b *bytes.Buffer) error { return HLog(b, res) }},
		{HTMLFile, func(b *bytes.Buffer) error { return HTMLWithBaseline(b, res, fixtureBaseline(t)) }},
		// The saved result renders the same reports again.
		{MarkdownFile, func(b *bytes.Buffer) error { return Markdown(b, back) }},
		{HTMLFile, func(b *bytes.Buffer) error { return HTMLWithBaseline(b, back, fixtureBaseline(t)) }},
	} {
		var want bytes.Buffer
		if err := check.render(&want); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, check.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s differs from its renderer's output", check.file)
		}
	}
}

// TestWriteDirWritesWhatItCan corrupts a histogram: the reports that need it
// fail, and the others are still written.
func TestWriteDirWritesWhatItCan(t *testing.T) {
	dir := t.TempDir()
	res := clone(t, fixtures(t)["pass"])
	res.Components[0].Operations[0].Intervals[3].Histogram = "HISTnot-a-histogram"
	err := WriteDir(dir, res)
	if err == nil {
		t.Fatal("no error for a corrupt interval histogram")
	}
	for _, name := range []string{HTMLFile, HLogFile} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
		if _, statErr := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(statErr) {
			t.Errorf("%s was written from a corrupt histogram", name)
		}
	}
	for _, name := range []string{ResultFile, TextFile, MarkdownFile, JUnitFile} {
		if info, statErr := os.Stat(filepath.Join(dir, name)); statErr != nil || info.Size() == 0 {
			t.Errorf("%s was not written: %v", name, statErr)
		}
	}
}
