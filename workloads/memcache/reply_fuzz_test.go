package memcache

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/tailgate-dev/tailgate/workloads/internal/replytest"
	"github.com/tailgate-dev/tailgate/workloads/internal/sock"
)

// replies opens the reply reader of operations of kind, in the meta
// protocol when meta is set, for replytest.
func replies(kind operation, meta bool) replytest.Open {
	return func(r *bufio.Reader) func() error {
		c := &conn{Pipeline: sock.Pipeline{R: r}}
		return func() error {
			var err error
			if meta {
				_, err = c.metaReply(kind)
			} else {
				_, err = c.textReply(kind)
			}
			return err
		}
	}
}

// FuzzReply reads a stream of replies to one of the operations, in the
// text or the meta protocol. A reply is taken in full and no further:
// each ends at a byte the stream's reading got to, every cut of the
// stream before that end fails to read it, and a stream made of the
// complete replies alone reads back the same. The reply to "version" is
// judged without a panic. Nothing panics, and every failure is an error.
func FuzzReply(f *testing.F) {
	for _, seed := range []string{
		"END\r\n",
		"VALUE tailgate:1 0 5\r\nhello\r\nEND\r\n",
		"VALUE tailgate:1 0 5 77\r\nhello\r\nEND\r\n",
		"VALUE k 0 0\r\n\r\nVALUE k 1 2\r\nab\r\nEND\r\n",
		"VALUE k 0 2\r\nabcd\r\nEND\r\n",
		"STORED\r\n",
		"NOT_STORED\r\n",
		"DELETED\r\nNOT_FOUND\r\n",
		"TOUCHED\r\n",
		"18446744073709551615\r\n",
		"184467440737095516150\r\n",
		"SERVER_ERROR object too large for cache\r\n",
		"CLIENT_ERROR bad data chunk\r\n",
		"CLIENT_ERROR unauthenticated\r\n",
		"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
		"ERROR Too many open connections\r\n",
		"ERROR\r\n",
		"VERSION 1.6.18\r\n",
		"VALUE k 0 99999999999\r\n",
		"VALUE k 0 5\r\nhel",
		"VALUE k\r\n",
		"END\n",
		"\r\n",
		"-ERR unknown command 'version'\r\n",
		"HD\r\nNS\r\nNF\r\nEX\r\n",
		"VA 5\r\nhello\r\n",
		"VA 5 t-1 f0\r\nhello\r\nEN\r\n",
		"VA 5\r\nhello\r\nVA 0\r\n\r\nMN\r\n",
		"MN\r\n",
		"MN x\r\n",
		"VA\r\n",
		"VA 99999999999\r\n",
		"EN\r\nHD t30\r\n",
		"HDX\r\n",
	} {
		for kind := range uint8(opTouch + 1) {
			f.Add([]byte(seed), kind, false)
			f.Add([]byte(seed), kind, true)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, k uint8, meta bool) {
		kind := operation(k % uint8(opTouch+1))
		line, _, _ := bytes.Cut(in, []byte("\n"))
		if err := versionReply("127.0.0.1:11211", line); err == nil && !bytes.HasPrefix(line, replyVersion) {
			t.Fatalf("version reply %q accepted", line)
		}
		replytest.CheckFraming(t, in, replies(kind, meta))
	})
}
