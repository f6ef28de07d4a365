package result

import (
	"reflect"
	"testing"
)

func TestIdentityDiffNamesEveryFieldThatChangesTheHash(t *testing.T) {
	identity := func() WorkloadIdentity {
		return WorkloadIdentity{Seed: 1, Rate: 1000, Arrival: "poisson", Connections: 8, Timeout: "1s",
			Keys: IdentityKeys{Count: 100, Distribution: "uniform", Prefix: "t:"}, ValueSize: 64, Mix: map[string]int{"get": 100}}
	}
	for _, tc := range []struct {
		name   string
		change func(a, b *WorkloadIdentity)
		want   []IdentityField
	}{
		{"the same identity has no differences", func(_, _ *WorkloadIdentity) {}, nil},
		{"an empty mix is no mix, as the hash sees it", func(a, b *WorkloadIdentity) { a.Mix, b.Mix = map[string]int{}, nil }, nil},
		{"a changed rate is named with both values", func(_, b *WorkloadIdentity) { b.Rate = 2000 },
			[]IdentityField{{"rate", 1000.0, 2000.0}}},
		{"streams are compared too", func(_, b *WorkloadIdentity) { b.Streams = 4 },
			[]IdentityField{{"streams", 0, 4}}},
		{"request compression is compared too", func(_, b *WorkloadIdentity) { b.Compression = "gzip" },
			[]IdentityField{{"compression", "", "gzip"}}},
		{"fields are listed in the result file's order", func(_, b *WorkloadIdentity) { b.ValueSize = 128; b.Seed = 2 },
			[]IdentityField{{"seed", int64(1), int64(2)}, {"value_size", 64, 128}}},
		{"a changed key generator field is one difference of keys", func(_, b *WorkloadIdentity) { b.Keys.ZipfS = 1.1 },
			[]IdentityField{{"keys", identity().Keys, IdentityKeys{Count: 100, Distribution: "uniform", Prefix: "t:", ZipfS: 1.1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := identity(), identity()
			tc.change(&a, &b)
			got := a.Diff(b)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Diff = %#v, want %#v", got, tc.want)
			}
			if (len(got) == 0) != (a.Hash() == b.Hash()) {
				t.Errorf("%d differences, but hashes %s and %s", len(got), a.Hash(), b.Hash())
			}
		})
	}
}
