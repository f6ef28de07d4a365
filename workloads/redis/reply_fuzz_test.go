package redis

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/tailgate-dev/tailgate/workloads/internal/replytest"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// readReplies reads replies from in until one fails to read, and says how
// many bytes each complete reply ended at.
func readReplies(in []byte) (ends []int, last error) {
	return replytest.Ends(in, func(r *bufio.Reader) func() error { return (&conn{Pipeline: sock.Pipeline{R: r}}).reply })
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
		replytest.CheckFraming(t, in, func(r *bufio.Reader) func() error { return (&conn{Pipeline: sock.Pipeline{R: r}}).reply })
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
