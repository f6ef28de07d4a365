package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tailgate-dev/tailgate/result"

	"github.com/tailgate-dev/tailgate/internal/atomicfile"
)

// The files WriteDir writes.
const (
	ResultFile   = "result.json"
	TextFile     = "report.txt"
	MarkdownFile = "report.md"
	JUnitFile    = "junit.xml"
	HTMLFile     = "report.html"
	HLogFile     = "histograms.hlog"
)

// WriteDir writes every report of res into dir, each file atomically, with
// the result file beside them: result.json, report.txt, report.md,
// junit.xml, report.html and histograms.hlog.
func WriteDir(dir string, res *result.Result) error {
	return WriteDirWithBaseline(dir, res, nil)
}

// WriteDirWithBaseline is WriteDir with the baseline result drawn in the
// HTML report's charts. baseline may be nil. A report that fails to render
// does not stop the others; the errors are returned together.
func WriteDirWithBaseline(dir string, res, baseline *result.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory %q: %w", dir, err)
	}
	var errs []error
	if err := res.WriteFile(filepath.Join(dir, ResultFile)); err != nil {
		errs = append(errs, err)
	}
	renderers := []struct {
		name   string
		render func(io.Writer, *result.Result) error
	}{
		{TextFile, Text},
		{MarkdownFile, Markdown},
		{JUnitFile, JUnit},
		{HTMLFile, func(w io.Writer, res *result.Result) error { return HTMLWithBaseline(w, res, baseline) }},
		{HLogFile, HLog},
	}
	for _, r := range renderers {
		var buf bytes.Buffer
		if err := r.render(&buf, res); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
			continue
		}
		if err := atomicfile.Write(filepath.Join(dir, r.name), buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeRendered writes what render writes to path atomically, and nothing
// when render fails.
func writeRendered(path string, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}
