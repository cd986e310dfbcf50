package study

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"name = \"s\"\n[params.x]\nvalues = [1, 2]\n",
		"name = \"s\"\nconstraints = [\"x > 1\"]\nzip = [[\"x\", \"y\"]]\n[params.x]\nrange = {start = 1, stop = 8, scale = \"log2\"}\n[params.y]\nvalues = [\"a\", \"b\", \"c\", \"d\"]\n",
		"name = \"s\"\n[run]\ncommand = \"t {{.Seed}} {{index .Params \\\"x\\\"}}\"\n[params.x]\nvalues = [true]\n[models.a.params.z]\nrange = {start = 0, stop = 1, step = 0.5}\n",
		"[slurm]\ntime = \"1-00:00:00\"\nmem = \"4G\"\n",
		// Refusals: non-finite values, 0.0 beside -0.0, one environment
		// variable for two names, a key both a value and a table.
		"name = \"s\"\n[params.x]\nvalues = [nan, inf, -inf]\n[fixed]\ny = [1.0, -inf]\n",
		"name = \"s\"\n[params.x]\nvalues = [0.0, -0.0]\n[params.y]\nrange = {start = -1e308, stop = 1e308, num = 3}\n",
		"name = \"s\"\n[params.a_b]\nvalues = [1]\n[params.\"a.b\"]\nvalues = [2]\n[models.m.params.A-B]\nvalues = [3]\n",
		"name = \"s\"\n[params.a]\nvalues = [1]\n[fixed]\na = {b = 2}\n[models.m]\noverrides = {\"a.c\" = 3}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := Parse("fuzz.toml", src, t.TempDir(), Overrides{})
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Parse error %T %v, want *InvalidError", err, err)
			}
			return
		}
		cells, err := st.Cells()
		if err != nil || len(cells) > 1<<20 {
			return
		}
		if _, err := st.Runs(cells); err != nil {
			t.Fatalf("Runs: %v", err)
		}
	})
}

func FuzzParseParamFlag(f *testing.F) {
	for _, s := range []string{"nphotons=1e6,1e7", "x=a", "=1", "a=1,,2", "lr=1e-4, 1e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, vals, err := ParseParamFlag(s)
		if err != nil {
			return
		}
		if name == "" || len(vals) == 0 {
			t.Fatalf("ParseParamFlag(%q) = %q, %v with no error", s, name, vals)
		}
	})
}
