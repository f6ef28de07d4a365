package report

import (
	"bytes"
	"io"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/result"
)

// TestGolden renders every fixture in every text format and compares it
// with testdata/<fixture>.<format>.golden; go test -update rewrites them.
func TestGolden(t *testing.T) {
	formats := []struct {
		ext    string
		render func(io.Writer, *result.Result) error
	}{
		{"txt", Text},
		{"md", Markdown},
		{"junit.xml", JUnit},
	}
	for name, res := range fixtures(t) {
		for _, f := range formats {
			t.Run(name+" result renders as "+f.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := f.render(&buf, res); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, name+"."+f.ext+".golden", buf.Bytes())
			})
		}
	}
}
