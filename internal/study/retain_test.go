package study

import (
	"strings"
	"testing"
)

// [run] retain and keep: the accepted values survive the resolved
// study.toml, and each refusal names the file, line and key.
func TestRetainKeys(t *testing.T) {
	const head = "name = \"r\"\n[params.x]\nvalues = [1]\n[run]\nargs = [\"true\"]\n"
	tests := []struct {
		name, run string
		want      string // "" for accepted; else what the error must say
	}{
		{"default", "", ""},
		{"all", `retain = "all"`, ""},
		{"failed with keep", "retain = \"failed\"\nkeep = [\"model/*.h5\", \"**/*.png\", \"log.txt\"]", ""},
		{"none", `retain = "none"`, ""},
		{"unknown value", `retain = "some"`, `r.toml:6: run.retain: "some": want "all", "failed" or "none"`},
		{"keep without retention", `keep = ["a"]`, "r.toml:6: run.keep: keep names files that survive retention"},
		{"absolute keep", "retain = \"none\"\nkeep = [\"/etc/passwd\"]", `r.toml:7: run.keep: "/etc/passwd": patterns are relative`},
		{"keep up", "retain = \"none\"\nkeep = [\"../x\"]", `r.toml:7: run.keep: "../x": a pattern's parts may not be`},
		{"bad glob", "retain = \"none\"\nkeep = [\"a[\"]", `r.toml:7: run.keep: "a[": not a glob pattern`},
		{"after-runs stage", "retain = \"failed\"\n[stages.cmp]\nafter = \"runs\"\nargs = [\"cmp\"]",
			`r.toml:6: run.retain: "failed": stage "cmp" runs after the runs and reads their folders`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse("r.toml", head+tt.run+"\n", t.TempDir(), Overrides{})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Parse = %v, want an error with %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := st.Encode(&b, "test"); err != nil {
				t.Fatal(err)
			}
			again, err := Parse("study.toml", b.String(), t.TempDir(), Overrides{})
			if err != nil {
				t.Fatalf("%v\n%s", err, b.String())
			}
			if again.Run.Retain != st.Run.Retain || strings.Join(again.Run.Keep, ",") != strings.Join(st.Run.Keep, ",") {
				t.Errorf("resolved study has retain %q keep %q, want %q %q", again.Run.Retain, again.Run.Keep, st.Run.Retain, st.Run.Keep)
			}
		})
	}
}

func TestRetainRemovable(t *testing.T) {
	for _, tt := range []struct {
		retain     string
		ok, failed bool
	}{{"", false, false}, {RetainAll, false, false}, {RetainFailed, true, false}, {RetainNone, true, true}} {
		r := Run{Retain: tt.retain}
		if r.Removable(true) != tt.ok || r.Removable(false) != tt.failed {
			t.Errorf("retain %q: Removable(ok) %v, Removable(failed) %v; want %v %v", tt.retain, r.Removable(true), r.Removable(false), tt.ok, tt.failed)
		}
	}
}

func TestKeeps(t *testing.T) {
	r := Run{Keep: []string{"model/*.h5", "**/*.png", "logs/**", "summary.json"}}
	for rel, want := range map[string]bool{
		"model/wts.h5":       true,
		"model/sub/wts.h5":   false, // * stays within one part
		"wts.h5":             false,
		"a.png":              true, // ** matches no part at all
		"deep/down/fig.png":  true,
		"logs/train/1.txt":   true,
		"summary.json":       true,
		"other/summary.json": false,
		"stdout.log":         false,
	} {
		if got := r.Keeps(rel); got != want {
			t.Errorf("Keeps(%q) = %v, want %v", rel, got, want)
		}
	}
}
