package sock

// InFlight is the pipelined operations in flight of a connection that
// spreads them over several Pipelines (a server list's servers, a
// cluster's nodes), oldest first, each with what the connection notes of
// it in a T (the servers or the node it went to). Replies come back in
// order on each Pipeline, so the oldest operation's replies are the next
// on its Pipelines'. It holds at most the depth it was made with: the
// engine queues no more.
type InFlight[T any] struct {
	ops     []T
	head, n int
}

// NewInFlight makes room for depth operations in flight (at least one).
func NewInFlight[T any](depth int) InFlight[T] {
	return InFlight[T]{ops: make([]T, max(depth, 1))}
}

// Next is the note of the operation being queued, to fill in; it is in
// flight once Push counts it.
func (f *InFlight[T]) Next() *T { return &f.ops[(f.head+f.n)%len(f.ops)] }

// Push counts the operation of Next in flight.
func (f *InFlight[T]) Push() { f.n++ }

// Empty reports whether no operation is in flight.
func (f *InFlight[T]) Empty() bool { return f.n == 0 }

// Oldest is the note of the oldest operation in flight; with none in
// flight it means nothing.
func (f *InFlight[T]) Oldest() *T { return &f.ops[f.head] }

// Pop takes the oldest operation off, once its replies are read.
func (f *InFlight[T]) Pop() { f.head, f.n = (f.head+1)%len(f.ops), f.n-1 }

// Reset forgets every operation in flight, when the connections they
// went on are abandoned.
func (f *InFlight[T]) Reset() { f.head, f.n = 0, 0 }
