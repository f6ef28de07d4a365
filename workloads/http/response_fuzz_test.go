package http

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

// parsed is what reading a stream of responses gave: each response's
// status or error, and where in the stream it ended.
type parsed struct {
	code   int
	err    string
	detail string
	end    int
}

// readResponses reads responses from data as a connection does, through a
// read buffer of bufSize (oneByte: the stream arrives a byte at a time),
// until an error or at most 8 responses.
func readResponses(data []byte, bufSize int, oneByte, headOnly bool) []parsed {
	src := bytes.NewReader(data)
	c := &conn{d: &Driver{}, detail: make([]byte, 0, detailLimit)}
	if oneByte {
		c.r = bufio.NewReaderSize(iotest.OneByteReader(src), bufSize)
	} else {
		c.r = bufio.NewReaderSize(src, bufSize)
	}
	var expect statusSet
	expect.set([]int{200}) // any other status keeps the start of its body
	var out []parsed
	for range 8 {
		code, err := c.receive(headOnly, &expect)
		p := parsed{code: code, end: len(data) - src.Len() - c.r.Buffered()}
		if err != nil {
			p.err = err.Error()
		} else if !expect.ok(code) {
			p.detail = string(c.detail)
		}
		out = append(out, p)
		if err != nil {
			break
		}
	}
	return out
}

// responseCases are the parser's cases, and the fuzzer's seeds.
var responseCases = []struct {
	name  string
	input string
	// want is the first responses read (their ends aside); after a
	// response without an error the stream must be read to its end.
	want []parsed
}{
	{"a length-delimited body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		[]parsed{{code: 200}}},
	{"two responses on one connection", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone",
		[]parsed{{code: 200}, {code: 404, detail: "gone"}}},
	{"a chunked body with extensions and trailers", "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n4;x=1\r\nbusy\r\n2 \r\n!!\r\n0\r\nX-Trailer: t\r\n\r\n",
		[]parsed{{code: 503, detail: "busy!!"}}},
	{"a chunked body cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
		[]parsed{{code: 200, err: "reading the response body: unexpected EOF"}}},
	{"a chunk size that is not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		[]parsed{{code: 200, err: `reading the response body: malformed chunk size "zz"`}}},
	{"a signed chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+4\r\nbusy\r\n0\r\n\r\n",
		[]parsed{{code: 200, err: `reading the response body: malformed chunk size "+4"`}}},
	{"a body delimited by the end of the connection", "HTTP/1.1 500 Oops\r\n\r\nclose-delimited",
		[]parsed{{code: 500, detail: "close-delimited"}}},
	{"HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\n\r\nold",
		[]parsed{{code: 200}}},
	{"conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		[]parsed{{err: `bad Content-Length "6"`}}},
	{"Content-Length repeated alike", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok",
		[]parsed{{code: 200}}},
	{"a signed Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
		[]parsed{{err: `bad Content-Length "+2"`}}},
	{"a Content-Length beyond int64", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		[]parsed{{err: `bad Content-Length "99999999999999999999"`}}},
	{"a header line longer than the read buffer", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", 20000) + "\r\nContent-Length: 0\r\n\r\n",
		[]parsed{{code: 200}}},
	{"headers beyond the limit", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n",
		[]parsed{{err: "response headers longer than 1048576 bytes"}}},
	{"an interim response before the real one", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		[]parsed{{code: 204}}},
	{"a malformed status line", "HTTP/1.1 2OO OK\r\n\r\n",
		[]parsed{{err: `malformed HTTP status line "HTTP/1.1 2OO OK"`}}},
	{"a status below 100", "HTTP/1.0 000 Zero\r\n\r\n",
		[]parsed{{err: `malformed HTTP status line "HTTP/1.0 000 Zero": status 000`}}},
	{"a header without a colon", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		[]parsed{{err: `malformed response header "no colon"`}}},
	{"an unsupported transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		[]parsed{{err: `unsupported Transfer-Encoding "gzip"`}}},
	{"bare line feeds", "HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
		[]parsed{{code: 200}}},
	{"headers cut short", "HTTP/1.1 200 OK\r\nContent-Len",
		[]parsed{{err: "unexpected EOF"}}},
}

func TestResponseParsing(t *testing.T) {
	for _, tt := range responseCases {
		t.Run(tt.name, func(t *testing.T) {
			got := readResponses([]byte(tt.input), readBufferSize, false, false)
			for i, want := range tt.want {
				if i >= len(got) || got[i].code != want.code || got[i].err != want.err || got[i].detail != want.detail {
					t.Fatalf("response %d: got %+v, want %+v", i, got, tt.want)
				}
			}
			if last := tt.want[len(tt.want)-1]; last.err == "" {
				if n := len(got); n != len(tt.want)+1 || got[n-1].err != "EOF" || got[n-1].end != len(tt.input) {
					t.Fatalf("after the responses: got %+v, want the end of the stream", got[len(tt.want):])
				}
			}
		})
	}
}

// FuzzReadResponse feeds the response reader arbitrary streams: it must
// never panic or loop, never read past a response's end (the stream read
// a byte at a time through a 16-byte buffer gives exactly what it gives
// read whole through the connection's buffer), and keep at most
// detailLimit bytes of a body.
func FuzzReadResponse(f *testing.F) {
	for _, tt := range responseCases {
		if len(tt.input) < 64<<10 {
			f.Add([]byte(tt.input), false)
		}
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, headOnly bool) {
		whole := readResponses(data, readBufferSize, false, headOnly)
		bytewise := readResponses(data, 16, true, headOnly)
		if len(whole) != len(bytewise) {
			t.Fatalf("read whole: %+v\nbyte by byte: %+v", whole, bytewise)
		}
		for i := range whole {
			if whole[i] != bytewise[i] {
				t.Fatalf("response %d: read whole %+v, byte by byte %+v", i, whole[i], bytewise[i])
			}
			p := whole[i]
			if p.err == "" && (p.code < 100 || p.code > 999) {
				t.Fatalf("response %d: status %d accepted", i, p.code)
			}
			if len(p.detail) > detailLimit {
				t.Fatalf("response %d: kept %d bytes of the body", i, len(p.detail))
			}
		}
	})
}
