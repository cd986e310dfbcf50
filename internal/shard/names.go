package shard

import (
	"slices"
)

// MetricPrefix starts the column of a metric whose own name cannot be a
// column: "" is stored as "metric_", "status" as "metric_status".
const MetricPrefix = "metric_"

// A Renamed metric is stored under another column than its name.
type Renamed struct {
	Name, Column string
	// Why says what the name clashed with, for the shard's error column.
	Why string
}

// MetricColumns returns the column of each metric in names, and the metrics
// whose column is not their name, sorted by name. params are the study's
// parameter columns. A metric keeps its name unless it is empty, a
// parameter, or a column that gridstudy writes itself (Reserved) other than
// a metric the runner records: such a name would make the shard, or
// collect's tables, hold two columns of one name. It is stored as
// MetricPrefix+name instead, prefixed again while that is taken too
// (metric_metric_status when a metric is named metric_status already).
//
// The runner applies it to the final metrics of a shard and to the names in
// its history shard, so that a metric has one spelling in both.
func MetricColumns(names, params []string) (map[string]string, []Renamed) {
	sorted := slices.Compact(slices.Sorted(slices.Values(names)))
	cols := make(map[string]string, len(sorted))
	taken := map[string]bool{}
	for _, p := range params {
		taken[p] = true
	}
	var renamed []Renamed
	for _, n := range sorted {
		switch {
		case n == "":
			renamed = append(renamed, Renamed{Name: n, Why: "the name is empty"})
		case taken[n] || RunColumns().Index(n) >= 0:
			renamed = append(renamed, Renamed{Name: n, Why: "the name is a run column or parameter"})
		case Reserved(n) && !slices.Contains(runnerMetrics, n):
			renamed = append(renamed, Renamed{Name: n, Why: "the name is a column that gridstudy writes"})
		default:
			cols[n] = n
		}
	}
	// The names kept as they are claim their columns first, so that a
	// renamed metric never takes the column of one reported under it.
	for n := range cols {
		taken[n] = true
	}
	for i := range renamed {
		col := MetricPrefix + renamed[i].Name
		for taken[col] || Reserved(col) {
			col = MetricPrefix + col
		}
		taken[col] = true
		renamed[i].Column = col
		cols[renamed[i].Name] = col
	}
	return cols, renamed
}
