// Package atomicfile writes files so that a reader never sees a partial one:
// the result file, the report directory and promoted plans are all written
// through it, the JSON files as EncodeJSON encodes them. Read loads such a
// file back whole, bounded in size, and decodes it: the result and capacity
// files are read through it, their JSON decoded by DecodeJSON.
package atomicfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// EncodeJSON is v as tailgate writes a JSON file: indented, with a final
// newline. what names the file in the error.
func EncodeJSON(v any, what string) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", what, err)
	}
	return append(data, '\n'), nil
}

// DecodeJSON decodes data, one JSON value as EncodeJSON writes it, into v.
// Anything but white space after the value is refused: a file holding two
// files' JSON, or stray bytes after one, is neither of them. Every error
// wraps invalid, the format's sentinel for a file that is not one of its own.
func DecodeJSON(data []byte, v any, invalid error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", invalid, err)
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("%w: data after the file's JSON object: %q", invalid, clip(rest))
	}
	return nil
}

// clip is the start of stray data, for a message.
func clip(b []byte) string {
	const most = 20
	if len(b) > most {
		return string(b[:most]) + "..."
	}
	return string(b)
}

// WriteJSON writes v to path atomically (see Write), encoded as EncodeJSON
// encodes it.
func WriteJSON(path string, v any, what string) error {
	data, err := EncodeJSON(v, what)
	if err != nil {
		return err
	}
	return Write(path, data)
}

// Read loads the file at path whole and decodes it. A file larger than
// limit bytes is refused unread with an error wrapping invalid, the format's
// sentinel for a file that is not one of its own, and naming the limit in
// MiB. Every error starts with what (the kind of file) and the quoted path,
// and wraps its cause.
func Read[T any](path, what string, limit int, invalid error, decode func([]byte) (T, error)) (T, error) {
	var zero T
	fh, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("%s %q: %w", what, path, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, int64(limit)+1))
	if err != nil {
		return zero, fmt.Errorf("%s %q: %w", what, path, err)
	}
	if len(data) > limit {
		return zero, fmt.Errorf("%s %q: %w: larger than %d MiB", what, path, invalid, limit>>20)
	}
	v, err := decode(data)
	if err != nil {
		return zero, fmt.Errorf("%s %q: %w", what, path, err)
	}
	return v, nil
}

// Write writes data to path through a temporary file in the same directory,
// synced and then renamed over path, so readers never see a partial file.
// The file is left readable by all (0644), as a result or report is shared.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}
