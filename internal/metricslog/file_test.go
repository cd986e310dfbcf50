package metricslog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadLimited(t *testing.T) {
	in := `{"a": 1}` + "\n" + `{"b": 2}` + "\n"
	r, err := ReadLimited(strings.NewReader(in), int64(len(in)))
	if err != nil || len(r.Final) != 2 {
		t.Fatalf("ReadLimited at exactly the cap = %v, %v; want both lines", r, err)
	}
	r, err = ReadLimited(strings.NewReader(in), int64(len(in))-1)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 17 bytes") {
		t.Fatalf("ReadLimited one byte over the cap: err = %v, want ErrTooLarge naming the cap", err)
	}
	if r == nil || r.Final["a"] != 1.0 {
		t.Errorf("ReadLimited over the cap = %v; want the lines before the cap", r)
	}
}

// within fails the test if fn takes longer than d: a blocking open or an
// endless read would otherwise hang the whole test binary.
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	if err := os.Symlink("/dev/zero", path("zero")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path("fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path("dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A socket's path may be at most about 100 bytes: keep it short.
	sockDir, err := os.MkdirTemp("", "ml")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	big, err := os.Create(path("big"))
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk space, but 70 MiB to stat.
	if err := big.Truncate(70 << 20); err != nil {
		t.Fatal(err)
	}
	big.Close()
	for _, tt := range []struct {
		path string
		want error
		msg  string
	}{
		{path("zero"), ErrNotRegular, "is a symbolic link to /dev/zero, a character device, not a regular file"},
		{"/dev/null", ErrNotRegular, "is a character device, not a regular file"},
		{path("fifo"), ErrNotRegular, "is a named pipe (FIFO), not a regular file"},
		{path("dir"), ErrNotRegular, "is a directory, not a regular file"},
		{sock, ErrNotRegular, "is a socket, not a regular file"},
		{path("big"), ErrTooLarge, "is 73400320 bytes, over the size cap of 64 MiB"},
		{path("missing"), fs.ErrNotExist, "no such file"},
	} {
		within(t, 5*time.Second, func() {
			r, err := ReadFile(tt.path, MaxFileSize)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || r != nil {
				t.Errorf("ReadFile(%s) = %v, %v; want %v saying %q", tt.path, r, err, tt.want, tt.msg)
			}
			b, err := ReadAll(tt.path, MaxFileSize)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || b != nil {
				t.Errorf("ReadAll(%s) = %q, %v; want %v saying %q", tt.path, b, err, tt.want, tt.msg)
			}
		})
	}
}

func TestReadFileRegular(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "metrics.jsonl")
	content := `{"psnr": 30}` + "\n"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// A link to a regular file is read: frameworks write their files
	// elsewhere and link them.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link} {
		r, err := ReadFile(p, MaxFileSize)
		if err != nil || r.Final["psnr"] != 30.0 {
			t.Errorf("ReadFile(%s) = %v, %v; want psnr 30", p, r, err)
		}
		b, err := ReadAll(p, int64(len(content)))
		if err != nil || string(b) != content {
			t.Errorf("ReadAll(%s) at exactly the cap = %q, %v", p, b, err)
		}
		if _, err := ReadAll(p, int64(len(content))-1); !errors.Is(err, ErrTooLarge) {
			t.Errorf("ReadAll(%s) over the cap: err = %v, want ErrTooLarge", p, err)
		}
	}
}

func TestMergeFinalCap(t *testing.T) {
	r := &Report{}
	first := map[string]any{}
	for i := range MaxMetrics - 1 {
		first[fmt.Sprintf("a%05d", i)] = 1.0
	}
	r.MergeFinal(first)
	// One more name fits; of the rest, the first in sorted order wins.
	r.MergeFinal(map[string]any{"z": 1.0, "y": 2.0, "x": 3.0, "a00000": 4.0})
	if len(r.Final) != MaxMetrics || r.DroppedNames != 2 || r.Final["x"] != 3.0 || r.Final["a00000"] != 4.0 {
		t.Errorf("after the cap: %d names, %d dropped, x=%v a00000=%v; want %d, 2, 3, 4 (known names still update)",
			len(r.Final), r.DroppedNames, r.Final["x"], r.Final["a00000"], MaxMetrics)
	}
}

func TestFirstBadIsShort(t *testing.T) {
	long := strings.Repeat("k", 100000)
	for _, line := range []string{
		`{"` + long + `" 1}`,
		`{"` + long + `": [1]}`,
		`{"step": "` + long + `"}`,
	} {
		r, err := Read(strings.NewReader(line))
		if err != nil || r.BadLines != 1 || len(r.FirstBad) > 1200 {
			t.Errorf("bad line with a long key or value: BadLines %d, FirstBad %d bytes, err %v; want 1, at most 400", r.BadLines, len(r.FirstBad), err)
		}
	}
}

// FuzzReadLimited reads arbitrary bytes under a small cap: no panic, a
// result no larger than its input, and the cap held exactly.
func FuzzReadLimited(f *testing.F) {
	for _, s := range []string{
		`{"psnr": 30}` + "\n" + `{"step": 1, "loss": NaN}`, "\x00\x00\x00", "\n\n\n", `{"": 1, "status": 2}`,
		strings.Repeat(`{"step": 1, "a": 1, "b": 2}`+"\n", 20), `{"a": "\u00e9\ud800"}`,
	} {
		f.Add([]byte(s), uint16(64))
	}
	f.Fuzz(func(t *testing.T, b []byte, limit uint16) {
		r, err := ReadLimited(bytes.NewReader(b), int64(limit))
		if len(b) > int(limit) {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes under a cap of %d: err = %v, want ErrTooLarge", len(b), limit, err)
			}
			b = b[:limit]
		} else if err != nil {
			t.Fatalf("%d bytes under a cap of %d: %v", len(b), limit, err)
		}
		// Each history point, final metric and bad line takes input bytes
		// of its own.
		if len(r.History) > len(b) || len(r.Final) > len(b) || r.BadLines > len(b) || len(r.Final) > MaxMetrics {
			t.Fatalf("from %d bytes: %d points, %d metrics, %d bad lines", len(b), len(r.History), len(r.Final), r.BadLines)
		}
		// 200 bytes of the line, each quoted in up to 4, and the reason.
		if len(r.FirstBad) > 1200 {
			t.Fatalf("FirstBad is %d bytes long", len(r.FirstBad))
		}
		// What was read is what Read makes of the bytes under the cap.
		want, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(r) != fmt.Sprint(want) {
			t.Fatalf("ReadLimited = %v, Read of the bytes under the cap = %v", r, want)
		}
	})
}
