package result

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// WorkloadIdentity is what makes two runs comparable: the workload and seed,
// but not the target, the duration or secrets.
type WorkloadIdentity struct {
	Seed        int64             `json:"seed"`
	Rate        float64           `json:"rate"`
	Arrival     string            `json:"arrival"`
	Connections int               `json:"connections"`
	Streams     int               `json:"streams,omitempty"`
	Timeout     string            `json:"timeout"`
	Keys        IdentityKeys      `json:"keys"`
	ValueSize   int               `json:"value_size"`
	Mix         map[string]int    `json:"mix,omitempty"`
	Requests    []IdentityRequest `json:"requests,omitempty"`
}

// IdentityKeys is the key generator part of a WorkloadIdentity.
type IdentityKeys struct {
	Count        int     `json:"count"`
	Distribution string  `json:"distribution"`
	Prefix       string  `json:"prefix"`
	ZipfS        float64 `json:"zipf_s,omitempty"`
}

// IdentityRequest is one request of a WorkloadIdentity; header values are
// left out, as they may be secrets.
type IdentityRequest struct {
	Name    string   `json:"name"`
	Method  string   `json:"method"`
	Path    string   `json:"path,omitempty"`
	Headers []string `json:"headers,omitempty"`
	Body    string   `json:"body,omitempty"`
	Weight  int      `json:"weight"`
}

// Hash is a short stable digest of a WorkloadIdentity.
func (id WorkloadIdentity) Hash() string {
	b, err := json.Marshal(id)
	if err != nil {
		panic(fmt.Sprintf("result: identity does not marshal: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
