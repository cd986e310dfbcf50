package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/slurm"
)

func TestSplitListStaysUnderLimit(t *testing.T) {
	var ids []int
	for i := 0; i < 5000; i += 2 { // no ranges: the longest list
		ids = append(ids, i)
	}
	parts := splitList(ids)
	n := 0
	for _, p := range parts {
		if l := len(slurm.FormatIndexList(p)); l > maxIndexList {
			t.Errorf("index list of %d bytes, want at most %d", l, maxIndexList)
		}
		n += len(p)
	}
	if n != len(ids) || len(parts) < 2 {
		t.Errorf("split %d ids into %d parts holding %d", len(ids), len(parts), n)
	}
}

func TestChunksReadOffsets(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, line := range map[string]string{
		"array_000": "exec /s/bin/gridstudy exec /s --offset 0",
		"array_001": "exec '/s d/bin/gridstudy' exec '/s d' --offset 1001",
	} {
		if err := os.WriteFile(filepath.Join(dir, "slurm", name+".sbatch"), []byte("#!/bin/bash\n"+line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chunks, err := Chunks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 || chunks[0].Offset != 0 || chunks[1].Offset != 1001 || chunks[1].Name != "array_001" {
		t.Errorf("Chunks = %+v, want offsets 0 and 1001", chunks)
	}
	if err := os.WriteFile(filepath.Join(dir, "slurm", "array_002.sbatch"), []byte("#!/bin/bash\necho custom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Chunks(dir); err == nil || !strings.Contains(err.Error(), "--offset") {
		t.Errorf("a script without an exec line: %v, want an error naming --offset", err)
	}
}
