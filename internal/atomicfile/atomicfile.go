// Package atomicfile writes a file through a temporary name in its folder
// and a rename, so that a reader sees the old file or the whole new one,
// never half of one, whenever the writer is killed or the disk fills up.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes path with fn and gives it mode. With sync the data reach
// the disk before the rename, for files whose loss in a crash would cost
// more than the fsync (a study's plan); a reader on another node sees the
// new file only whole. The temporary file starts with a dot, which the
// listings of gridstudy's folders skip, and is removed on any failure.
func Write(path string, mode os.FileMode, sync bool, fn func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	err = fn(tmp)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil && sync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// WriteBytes is Write of data.
func WriteBytes(path string, data []byte, mode os.FileMode, sync bool) error {
	return Write(path, mode, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
