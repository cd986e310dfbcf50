package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("old"), 0o640, true); err != nil {
		t.Fatal(err)
	}
	// A writer that fails half-way leaves the old file and no temporary.
	boom := errors.New("disk full")
	err := Write(path, 0o644, false, func(w io.Writer) error {
		io.WriteString(w, "ne")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("after a failed write the file holds %q, want old", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want the file alone", len(entries))
	}
	if err := WriteBytes(path, []byte("new"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if b, _ := os.ReadFile(path); err != nil || string(b) != "new" || fi.Mode().Perm() != 0o644 {
		t.Fatalf("file = %q, mode %v, %v; want new, 0644", b, fi.Mode(), err)
	}
}

// TestWritePanic: a writer that panics leaves the old file and no
// temporary, and the panic goes on to the caller.
func TestWritePanic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("old"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the writer's panic did not reach the caller")
			}
		}()
		Write(path, 0o644, true, func(w io.Writer) error {
			io.WriteString(w, "ne")
			panic("boom")
		})
	}()
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after a panicking write the file holds %q, want old", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d entries, want the file alone", len(entries))
	}
}
