//go:build unix

package table

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileMode: result tables get 0666 less the umask, as os.Create
// gives files, so that a group-writable study stays group-writable.
func TestWriteFileMode(t *testing.T) {
	for _, tc := range []struct {
		umask int
		want  os.FileMode
	}{
		{0o002, 0o664},
		{0o077, 0o600},
	} {
		old := syscall.Umask(tc.umask)
		path := filepath.Join(t.TempDir(), "t.parquet")
		writeTable(t, path, Schema{{"a", Int64}}, [][]any{{int64(1)}})
		syscall.Umask(old)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("umask %03o: table written with mode %v, want %v", tc.umask, got, tc.want)
		}
	}
}
