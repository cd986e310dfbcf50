package studydir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLastLine(t *testing.T) {
	tests := []struct {
		name, log string
		from      int64
		want      string
	}{
		{"last line", "a\nb\n\n", 0, "b"},
		{"header only", "x\n" + headerPrefix + "r_t1, attempt 2, started now ===\n", 0, ""},
		{"after offset", "old error\n" + headerPrefix + "r_t1 ===\n", 10, ""},
		{"cut", strings.Repeat("x", 300), 0, strings.Repeat("x", 200)},
		{"empty", "", 0, ""},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "stderr.log")
		if err := os.WriteFile(path, []byte(tt.log), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := LastLine(path, tt.from); got != tt.want {
			t.Errorf("%s: LastLine = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := LastLine("/nonexistent/stderr.log", 0); got != "" {
		t.Errorf("LastLine of a missing file = %q, want empty", got)
	}
}
