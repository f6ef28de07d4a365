package sock

import "testing"

// Operations come off in the order they were pushed, across the end of
// the ring and after a reset, and one not pushed is not in flight.
func TestInFlightGivesTheOldestOperationFirst(t *testing.T) {
	f := NewInFlight[int](3)
	if !f.Empty() {
		t.Fatal("a new ring has operations in flight")
	}
	next := 1
	push := func() {
		*f.Next() = next
		f.Push()
		next++
	}
	pop := func(want int) {
		t.Helper()
		if f.Empty() {
			t.Fatalf("empty, want %d oldest", want)
		}
		if got := *f.Oldest(); got != want {
			t.Fatalf("oldest %d, want %d", got, want)
		}
		f.Pop()
	}
	push()
	push()
	pop(1)
	push()
	push() // the ring's end: 4 goes where 1 was
	pop(2)
	*f.Next() = 99 // queued and never pushed: not in flight
	pop(3)
	pop(4)
	if !f.Empty() {
		t.Fatal("operations left in flight after every one came off")
	}
	push()
	push()
	f.Reset()
	if !f.Empty() {
		t.Fatal("operations in flight after Reset")
	}
	push()
	pop(7)
	if g := NewInFlight[int](0); g.Next() == nil {
		t.Fatal("a ring of depth 0 has no room")
	}
}
