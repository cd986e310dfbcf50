//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteHonoursUmask: files get their mode less the umask, as
// os.WriteFile gives it, also when they replace a file of another mode.
func TestWriteHonoursUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		mode os.FileMode
		sync bool
		want os.FileMode
	}{
		{"f.txt", 0o644, false, 0o640},
		{"f.txt", 0o666, true, 0o640}, // replacing it
		{"run.sbatch", 0o755, false, 0o750},
	} {
		path := filepath.Join(dir, tc.name)
		if err := WriteBytes(path, []byte("x"), tc.mode, tc.sync); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("%s written with mode %v under umask 027: %v, want %v", tc.name, tc.mode, got, tc.want)
		}
	}
}
