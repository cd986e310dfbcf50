// Package atomicfile writes a file through a temporary name in its folder
// and a rename, so that a reader sees the old file or the whole new one,
// never half of one, whenever the writer is killed or the disk fills up.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Write writes path with fn. The file gets mode less the umask, as
// os.WriteFile gives it: a study's files are shared the way the user shares
// everything else. With sync the data reach the disk before the rename,
// and the rename before Write returns, for files whose loss in a crash
// would cost more than the fsyncs (a study's plan, the result tables); a
// reader on another node sees the new file only whole. The temporary file
// starts with a dot and ends in ".tmp", which the listings of gridstudy's
// folders and globs for its files skip, and is removed on any failure, a
// panic in fn included; path is then left as it was.
func Write(path string, mode os.FileMode, sync bool, fn func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := createTemp(dir, filepath.Base(path), mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	err = fn(tmp)
	if err == nil && sync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	if sync {
		// Without it a crash of the node can lose the new name although
		// the data were synced.
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// WriteBytes is Write of data.
func WriteBytes(path string, data []byte, mode os.FileMode, sync bool) error {
	return Write(path, mode, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// createTemp creates a new file ".BASE.<random>.tmp" in dir with mode less
// the umask. Unlike os.CreateTemp, which creates files 0600, it lets the
// umask decide, so that no chmod after the fact overrides the user's.
func createTemp(dir, base string, mode os.FileMode) (*os.File, error) {
	for {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
