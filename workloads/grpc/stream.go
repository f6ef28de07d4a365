package grpc

import (
	"encoding/binary"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tailgate-dev/tailgate/workloads"
)

// Streaming calls, as tailgate makes them: one call per operation, on one
// HTTP/2 stream of the worker's connection, like a unary call.
//
//   - Server-streaming: the one request message goes out and the client's
//     side closes; every response message is read, to the stream's end.
//   - Client-streaming and bidirectional: the request's messages (the
//     plan's messages, 1 by default) go out back to back, each built from
//     the body as a unary request is (inline or from body_file, with the
//     operation's key for {{key}}), and the client's side closes; the
//     responses are read once the requests are written (and while the
//     client waits for the server to grant flow-control window, for large
//     requests). Sending without waiting for replies is what ghz does, and
//     keeps a call on the worker's goroutine, one write and its reads; the
//     cost is that a bidirectional call's first message is noted no
//     earlier than the end of its requests' write, which on a healthy
//     connection is microseconds.
//
// The call's latency is to the end of its stream (the trailers), from its
// intended start; its latency to the first response message is recorded
// beside it, and the response messages are counted (see Op.Messages). Only
// a call whose status is OK counts: a stream the server aborts, with a
// status or a reset, is an error whatever came before, and a stream that
// outlives the workload's timeout is a timeout.

// methodKind names a method's kind, for messages.
func methodKind(md protoreflect.MethodDescriptor) string {
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		return "bidirectional"
	case md.IsStreamingClient():
		return "client-streaming"
	case md.IsStreamingServer():
		return "server-streaming"
	}
	return "unary"
}

// frames is the framed body of one call of r: its message once, or its
// messages, built once for a static body, per call in the connection's
// buffer otherwise.
func (c *conn) frames(r *request, msg []byte, compressed bool) [2][]byte {
	switch {
	case r.messages <= 1:
		return c.frame(msg, compressed)
	case r.framed != nil:
		return [2][]byte{r.framed, nil}
	}
	c.multi = appendFrames(c.multi[:0], msg, compressed, r.messages)
	return [2][]byte{c.multi, nil}
}

// appendFrames appends n copies of msg, each framed as gRPC frames a
// message.
func appendFrames(dst, msg []byte, compressed bool, n int) []byte {
	flag := byte(0)
	if compressed {
		flag = 1
	}
	for range n {
		dst = append(dst, flag)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
		dst = append(dst, msg...)
	}
	return dst
}

// answer gives a streaming call's answer to its operation: how many
// messages came and how long before the end the first did.
func (m *messageReader) answer(op *workloads.Op) {
	op.Messages = int32(min(m.count, 1<<31-1))
	if m.count > 0 {
		op.FirstMessageLead = time.Since(m.first)
	}
}
