package command

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestShellQuotingRunsNothing(t *testing.T) {
	dir := t.TempDir()
	evil := []string{"a; touch X", "$(touch X)", "`touch X`", `it's "q"`, "x\ntouch X", "*", "~", "a|touch X"}
	tmpl, err := ParseShell(`printf '%s\n' {{ index .Params "v" }} {{if .Model}}--model {{.Model}}{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range evil {
		argv, err := tmpl.Render(Data{Params: map[string]any{"v": v}, Model: v})
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("run %q: %v", argv, err)
		}
		want := v + "\n--model\n" + v + "\n"
		if string(out) != want {
			t.Errorf("output for %q = %q, want %q", v, out, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "X")); err == nil {
			t.Fatalf("value %q ran as shell code", v)
		}
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		src  string
		args []string
		want []string
	}{
		{"shell", "train --seed {{.Seed}} --out {{.RunDir}}", nil, []string{"bash", "-c", "train --seed 7 --out '/r d'"}},
		{"sprig", "x {{ .Trial | add 1 }}", nil, []string{"bash", "-c", "x 3"}},
		{"args", "", []string{"train", "--dir={{.RunDir}}", "{{.Model}}"}, []string{"train", "--dir=/r d", "pinn"}},
	}
	d := Data{Seed: 7, RunDir: "/r d", Trial: 2, Model: "pinn"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tmpl *Template
			var err error
			if tt.args != nil {
				tmpl, err = ParseArgs(tt.args)
			} else {
				tmpl, err = ParseShell(tt.src)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Render = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Render = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	for _, src := range []string{"{{ .Nope }}", "{{ index .Params \"missing\" }}"} {
		tmpl, err := ParseShell(src)
		if err != nil {
			t.Fatalf("ParseShell(%q): %v", src, err)
		}
		if _, err := tmpl.Render(Data{Params: map[string]any{}}); err == nil {
			t.Errorf("Render(%q) = nil error, want one", src)
		}
	}
	if _, err := ParseShell("{{ .Seed "); err == nil {
		t.Error("ParseShell of an unclosed action = nil error, want one")
	}
}
