package study

import (
	"errors"
	"strings"
	"testing"
)

func TestParamEnv(t *testing.T) {
	for in, want := range map[string]string{
		"lr":               "GRIDSTUDY_PARAM_LR",
		"model.nll_weight": "GRIDSTUDY_PARAM_MODEL_NLL_WEIGHT",
		"a-b c":            "GRIDSTUDY_PARAM_A_B_C",
		"x2":               "GRIDSTUDY_PARAM_X2",
		"a.b":              "GRIDSTUDY_PARAM_A_B",
		"a_b":              "GRIDSTUDY_PARAM_A_B",
		"A-B":              "GRIDSTUDY_PARAM_A_B",
	} {
		if got := ParamEnv(in); got != want {
			t.Errorf("ParamEnv(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRefusals checks each refusal of the study loader: the problem it
// reports, with its line and key, and that the near misses are accepted.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name string
		src  string
		ov   Overrides
		want []string // each problem, as "line: key: start of message" ("...$": the whole message); none: the study is valid
	}{
		// Environment names.
		{name: "env clash dot and underscore",
			src:  "[params.a_b]\nvalues = [1]\n[params.\"a.b\"]\nvalues = [2]\n",
			want: []string{`4: params."a.b": parameters "a_b" and "a.b" are both GRIDSTUDY_PARAM_A_B`}},
		{name: "env clash case and dash",
			src:  "[params.a-b]\nvalues = [1]\n[params.A-B]\nvalues = [2]\n",
			want: []string{`4: params.A-B: parameters "a-b" and "A-B" are both GRIDSTUDY_PARAM_A_B`}},
		{name: "env clash with a model's parameter, reported once",
			src:  "[params.lr_x]\nvalues = [1]\n[models.a.params.\"lr.x\"]\nvalues = [2]\n[models.b]\n",
			want: []string{`4: models.a.params."lr.x": parameters "lr_x" and "lr.x" are both GRIDSTUDY_PARAM_LR_X`}},
		{name: "env clash of a parameter of every model, reported once",
			src:  "[params.a_b]\nvalues = [1]\n[params.\"a.b\"]\nvalues = [2]\n[models.m]\n[models.n]\n",
			want: []string{`4: params."a.b": parameters "a_b" and "a.b" are both`}},
		{name: "env names of two models never meet",
			src: "[models.a.params.lr_x]\nvalues = [1]\n[models.b.params.\"lr.x\"]\nvalues = [2]\n"},
		{name: "env clash from flags",
			ov:   Overrides{Params: []string{"a.b=1", "a_b=2"}},
			want: []string{`params.a_b: parameters "a.b" and "a_b" are both GRIDSTUDY_PARAM_A_B`}},

		// Values that are not finite numbers.
		{name: "nan in values",
			src:  "[params.x]\nvalues = [1.0, nan]\n",
			want: []string{`3: params.x.values: value 2 is nan: a parameter's values must be finite numbers`}},
		{name: "inf in values",
			src:  "[params.x]\nvalues = [+inf]\n",
			want: []string{`3: params.x.values: value 1 is inf`}},
		{name: "-inf in values mixed with ints",
			src:  "[params.x]\nvalues = [1, -inf]\n",
			want: []string{`3: params.x.values: value 2 is -inf`}},
		{name: "nan from --param",
			ov:   Overrides{Params: []string{"x=1,NaN"}},
			want: []string{`params.x.values: value 2 is nan`}},
		{name: "inf range start",
			src:  "[params.x]\nrange = {start = -inf, stop = 1, num = 2}\n",
			want: []string{`3: params.x.range: start must be a finite number`}},
		{name: "range overflowing to inf",
			src:  "[params.x]\nrange = {start = -1.5e308, stop = 1.5e308, num = 3}\n",
			want: []string{`3: params.x.range: value 1 is nan`}},
		{name: "nan fixed",
			src:  "[fixed]\nlr = nan\n",
			want: []string{`3: fixed.lr: lr holds NaN: values must be finite numbers`}},
		{name: "inf inside a fixed array",
			src:  "[fixed]\nsizes = [1.0, inf]\n",
			want: []string{`3: fixed.sizes: sizes holds [1 +Inf]`}},
		{name: "nan fixed in a nested table",
			src:  "[fixed.model]\nw = nan\n",
			want: []string{`3: fixed.model.w: model.w holds NaN`}},
		{name: "inf from --fixed",
			ov:   Overrides{Fixed: []string{"lr=inf"}},
			want: []string{`fixed.lr: lr holds +Inf`}},
		{name: "nan override",
			src:  "[params.x]\nvalues = [1]\n[models.a]\noverrides = {w = nan}\n",
			want: []string{`5: models.a.overrides.w: w holds NaN`}},

		// Zero and negative zero.
		{name: "0.0 beside -0.0",
			src:  "[params.x]\nvalues = [0.0, -0.0, 1.0]\n",
			want: []string{`3: params.x.values: duplicate value -0: 0.0 and -0.0 are one number`}},
		{name: "0 beside -0.0",
			src:  "[params.x]\nvalues = [-0.0, 0]\n",
			want: []string{`3: params.x.values: duplicate value 0: 0.0 and -0.0 are one number`}},
		{name: "0.0 twice",
			src:  "[params.x]\nvalues = [0.0, 0.0]\n",
			want: []string{`3: params.x.values: duplicate value 0$`}},
		{name: "0 twice",
			src:  "[params.x]\nvalues = [0, 0]\n",
			want: []string{`3: params.x.values: duplicate value 0$`}},
		{name: "-0.0 alone",
			src: "[params.x]\nvalues = [-0.0, 1.0]\n"},
		{name: "range through zero has one zero",
			src: "[params.x]\nrange = {start = -1, stop = 1, num = 5}\n"},

		// A name that is both a value and a table of the config.
		{name: "swept value and swept table",
			src:  "[params.net]\nvalues = [\"a\"]\n[params.\"net.N\"]\nvalues = [64]\n",
			want: []string{`4: params."net.N": "net.N" is a key inside "net", which params.net sets to a value`}},
		{name: "swept table and fixed value",
			src:  "[params.\"opt.lr\"]\nvalues = [0.1]\n[fixed]\nopt = \"adam\"\n",
			want: []string{`2: params."opt.lr": "opt.lr" is a key inside "opt", which fixed.opt sets to a value`}},
		{name: "fixed table and swept value",
			src:  "[params.opt]\nvalues = [\"adam\"]\n[fixed]\nopt = {lr = 0.1}\n",
			want: []string{`5: fixed.opt.lr: "opt.lr" is a key inside "opt", which params.opt sets to a value`}},
		{name: "two levels down",
			src:  "[params.a]\nvalues = [1]\n[params.\"a.b.c\"]\nvalues = [2]\n",
			want: []string{`4: params."a.b.c": "a.b.c" is a key inside "a", which params.a sets to a value`}},
		{name: "a model's parameter inside an override",
			src:  "[models.m]\noverrides = {net = \"resnet\"}\n[models.m.params.\"net.depth\"]\nvalues = [18, 34]\n",
			want: []string{`4: models.m.params."net.depth": "net.depth" is a key inside "net", which models.m.overrides.net sets to a value`}},
		{name: "from flags",
			ov:   Overrides{Params: []string{"a=1,2"}, Fixed: []string{"a.b=3"}},
			want: []string{`fixed."a.b": "a.b" is a key inside "a", which params.a sets to a value`}},
		{name: "siblings and a shared prefix are fine",
			src: "[params.\"model.N\"]\nvalues = [1]\n[params.\"model.M\"]\nvalues = [2]\n[params.modelx]\nvalues = [3]\n[fixed]\nmodel = {K = 1}\n"},
		{name: "tables of different models never meet",
			src: "[models.a.params.net]\nvalues = [1]\n[models.b.params.\"net.depth\"]\nvalues = [2]\n"},

		// Names that collect or the runner write as columns.
		{name: "collect's columns",
			src: "[params.n_ok]\nvalues = [1]\n[params.shard]\nvalues = [1]\n[params.wall_s_mean]\nvalues = [1]\n[params.outlier_metrics]\nvalues = [1]\n",
			want: []string{`2: params.n_ok: "n_ok" is reserved`, `4: params.shard: "shard" is reserved`,
				`6: params.wall_s_mean: "wall_s_mean" is reserved`, `8: params.outlier_metrics: "outlier_metrics" is reserved`}},
		{name: "manifest and run columns",
			src:  "[params.index]\nvalues = [1]\n[models.m.params.exit_code]\nvalues = [1]\n",
			want: []string{`2: params.index: "index" is reserved`, `4: models.m.params.exit_code: "exit_code" is reserved`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "s.toml"
			var err error
			if tt.src != "" {
				_, err = Parse(file, "name = \"s\"\n"+tt.src, t.TempDir(), tt.ov)
			} else {
				file = "flags"
				tt.ov.Name = "s"
				_, err = Load("", tt.ov)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused a valid study: %v", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want an *InvalidError", err)
			}
			if len(inv.Problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(inv.Problems), len(tt.want), err)
			}
			lines := strings.Split(err.Error(), "\n")
			for i, w := range tt.want {
				want := file + ": " + w
				if w[0] >= '0' && w[0] <= '9' {
					want = file + ":" + w
				}
				whole, exact := strings.CutSuffix(want, "$")
				if exact && lines[i] != whole || !exact && !strings.HasPrefix(lines[i], want) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i+1, lines[i], want)
				}
			}
		})
	}
}
