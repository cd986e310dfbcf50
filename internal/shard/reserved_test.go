package shard

import "testing"

func TestReserved(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"seed", true},               // run column
		{"status", true},             // run column
		{"gridstudy_version", true},  // run column
		{"index", true},              // manifest column
		{"dir", true},                // manifest column
		{"shard", true},              // collect: raw results
		{"outlier_metrics", true},    // collect: raw results
		{"n_ok", true},               // collect: aggregated results
		{"n_lost", true},             // collect: aggregated results
		{"wall_s_mean", true},        // collect: a measure's statistic
		{"gpu_mem_mb_p75", true},     // collect: a measure's statistic
		{"metrics_convention", true}, // the runner's own metric
		{"nphotons", false},
		{"model.N", false},
		{"wall_s_total", false}, // not a statistic collect writes
		{"psnr_mean", false},    // metric statistics depend on the metrics
		{"Seed", false},         // columns are case-sensitive
		{"n", false},
	}
	for _, tt := range tests {
		if got := Reserved(tt.name); got != tt.want {
			t.Errorf("Reserved(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
