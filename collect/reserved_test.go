package collect

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// TestOwnColumnsAreReserved keeps shard.Reserved, the list the study loader
// refuses parameter names from, in step with the columns collect writes:
// every column of its tables that is neither a parameter nor a metric must
// be reserved, or a parameter of that name would collide with it.
func TestOwnColumnsAreReserved(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	run(t, dir, Options{})
	params := map[string]bool{"x": true, "y": true}
	metrics := []string{"psnr", "mae", "converged", "ckpt", "tag"}
	isMetric := func(col string) bool {
		for _, m := range metrics {
			if col == m || strings.HasPrefix(col, m+"_") {
				return true
			}
		}
		return false
	}
	for _, name := range []string{rawFile + ".parquet", aggFile + ".parquet"} {
		r, err := table.Open(filepath.Join(dir, "data", name))
		if err != nil {
			t.Fatal(err)
		}
		schema := r.Schema()
		r.Close()
		for _, c := range schema {
			if !params[c.Name] && !isMetric(c.Name) && !shard.Reserved(c.Name) {
				t.Errorf("data/%s: column %q is not in shard.Reserved", name, c.Name)
			}
		}
	}
}
