package atomicfile

import (
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

var errNotOurs = errors.New("not one of ours")

// TestReadLoadsWhatWriteWroteWithinItsLimit: Read returns the decoded
// file, refuses one a byte over its limit without decoding it, and names
// the kind of file and its path in every error while keeping the cause.
func TestReadLoadsWhatWriteWroteWithinItsLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := Write(path, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	decoded := 0
	asString := func(data []byte) (string, error) { decoded++; return string(data), nil }
	refuse := func([]byte) (string, error) { return "", errNotOurs }
	for _, tc := range []struct {
		name    string
		path    string
		limit   int
		decode  func([]byte) (string, error)
		want    string
		wantErr error
		message string
	}{
		{name: "a file at its limit is read whole", path: path, limit: 10, decode: asString, want: "0123456789"},
		{name: "a file a byte over its limit is refused undecoded", path: path, limit: 9, decode: asString, wantErr: errNotOurs,
			message: `widget "` + path + `": not one of ours: larger than 0 MiB`},
		{name: "a missing file says so", path: filepath.Join(dir, "missing.json"), limit: 10, decode: asString, wantErr: fs.ErrNotExist,
			message: `widget "` + filepath.Join(dir, "missing.json") + `": open `},
		{name: "a decoding error keeps its cause", path: path, limit: 10, decode: refuse, wantErr: errNotOurs,
			message: `widget "` + path + `": not one of ours`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decoded = 0
			got, err := Read(tc.path, "widget", tc.limit, errNotOurs, tc.decode)
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Read = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.HasPrefix(err.Error(), tc.message) {
				t.Fatalf("Read's error = %v; want one wrapping %v that starts %q", err, tc.wantErr, tc.message)
			}
			if tc.limit < 10 && decoded != 0 {
				t.Errorf("an oversized file was decoded")
			}
		})
	}
}

// TestWriteJSONWritesIndentedJSONAndANewline: the JSON files' bytes, read
// back as written, and an encoding error that names the file.
func TestWriteJSONWritesIndentedJSONAndANewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	if err := WriteJSON(path, map[string]int{"count": 1}, "the widget file"); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path, "widget", 1<<20, errNotOurs, func(data []byte) (string, error) { return string(data), nil })
	if want := "{\n  \"count\": 1\n}\n"; err != nil || got != want {
		t.Fatalf("WriteJSON wrote %q, %v; want %q", got, err, want)
	}
	err = WriteJSON(path, math.NaN(), "the widget file")
	if err == nil || !strings.HasPrefix(err.Error(), "encoding the widget file: ") {
		t.Fatalf("WriteJSON(NaN) = %v; want an error that names the file", err)
	}
}

// TestDecodeJSONTakesOneValueAndNothingAfterIt: what EncodeJSON wrote, and
// white space after it, decodes; a second value or stray bytes after it,
// or no whole value, are refused with the format's sentinel.
func TestDecodeJSONTakesOneValueAndNothingAfterIt(t *testing.T) {
	written, err := EncodeJSON(map[string]int{"a": 1}, "the file")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   string
		refuse string // "" when it decodes
	}{
		{"as EncodeJSON wrote it", string(written), ""},
		{"with white space after it", string(written) + " \n\t\n", ""},
		{"a second value after it", string(written) + `{"a": 2}`, `data after the file's JSON object: "{\"a\": 2}"`},
		{"a stray brace after it", string(written) + "}", `data after the file's JSON object: "}"`},
		{"a long tail, quoted by its start", string(written) + strings.Repeat("x", 50), `"xxxxxxxxxxxxxxxxxxxx..."`},
		{"no whole value", `{"a": `, "unexpected EOF"},
		{"nothing", "", "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]int
			err := DecodeJSON([]byte(tt.data), &v, errNotOurs)
			if tt.refuse == "" {
				if err != nil || v["a"] != 1 {
					t.Fatalf("got %v, %v; want a: 1", v, err)
				}
				return
			}
			if !errors.Is(err, errNotOurs) || !strings.Contains(err.Error(), tt.refuse) {
				t.Fatalf("got %v; want an error wrapping the sentinel, naming %q", err, tt.refuse)
			}
		})
	}
}
