package redis

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/tailgate-dev/tailgate/workloads"
)

// readReplies reads replies from in until one fails to read, and says how
// many bytes each complete reply ended at. Its reader is smaller than a
// connection's, so that lines too long for it come up often.
func readReplies(in []byte) (ends []int, last error) {
	src := bytes.NewReader(in)
	c := &conn{r: bufio.NewReaderSize(src, 512)}
	consumed := func() int { return len(in) - src.Len() - c.r.Buffered() }
	for {
		err := c.reply()
		var se *workloads.StatusError
		if err != nil && !errors.As(err, &se) {
			return ends, err
		}
		ends = append(ends, consumed())
	}
}

// FuzzReply reads a stream of RESP replies. A reply is taken in full and
// no further: each ends at a byte the stream's reading got to, every cut
// of the stream before that end fails to read it, and a stream made of the
// complete replies alone reads back the same. Nothing panics, and every
// failure is an error.
func FuzzReply(f *testing.F) {
	for _, seed := range []string{
		"+OK\r\n",
		"$5\r\nhello\r\n",
		"$-1\r\n",
		"$0\r\n\r\n",
		"-ERR unknown command 'FOO'\r\n",
		"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
		"-NOPERM User gate has no permissions to run the 'ping' command\r\n",
		":12345\r\n",
		"*2\r\n$3\r\nfoo\r\n:1\r\n",
		"*-1\r\n*0\r\n",
		"*1\r\n*1\r\n*1\r\n+deep\r\n",
		"+PONG\n$3\nabc\r\n",
		"$5\r\nab",
		"$99999999999\r\n",
		"$536870913\r\n",
		"*3\r\n-ERR a\r\n+b\r\n$1\r\nc\r\n",
		"\r\n",
		"?what\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ends, last := readReplies(in)
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
		again, _ := readReplies(in[:end])
		if len(again) != len(ends) {
			t.Fatalf("the %d complete replies alone read as %d", len(ends), len(again))
		}
		start := 0
		if len(ends) > 1 {
			start = ends[len(ends)-2]
		}
		step := max(1, (end-start)/64) // every cut of a short reply, 64 of a long one
		for cut := end - 1; cut >= start; cut -= step {
			if got, _ := readReplies(in[start:cut]); len(got) != 0 {
				t.Fatalf("the last reply %q read complete when cut to %q", in[start:end], in[start:cut])
			}
		}
	})
}

func TestDeeplyNestedRepliesAreRefused(t *testing.T) {
	in := bytes.Repeat([]byte("*1\r\n"), maxNesting+1)
	in = append(in, "+x\r\n"...)
	ends, err := readReplies(in)
	if len(ends) != 0 || err == nil {
		t.Fatalf("replies %v, error %v: want the nesting refused", ends, err)
	}
	ends, err = readReplies(in[4:])
	if len(ends) != 1 {
		t.Fatalf("%d levels of arrays: replies %v, error %v", maxNesting, ends, err)
	}
}
