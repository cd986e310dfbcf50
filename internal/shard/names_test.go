package shard

import (
	"reflect"
	"testing"
)

func TestMetricColumns(t *testing.T) {
	names := []string{
		"psnr", "", "status", "seed", "shard", "outlier_metrics", "n_ok", "wall_s_mean", "lr", "metric_status",
		"metrics_convention", "Status", "psnr_mean", "metric_", "psnr",
	}
	cols, renamed := MetricColumns(names, []string{"lr", "model.N"})
	want := map[string]string{
		"psnr":               "psnr",
		"psnr_mean":          "psnr_mean", // collect's statistics of psnr are its own problem
		"Status":             "Status",    // columns are case-sensitive, as Reserved's
		"metrics_convention": "metrics_convention",
		"metric_status":      "metric_status",
		"metric_":            "metric_",
		"":                   "metric_metric_",
		"status":             "metric_metric_status",
		"seed":               "metric_seed",
		"shard":              "metric_shard",
		"outlier_metrics":    "metric_outlier_metrics",
		"n_ok":               "metric_n_ok",
		"wall_s_mean":        "metric_wall_s_mean",
		"lr":                 "metric_lr",
	}
	if !reflect.DeepEqual(cols, want) {
		t.Errorf("MetricColumns =\n%v, want\n%v", cols, want)
	}
	wantRenamed := []Renamed{
		{"", "metric_metric_", "the name is empty"},
		{"lr", "metric_lr", "the name is a run column or parameter"},
		{"n_ok", "metric_n_ok", "the name is a column that gridstudy writes"},
		{"outlier_metrics", "metric_outlier_metrics", "the name is a column that gridstudy writes"},
		{"seed", "metric_seed", "the name is a run column or parameter"},
		{"shard", "metric_shard", "the name is a column that gridstudy writes"},
		{"status", "metric_metric_status", "the name is a run column or parameter"},
		{"wall_s_mean", "metric_wall_s_mean", "the name is a column that gridstudy writes"},
	}
	if !reflect.DeepEqual(renamed, wantRenamed) {
		t.Errorf("renamed =\n%v, want\n%v", renamed, wantRenamed)
	}
	seen := map[string]string{}
	for n, c := range cols {
		if other, dup := seen[c]; dup {
			t.Errorf("metrics %q and %q share column %q", n, other, c)
		}
		seen[c] = n
	}
}

func TestMetricColumnsCommonCase(t *testing.T) {
	cols, renamed := MetricColumns([]string{"ms_ssim", "psnr", "frc50", "loss"}, []string{"nphotons"})
	if len(renamed) != 0 || len(cols) != 4 || cols["psnr"] != "psnr" {
		t.Errorf("MetricColumns of plain names = %v, %v; want each its own", cols, renamed)
	}
}
