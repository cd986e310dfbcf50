package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
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

// A plan that did not finish has no layout file: submit refuses it and
// submits nothing.
func TestSubmitRefusesIncompletePlan(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	n, err := Submit(context.Background(), &slurm.Client{}, Request{Dir: dir, Study: &study.Study{}, Indices: []int{0}, Out: &out})
	if n != 0 || !errors.Is(err, slurm.ErrIncompletePlan) {
		t.Fatalf("Submit of an incomplete plan = %d, %v; want 0 and ErrIncompletePlan", n, err)
	}
	if !strings.Contains(err.Error(), "run gridstudy plan again") || out.Len() != 0 {
		t.Errorf("error %q / output %q: want a hint to plan again and nothing submitted", err, out.String())
	}
}
