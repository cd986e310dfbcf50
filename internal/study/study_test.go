package study

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Study {
	t.Helper()
	st, err := Parse("s.toml", src, t.TempDir(), Overrides{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return st
}

func TestFormatFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1e6, "1e6"}, {1e-4, "1e-4"}, {0.5, "0.5"}, {4096, "4096"}, {100, "100"},
		{2.5e-5, "2.5e-5"}, {0.01, "0.01"}, {123456789, "123456789"}, {-3e10, "-3e10"}, {0, "0"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.in); got != tt.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{"512", Value{Kind: Int, I: 512}},
		{"1e6", Value{Kind: Float, F: 1e6}},
		{"0.5", Value{Kind: Float, F: 0.5}},
		{"true", Value{Kind: Bool, B: true}},
		{"adam", Value{Kind: String, S: "adam"}},
		{"0x10", Value{Kind: String, S: "0x10"}},
	}
	for _, tt := range tests {
		if got := ParseValue(tt.in); got != tt.want {
			t.Errorf("ParseValue(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestRanges(t *testing.T) {
	tests := []struct {
		rng  string
		want string
		kind Kind
	}{
		{`{start = 256, stop = 4096, scale = "log2"}`, "256 512 1024 2048 4096", Int},
		{`{start = 1e2, stop = 1e6, scale = "log"}`, "100 1e3 1e4 1e5 1e6", Float},
		{`{start = 1e-5, stop = 1e-1, num = 3, scale = "log"}`, "1e-5 1e-3 0.1", Float},
		{`{start = 0, stop = 1, num = 5}`, "0 0.25 0.5 0.75 1", Float},
		{`{start = 1, stop = 10, step = 3}`, "1 4 7 10", Int},
		{`{start = 0, stop = 1, step = 0.3}`, "0 0.3 0.6 0.9", Float},
		{`{start = 5, stop = 5, num = 1}`, "5", Int},
		{`{start = 1, stop = 16, step = 2, scale = "log2"}`, "1 4 16", Int},
	}
	for _, tt := range tests {
		st := mustParse(t, "name = \"r\"\n[params.x]\nrange = "+tt.rng+"\n")
		var got []string
		for _, v := range st.Params[0].Values {
			got = append(got, v.String())
		}
		if strings.Join(got, " ") != tt.want || st.Params[0].Kind != tt.kind {
			t.Errorf("range %s = %v (%s), want %s (%s)", tt.rng, got, st.Params[0].Kind, tt.want, tt.kind)
		}
	}
}

func TestMixedIntFloatBecomesFloat(t *testing.T) {
	st := mustParse(t, "name = \"m\"\n[params.x]\nvalues = [1, 2.5, 1e6]\n")
	if p := st.Params[0]; p.Kind != Float || p.Values[0] != (Value{Kind: Float, F: 1}) {
		t.Errorf("values [1, 2.5, 1e6] = %s %+v, want float column", p.Kind, p.Values)
	}
}

func TestPerModelParamDoesNotMultiplyOtherModels(t *testing.T) {
	st := mustParse(t, `name = "m"
[params.nphotons]
values = [1e6, 1e7]
[models.pinn.params.tv_weight]
values = [0.1, 0.01, 0.001]
[models.baseline]
`)
	cells, err := st.Cells()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range cells {
		count[c.Model]++
		if _, has := c.Value("tv_weight"); has != (c.Model == "pinn") {
			t.Errorf("cell %s of %s: tv_weight present = %v", c.Folder, c.Model, has)
		}
	}
	if count["pinn"] != 6 || count["baseline"] != 2 {
		t.Errorf("cells per model = %v, want pinn 6, baseline 2", count)
	}
}

func TestZip(t *testing.T) {
	st := mustParse(t, `name = "z"
zip = [["batch_size", "learning_rate"]]
[params.batch_size]
values = [16, 32, 64]
[params.depth]
values = [2, 4]
[params.learning_rate]
values = [1e-4, 2e-4, 4e-4]
`)
	cells, err := st.Cells()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 6 {
		t.Fatalf("zip of 3 x depth 2 = %d cells, want 6", len(cells))
	}
	for _, c := range cells {
		b, _ := c.Value("batch_size")
		lr, _ := c.Value("learning_rate")
		if lr.F != float64(b.I)/16*1e-4 {
			t.Errorf("cell %s pairs batch %s with lr %s", c.Folder, b, lr)
		}
	}
}

func TestConstraints(t *testing.T) {
	st := mustParse(t, `name = "c"
constraints = ["n_images * nphotons <= 1e9", "model != 'baseline' || model_nll_weight == 1"]
[params.nphotons]
values = [1e6, 1e7]
[params.n_images]
values = [100, 1000]
[params."model.nll_weight"]
values = [1, 2]
[models.pinn]
[models.baseline]
`)
	cells, err := st.Cells()
	if err != nil {
		t.Fatal(err)
	}
	// 3 of 4 (nphotons, n_images) pairs pass; baseline keeps weight 1 only.
	if len(cells) != 3*2+3*1 {
		t.Errorf("constraints kept %d cells, want 9", len(cells))
	}
}

func TestIdentityByValue(t *testing.T) {
	small := mustParse(t, "name = \"i\"\ntrials = 2\n[params.a]\nvalues = [1, 2]\n[params.b]\nvalues = [\"x\"]\n")
	big := mustParse(t, "name = \"i\"\ntrials = 3\n[params.a]\nvalues = [3, 1, 2.0]\n[params.b]\nvalues = [\"y\", \"x\"]\n")
	runsOf := func(st *Study) map[string]RunSpec {
		cells, err := st.Cells()
		if err != nil {
			t.Fatal(err)
		}
		runs, err := st.Runs(cells)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]RunSpec{}
		for _, r := range runs {
			m[r.ID] = r
		}
		return m
	}
	a, b := runsOf(small), runsOf(big)
	if len(b) != 18 {
		t.Fatalf("big study has %d runs, want 18", len(b))
	}
	for id, r := range a {
		s, ok := b[id]
		if !ok {
			t.Errorf("run %s (%s) vanished when values were added", id, r.Dir())
			continue
		}
		if s.Seed != r.Seed {
			t.Errorf("run %s seed %d became %d", id, r.Seed, s.Seed)
		}
		if s.Dir() != r.Dir() {
			t.Errorf("run %s dir %s became %s", id, r.Dir(), s.Dir())
		}
	}
}

func TestSeedsDiffer(t *testing.T) {
	seen := map[int64]bool{}
	for trial := 1; trial <= 1000; trial++ {
		s := Seed(42, "abcdef012345", trial)
		if s < 0 || s >= 1<<31 {
			t.Fatalf("Seed = %d, want 0 <= seed < 2^31", s)
		}
		seen[s] = true
	}
	if len(seen) < 999 {
		t.Errorf("1000 trials got %d distinct seeds", len(seen))
	}
	if Seed(42, "c", 1) == Seed(43, "c", 1) {
		t.Error("the study seed does not change run seeds")
	}
}

func TestFolderNames(t *testing.T) {
	st := mustParse(t, "name = \"f\"\n[params.opt]\nvalues = [\"adam\", \"sgd/momentum\", \"a b\"]\n[params.long]\nvalues = [\""+strings.Repeat("x", 120)+"\"]\n")
	cells, err := st.Cells()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cells {
		if len(c.Folder) > folderMax || strings.ContainsAny(c.Folder, "/ ") {
			t.Errorf("folder %q: want at most %d safe characters", c.Folder, folderMax)
		}
		if seen[c.Folder] {
			t.Errorf("folder %q used twice", c.Folder)
		}
		seen[c.Folder] = true
	}
}

func TestProblemsReportedTogether(t *testing.T) {
	_, err := Parse("bad.toml", "name = \"b\"\ntrials = 0\n[params.x]\nvalues = []\n[params.y]\nvalues = [1, 1]\n", t.TempDir(), Overrides{})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Parse = %v, want *InvalidError", err)
	}
	want := []string{"bad.toml:2: trials", "bad.toml:4: params.x.values", "bad.toml:6: params.y.values"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	st := mustParse(t, `name = "e"
trials = 2
seed = 9
constraints = ["a < 3"]
zip = [["a", "b"]]
[run]
command = "run {{.Seed}}"
timeout = "1h"
[params.a]
range = {start = 1, stop = 4, num = 4}
[params.b]
values = ["w", "x", "y", "z"]
[fixed]
model = {N = 64}
[models.pinn]
overrides = {probe = {trainable = true}}
[models.pinn.params.w]
values = [0.5]
[models.base]
[slurm]
gpus = 2
`)
	var b strings.Builder
	if err := st.Encode(&b, "test"); err != nil {
		t.Fatal(err)
	}
	again, err := Parse("study.toml", b.String(), t.TempDir(), Overrides{})
	if err != nil {
		t.Fatalf("resolved study does not load: %v\n%s", err, b.String())
	}
	c1, _ := st.Cells()
	c2, _ := again.Cells()
	if len(c1) != len(c2) {
		t.Fatalf("resolved study has %d cells, want %d", len(c2), len(c1))
	}
	for i := range c1 {
		if c1[i].ID != c2[i].ID || c1[i].Folder != c2[i].Folder {
			t.Errorf("cell %d: %s %s, want %s %s", i, c2[i].ID, c2[i].Folder, c1[i].ID, c1[i].Folder)
		}
	}
	if again.Fixed[0].Name != "model.N" || again.Models[0].Overrides[0].Name != "probe.trainable" || again.Slurm.GPUs != 2 {
		t.Errorf("resolved study lost settings: %+v %+v", again.Fixed, again.Models[0].Overrides)
	}
}
