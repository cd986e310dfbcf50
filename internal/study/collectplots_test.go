package study

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const collectPlotsHead = `name = "cp"
[params.lam]
values = [1e-4, 1e-3]
[params.n]
values = [1, 2]
`

func TestCollectMetricsDeclared(t *testing.T) {
	st := mustParse(t, collectPlotsHead+`
[collect]
maximize = ["psnr"]
minimize = ["wall"]
[collect.metrics.test_mse]
label = "test MSE"
unit = "px²"
direction = "minimize"
lower_bound = 0
[collect.metrics.acc]
direction = "maximize"
lower_bound = 0
upper_bound = 1
[collect.metrics.wnorm]
label = "weight norm"
[plots]
metrics = ["test_mse", "acc"]
kinds = ["heatmap", "pareto"]
pareto = [["wall", "test_mse"]]
`)
	c := st.Collect
	if got, want := c.Declared(), []string{"test_mse", "acc", "wnorm", "psnr", "wall"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Declared() = %q, want %q (file order, then maximize, minimize)", got, want)
	}
	for m, want := range map[string]string{"test_mse": Minimize, "acc": Maximize, "psnr": Maximize, "wall": Minimize, "wnorm": "", "other": ""} {
		if got := c.Direction(m); got != want {
			t.Errorf("Direction(%q) = %q, want %q", m, got, want)
		}
	}
	d := c.Metrics["test_mse"]
	if d.Label != "test MSE" || d.Unit != "px²" || d.LowerBound == nil || *d.LowerBound != 0 || d.UpperBound != nil {
		t.Errorf("test_mse = %+v", d)
	}
	if !reflect.DeepEqual(st.Plots.Kinds, []string{"heatmap", "pareto"}) || !reflect.DeepEqual(st.Plots.Pareto, [][]string{{"wall", "test_mse"}}) {
		t.Errorf("plots = %+v", st.Plots)
	}

	// The resolved study.toml keeps the declarations, under [collect.metrics].
	var b strings.Builder
	if err := st.Encode(&b, "test"); err != nil {
		t.Fatal(err)
	}
	again, err := Parse("study.toml", b.String(), t.TempDir(), Overrides{})
	if err != nil {
		t.Fatalf("resolved study does not load: %v\n%s", err, b.String())
	}
	if !reflect.DeepEqual(again.Collect.Metrics, c.Metrics) || !reflect.DeepEqual(again.Collect.Declared(), c.Declared()) || !reflect.DeepEqual(again.Plots, st.Plots) {
		t.Errorf("round trip lost declarations:\n%s", b.String())
	}
}

func TestCollectPlotsProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each must appear in the error
	}{
		{"direction", "[collect.metrics.mse]\ndirection = \"lower\"\n", []string{`cp.toml:8: collect.metrics.mse.direction: "lower": want "maximize" or "minimize"`}},
		{"direction against list", "[collect]\nmaximize = [\"mse\"]\n[collect.metrics.mse]\ndirection = \"minimize\"\n", []string{`cp.toml:10: collect.metrics.mse.direction: "minimize", but [collect] maximize lists "mse"`}},
		{"bounds", "[collect.metrics.acc]\nlower_bound = 1\nupper_bound = 0\n", []string{"cp.toml:9: collect.metrics.acc.upper_bound: 0 is not above lower_bound 1"}},
		{"unknown key", "[collect.metrics.acc]\nunits = \"s\"\n", []string{`collect.metrics.acc.units: unknown key "units"; did you mean "unit"?`}},
		{"kind", "[plots]\nkinds = [\"heatmaps\", \"bars\"]\n", []string{`cp.toml:8: plots.kinds: unknown figure kind "heatmaps"; did you mean "heatmap"?`, `unknown figure kind "bars"; known kinds: heatmap, lines`}},
		{"pareto", "[plots]\npareto = [[\"a\"], [\"a\", \"a\"], [\"lam\", \"b\"]]\n", []string{
			"cp.toml:8: plots.pareto: entry 1: want a pair of metrics [x, y], got 1 names",
			`entry 2: "a" against itself`, `plots.pareto: "lam" is a parameter, not a metric`}},
		{"metrics", "[plots]\nmetrics = [\"n\", \"\"]\n", []string{`cp.toml:8: plots.metrics: "n" is a parameter, not a metric`, "plots.metrics: empty metric name"}},
		{"heatmap", "[plots]\nheatmaps = [[\"lam\", \"nn\"]]\n", []string{`cp.toml:8: plots.heatmaps: entry 1 names unknown parameter "nn"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("cp.toml", collectPlotsHead+"\n"+tc.src, t.TempDir(), Overrides{})
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Parse = %v, want *InvalidError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not mention\n%s", err, w)
				}
			}
		})
	}
}

func TestUnreportedMetrics(t *testing.T) {
	st := mustParse(t, collectPlotsHead+`
[collect]
minimize = ["trian_mse", "test_mse"]
maximize = ["zzz"]
[collect.metrics.test_mse]
label = "test MSE"
[plots]
metrics = ["test_mse", "trian_mse"]
pareto = [["wall_s", "tset_mse"]]
`)
	got := st.UnreportedMetrics([]string{"train_mse", "test_mse", "wall_s"})
	want := []string{
		"[collect] maximize: zzz: no run reported it",
		"[collect] minimize: trian_mse: no run reported it; did you mean train_mse?",
		"[plots] pareto: tset_mse: no run reported it; did you mean test_mse?",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnreportedMetrics =\n%q\nwant\n%q", got, want)
	}
}
