// Package replytest holds the checks the drivers' reply fuzzers share: a
// reply reader must take a reply in full and no further, whatever bytes a
// server sends. Only tests import it.
package replytest

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/tailgate-dev/tailgate/workloads"
)

// ReaderSize is the buffer of the reader replies are read through: smaller
// than a connection's, so that lines too long for it come up often.
const ReaderSize = 512

// Open makes a reply reader over r: each call of the returned function reads
// one reply. A *workloads.StatusError is a reply read in full (the server
// said no); any other error is a reply that could not be read.
type Open func(r *bufio.Reader) (readReply func() error)

// Ends reads replies from in until one fails to read, and says how many
// bytes each complete reply ended at, and the error reading stopped at
// (never nil: the end of in is an error too).
func Ends(in []byte, open Open) (ends []int, last error) {
	src := bytes.NewReader(in)
	r := bufio.NewReaderSize(src, ReaderSize)
	readReply := open(r)
	for {
		err := readReply()
		var se *workloads.StatusError
		if err != nil && !errors.As(err, &se) {
			return ends, err
		}
		ends = append(ends, len(in)-src.Len()-r.Buffered())
	}
}

// CheckFraming fails t unless the replies in in are framed soundly: each
// ends at a byte the stream's reading got to, every cut of the stream before
// the last reply's end fails to read that reply, and a stream made of the
// complete replies alone reads back the same.
func CheckFraming(t *testing.T, in []byte, open Open) {
	t.Helper()
	ends, _ := Ends(in, open)
	prev := 0
	for _, end := range ends {
		if end <= prev || end > len(in) {
			t.Fatalf("a reply ended at %d after one ended at %d, in %d bytes", end, prev, len(in))
		}
		prev = end
	}
	if len(ends) == 0 {
		return
	}
	end := ends[len(ends)-1]
	if again, _ := Ends(in[:end], open); len(again) != len(ends) {
		t.Fatalf("the %d complete replies alone read as %d", len(ends), len(again))
	}
	start := 0
	if len(ends) > 1 {
		start = ends[len(ends)-2]
	}
	step := max(1, (end-start)/64) // every cut of a short reply, 64 of a long one
	for cut := end - 1; cut >= start; cut -= step {
		if got, _ := Ends(in[start:cut], open); len(got) != 0 {
			t.Fatalf("the last reply %q read complete when cut to %q", in[start:end], in[start:cut])
		}
	}
}
