package result

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/tailgate-dev/tailgate/slo"
)

// WorkloadIdentity is what makes two runs comparable: the workload and seed,
// but not the target, the duration or secrets.
type WorkloadIdentity struct {
	Seed        int64   `json:"seed"`
	Rate        float64 `json:"rate"`
	Arrival     string  `json:"arrival"`
	Connections int     `json:"connections"`
	Streams     int     `json:"streams,omitempty"`
	// Protocol is an HTTP workload's protocol, left out for auto, or a
	// Memcached workload's, left out for text.
	Protocol string `json:"protocol,omitempty"`
	// Compression is the gRPC request codec; left out when none.
	Compression string       `json:"compression,omitempty"`
	Timeout     string       `json:"timeout"`
	Keys        IdentityKeys `json:"keys"`
	ValueSize   int          `json:"value_size"`
	// Values, Pipeline, Prefill and TTL are left out when the plan does
	// not set them, so that results of plans without them keep their
	// workload hashes.
	Values   *IdentityValues   `json:"values,omitempty"`
	Pipeline int               `json:"pipeline,omitempty"`
	Prefill  bool              `json:"prefill,omitempty"`
	TTL      string            `json:"ttl,omitempty"`
	Mix      map[string]int    `json:"mix,omitempty"`
	Requests []IdentityRequest `json:"requests,omitempty"`
	// Batch is the keys of each mget, for a mix that has mget; left out
	// otherwise, as Values is.
	Batch int `json:"batch,omitempty"`
	// Stages is the schedule of a workload in stages (Rate is then their
	// mean); left out for a workload of one rate.
	Stages []IdentityStage `json:"stages,omitempty"`
	// Commands are the generic Redis commands of the mix, by operation
	// name, as written; left out when the mix has none.
	Commands map[string]string `json:"commands,omitempty"`
}

// IdentityStage is one stage of a WorkloadIdentity.
type IdentityStage struct {
	Rate     float64 `json:"rate"`
	Duration string  `json:"duration"`
	Ramp     string  `json:"ramp,omitempty"`
}

// IdentityValues is the value size distribution of a WorkloadIdentity.
type IdentityValues struct {
	Distribution    string  `json:"distribution"`
	Min             int     `json:"min"`
	Max             int     `json:"max"`
	Compressibility float64 `json:"compressibility,omitempty"`
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
	// BodyFile names the file of a body read from one, as the plan
	// writes it; its content is not part of the identity.
	BodyFile string `json:"body_file,omitempty"`
	Weight   int    `json:"weight"`
	// Messages is a streaming call's request messages, when the plan
	// sets them.
	Messages int `json:"messages,omitempty"`
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

// IdentityField is one field in which two workload identities differ.
type IdentityField struct {
	// Name is the field's name in the result file, e.g. "rate".
	Name string
	// A and B are the field's values in the two identities.
	A, B any
}

// Diff lists the fields in which id and other differ, in the result file's
// order. A field differs when its encoding does, as Hash sees it (an empty
// mix is no mix), so an identity that hashes the same has no differences.
// Any field added to WorkloadIdentity is compared without further code.
func (id WorkloadIdentity) Diff(other WorkloadIdentity) []IdentityField {
	va, vb := reflect.ValueOf(id), reflect.ValueOf(other)
	var out []IdentityField
	for i := range va.NumField() {
		if fieldEncoding(va, i) != fieldEncoding(vb, i) {
			name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, IdentityField{Name: name, A: va.Field(i).Interface(), B: vb.Field(i).Interface()})
		}
	}
	return out
}

// fieldEncoding is the encoding of an identity that holds only field i of
// id, so that the field's omitempty applies as it does in Hash.
func fieldEncoding(id reflect.Value, i int) string {
	var only WorkloadIdentity
	reflect.ValueOf(&only).Elem().Field(i).Set(id.Field(i))
	b, err := json.Marshal(only)
	if err != nil {
		panic(fmt.Sprintf("result: identity does not marshal: %v", err))
	}
	return string(b)
}

// IdentityOf is the workload identity a run of comp at seed records: what
// the engine sends, so that results of different workloads are not compared.
// It is computed from the plan alone, so the gate can ask it of a plan
// before any load is sent (a baseline of another workload is refused) and
// of a result judged later against a plan. Request bodies are redacted of
// secrets, as everything a result holds is.
func IdentityOf(comp *slo.Component, seed int64, secrets []string) WorkloadIdentity {
	w := &comp.Workload
	id := WorkloadIdentity{
		Seed: seed, Rate: w.Rate, Arrival: string(w.Arrival), Connections: w.Connections,
		Timeout:   slo.FormatDuration(w.Timeout),
		Keys:      IdentityKeys{Count: w.Keys.Count, Distribution: string(w.Keys.Distribution), Prefix: w.Keys.Prefix},
		ValueSize: w.ValueSize, Compression: w.Compression,
	}
	// One stream is what every run before streams had: left out, so their
	// identities stay the same.
	if w.Streams > 1 {
		id.Streams = w.Streams
	}
	if w.Keys.Distribution == slo.DistributionZipf {
		id.Keys.ZipfS = w.Keys.ZipfS
	}
	if v := w.Values; v != nil {
		id.Values = &IdentityValues{Distribution: string(v.Distribution), Min: v.Min, Max: v.Max, Compressibility: v.Compressibility}
	}
	if w.Pipeline > 1 {
		id.Pipeline = w.Pipeline
	}
	for _, st := range w.Stages {
		id.Stages = append(id.Stages, IdentityStage{Rate: st.Rate, Duration: slo.FormatDuration(st.Duration), Ramp: string(st.Ramp)})
	}
	id.Prefill = w.Prefill.Enabled
	if w.TTL > 0 {
		id.TTL = slo.FormatDuration(w.TTL)
	}
	if len(w.Mix) > 0 {
		id.Mix = map[string]int{}
		for _, m := range w.Mix {
			// The engine issues an operation listed twice by both weights, as
			// slo.Component.Share counts it.
			id.Mix[m.Operation] += m.Weight
			if m.Operation == "mget" {
				id.Batch = cmp.Or(w.Batch, slo.DefaultBatch)
			}
			if cmd := w.Commands[m.Operation]; cmd != nil {
				if id.Commands == nil {
					id.Commands = map[string]string{}
				}
				id.Commands[m.Operation] = cmd.Text
			}
		}
	}
	// auto (HTTP) and text (Memcached) are the defaults runs before had.
	if w.Protocol != "" && w.Protocol != slo.HTTPAuto && w.Protocol != slo.MemcacheText {
		id.Protocol = string(w.Protocol)
	}
	for _, r := range w.Requests {
		ir := IdentityRequest{Name: r.Name, Method: r.Method, Path: r.Path, Weight: r.Weight, BodyFile: r.BodyFile}
		if r.Messages > 1 {
			ir.Messages = r.Messages // 1, the default, hashes as before messages existed
		}
		if r.BodyFile == "" {
			ir.Body = slo.Redact(r.Body, secrets)
		}
		for h := range r.Headers {
			ir.Headers = append(ir.Headers, h)
		}
		sort.Strings(ir.Headers)
		id.Requests = append(id.Requests, ir)
	}
	return id
}
