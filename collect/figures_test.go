package collect

import (
	"reflect"
	"testing"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/plots"
)

func TestMetricInfo(t *testing.T) {
	st, err := study.Parse("s.toml", `name = "i"
[params.x]
values = [1]
[collect]
maximize = ["psnr"]
[collect.metrics.mse]
label = "test MSE"
unit = "px²"
direction = "minimize"
lower_bound = 0
[collect.metrics.wall_s]
label = "run time"
`, t.TempDir(), study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	for _, tc := range []struct {
		name string
		want plots.MetricInfo
	}{
		{"mse", plots.MetricInfo{Label: "test MSE", Unit: "px²", Direction: plots.Minimize, Lower: &zero, Declared: true}},
		{"psnr", plots.MetricInfo{Direction: plots.Maximize, Declared: true}},
		{"wnorm", plots.MetricInfo{}}, // not guessed
		{"cpu_s", plots.MetricInfo{Label: "CPU time", Unit: "s", Direction: plots.Minimize, Lower: &zero}},
		// a declaration takes precedence over the runner's own description
		{"wall_s", plots.MetricInfo{Label: "run time", Unit: "s", Direction: plots.Minimize, Lower: &zero, Declared: true}},
	} {
		if got := metricInfo(st, tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("metricInfo(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
