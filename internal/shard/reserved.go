package shard

import (
	"slices"
	"strings"
)

// Columns that gridstudy writes besides the run columns of a shard
// (RunColumns). A parameter becomes a column of the manifest, of every
// shard and of collect's tables, so it must not take any of these names.
var (
	// manifestColumns are the manifest's own columns that no shard has.
	manifestColumns = []string{"index", "dir"}
	// collectColumns are the columns collect adds: raw_results_all_trials
	// names each row's shard and outlier metrics, aggregated_results counts
	// the trials of each cell.
	collectColumns = []string{"shard", "outlier_metrics", "n_ok", "n_failed", "n_lost"}
	// runnerMetrics are the metrics the runner records itself.
	runnerMetrics = []string{"metrics_convention"}
	// measures are the run columns that collect aggregates like metrics,
	// as <measure>_<stat> columns of aggregated_results.
	measures  = []string{"wall_s", "cpu_s", "max_rss_mb", "gpu_mem_mb"}
	statNames = []string{"mean", "std", "sem", "min", "p25", "median", "p75", "max"}
)

// Reserved reports whether name is a column that gridstudy itself writes
// (a run column such as seed or status, a manifest column, a column of
// collect's tables such as n_ok or wall_s_mean, or a metric the runner
// records), so that a parameter of that name would collide with it.
func Reserved(name string) bool {
	if RunColumns().Index(name) >= 0 {
		return true
	}
	if slices.Contains(manifestColumns, name) || slices.Contains(collectColumns, name) || slices.Contains(runnerMetrics, name) {
		return true
	}
	for _, m := range measures {
		if stat, ok := strings.CutPrefix(name, m+"_"); ok && slices.Contains(statNames, stat) {
			return true
		}
	}
	return false
}
