package collect

import (
	"testing"

	"github.com/gridstudy/gridstudy/internal/table"
)

// TestAggregatedColumnsUnambiguous: a parameter named like a statistic of
// a metric moves that metric's statistics to the metric_ stem, past a
// metric that has that stem already; other names stay as they are.
func TestAggregatedColumnsUnambiguous(t *testing.T) {
	g := &grid{params: table.Schema{{Name: "psnr_max", Kind: table.Double}, {Name: "lr", Kind: table.Double}}}
	a := &analysis{metrics: []string{"loss", "metric_psnr", "psnr"}}
	schema, _ := aggregated(g, a)
	seen := map[string]bool{}
	for _, c := range schema {
		if seen[c.Name] {
			t.Errorf("column %q appears twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, want := range []string{"psnr_max", "loss_mean", "loss_max", "metric_psnr_mean", "metric_metric_psnr_mean",
		"metric_metric_psnr_max", "wall_s_mean", "n_ok"} {
		if !seen[want] {
			t.Errorf("no column %q in %v", want, schema)
		}
	}
	if seen["psnr_mean"] {
		t.Errorf("psnr's statistics kept the stem psnr beside parameter psnr_max")
	}
}
