package memcache

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/tailgate-dev/tailgate/workloads/internal/replytest"
)

// replies opens get's (or set's) reply reader for replytest.
func replies(set bool) replytest.Open {
	return func(r *bufio.Reader) func() error {
		c := &conn{r: r}
		if set {
			return c.setReply
		}
		return c.getReply
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
		replytest.CheckFraming(t, in, replies(set))
	})
}
