package workloads

import (
	"errors"
	"fmt"
	"testing"
)

// AsStatus finds a StatusError however it is wrapped, and answers nil,
// without an allocation, for no error.
func TestAsStatusFindsAWrappedStatusAndAllocatesNothingForNoError(t *testing.T) {
	se := &StatusError{Kind: "redis ERR", Detail: "unknown command"}
	for _, tt := range []struct {
		name string
		err  error
		want *StatusError
	}{
		{"no error", nil, nil},
		{"a status", se, se},
		{"a wrapped status", fmt.Errorf("node 1: %w", se), se},
		{"another error", errors.New("connection reset"), nil},
	} {
		if got := AsStatus(tt.err); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { AsStatus(nil) }); n != 0 {
		t.Errorf("AsStatus(nil) allocates %v times", n)
	}
}
