package metricslog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize is the largest metrics file the runner reads, the JSON lines
// and metrics.json alike: 64 MiB, some hundred thousand lines of history.
// The command writes these files, and a runaway or hostile one could make
// them as large as the disk; the runner reads them in the same allocation,
// on the same node, and must neither run out of memory nor spin for ever.
const MaxFileSize = 64 << 20

// ErrTooLarge is wrapped by the errors that refuse a metrics file or stream
// longer than its cap.
var ErrTooLarge = errors.New("over the size cap")

// ErrNotRegular is wrapped by the errors that refuse a metrics file that is
// not a regular file: a directory, a named pipe, a socket, a device.
var ErrNotRegular = errors.New("not a regular file")

// ReadLimited reads a metrics stream like Read, but reads at most limit
// bytes of it: a longer stream gives the report of what was read and an
// error that wraps ErrTooLarge.
func ReadLimited(rd io.Reader, limit int64) (*Report, error) {
	return Read(&capReader{r: rd, left: limit, limit: limit})
}

// capReader passes on at most limit bytes of r, then fails if r has more.
type capReader struct {
	r           io.Reader
	left, limit int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a stream of exactly limit bytes from a
		// longer one.
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		if n > 0 {
			return 0, fmt.Errorf("more than %s, %w", capText(c.limit), ErrTooLarge)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// ReadFile reads the JSON-lines metrics file at path, which must be a
// regular file of at most limit bytes (see Open). A file that does not
// exist gives an error that wraps fs.ErrNotExist.
func ReadFile(path string, limit int64) (*Report, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ReadLimited(f, limit)
	if err != nil {
		return nil, fmt.Errorf("metrics file %s: %w", path, err)
	}
	return r, nil
}

// ReadAll returns the contents of the metrics file at path (metrics.json),
// which must be a regular file of at most limit bytes (see Open).
func ReadAll(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(&capReader{r: f, left: limit, limit: limit})
	if err != nil {
		return nil, fmt.Errorf("metrics file %s: %w", path, err)
	}
	return b, nil
}

// Open opens the metrics file at path for reading, following symbolic
// links, if it is a regular file of at most limit bytes. Anything else is
// refused with an error that names what it is and wraps ErrNotRegular or
// ErrTooLarge: reading /dev/zero never ends, opening a named pipe blocks
// until a writer comes, and some devices act when opened. The file is
// looked at before it is opened, and again once open, because the command
// may leave a process behind that swaps it in between.
func Open(path string, limit int64) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := check(path, fi, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err = f.Stat()
	if err == nil {
		err = check(path, fi, limit)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// check refuses a file that is not regular or is larger than limit.
func check(path string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		what := kind(fi.Mode())
		if target, err := os.Readlink(path); err == nil {
			what = fmt.Sprintf("a symbolic link to %s, %s", target, what)
		}
		return fmt.Errorf("metrics file %s is %s, %w", path, what, ErrNotRegular)
	}
	if fi.Size() > limit {
		return fmt.Errorf("metrics file %s is %d bytes, %w of %s", path, fi.Size(), ErrTooLarge, capText(limit))
	}
	return nil
}

// kind names the type of a file that is not regular.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// capText spells a size cap for messages: "64 MiB", or bytes when it is
// not a whole number of MiB.
func capText(limit int64) string {
	if limit > 0 && limit%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", limit>>20)
	}
	return fmt.Sprintf("%d bytes", limit)
}
