// Package atomicfile writes files so that a reader never sees a partial one:
// the result file, the report directory and promoted plans are all written
// through it. Read loads such a file back whole, bounded in size, and
// decodes it: the result and capacity files are read through it.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

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
