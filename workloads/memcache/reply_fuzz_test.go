package memcache

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/tailgate-dev/tailgate/workloads"
)

// readReplies reads replies to get (or set) from in until one fails to
// read, and says how many bytes each complete reply ended at. Its reader
// is smaller than a connection's, so that lines too long for it come up
// often.
func readReplies(in []byte, set bool) (ends []int, last error) {
	src := bytes.NewReader(in)
	c := &conn{r: bufio.NewReaderSize(src, 512)}
	consumed := func() int { return len(in) - src.Len() - c.r.Buffered() }
	for {
		var err error
		if set {
			err = c.setReply()
		} else {
			err = c.getReply()
		}
		var se *workloads.StatusError
		if err != nil && !errors.As(err, &se) {
			return ends, err
		}
		ends = append(ends, consumed())
	}
}

// FuzzReply reads a stream of replies to get, and to set. A reply is taken
// in full and no further: each ends at a byte the stream's reading got to,
// every cut of the stream before that end fails to read it, and a stream
// made of the complete replies alone reads back the same. The reply to
// "version" is judged without a panic. Nothing panics, and every failure
// is an error.
func FuzzReply(f *testing.F) {
	for _, seed := range []string{
		"END\r\n",
		"VALUE tailgate:1 0 5\r\nhello\r\nEND\r\n",
		"VALUE tailgate:1 0 5 77\r\nhello\r\nEND\r\n",
		"VALUE k 0 0\r\n\r\nVALUE k 1 2\r\nab\r\nEND\r\n",
		"STORED\r\n",
		"NOT_STORED\r\n",
		"SERVER_ERROR object too large for cache\r\n",
		"CLIENT_ERROR bad data chunk\r\n",
		"CLIENT_ERROR unauthenticated\r\n",
		"ERROR Too many open connections\r\n",
		"ERROR\r\n",
		"VERSION 1.6.18\r\n",
		"VALUE k 0 99999999999\r\n",
		"VALUE k 0 5\r\nhel",
		"VALUE k\r\n",
		"END\n",
		"\r\n",
		"-ERR unknown command 'version'\r\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, set bool) {
		line, _, _ := bytes.Cut(in, []byte("\n"))
		if err := versionReply("127.0.0.1:11211", line); err == nil && !bytes.HasPrefix(line, replyVersion) {
			t.Fatalf("version reply %q accepted", line)
		}
		ends, last := readReplies(in, set)
		if last == nil {
			t.Fatal("reading stopped without an error")
		}
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
		if again, _ := readReplies(in[:end], set); len(again) != len(ends) {
			t.Fatalf("the %d complete replies alone read as %d", len(ends), len(again))
		}
		start := 0
		if len(ends) > 1 {
			start = ends[len(ends)-2]
		}
		step := max(1, (end-start)/64) // every cut of a short reply, 64 of a long one
		for cut := end - 1; cut >= start; cut -= step {
			if got, _ := readReplies(in[start:cut], set); len(got) != 0 {
				t.Fatalf("the last reply %q read complete when cut to %q", in[start:end], in[start:cut])
			}
		}
	})
}
