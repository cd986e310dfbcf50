package runconfig

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pyLoad reads a config file as Python programs do (PyYAML's safe_load,
// tomllib, json) and prints, for each leaf at its dotted path, the Python
// type name and repr of its value.
const pyLoad = `
import json, sys
path, fmt = sys.argv[1], sys.argv[2]
if fmt == "yaml":
    import yaml
    d = yaml.safe_load(open(path))
elif fmt == "toml":
    import tomllib
    d = tomllib.load(open(path, "rb"))
else:
    d = json.load(open(path))
out = {}
def walk(p, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(p + [str(k)], x)
    else:
        out[".".join(p)] = [type(v).__name__, repr(v)]
walk([], d)
print(json.dumps(out))
`

// pyValue is a value as Python sees it: its type name and repr.
type pyValue [2]string

// python returns a reader of config files through Python, or skips the
// test when python3 or a module it needs is missing.
func python(t *testing.T, modules ...string) func(path string, f Format) map[string]pyValue {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the round trip through Python's readers is not checked (CI installs python3-yaml)")
	}
	for _, m := range modules {
		if out, err := exec.Command(py, "-c", "import "+m).CombinedOutput(); err != nil {
			t.Skipf("python3 cannot import %s (%s): install python3-yaml (Debian) or use Python 3.11+ for tomllib", m, out)
		}
	}
	return func(path string, f Format) map[string]pyValue {
		t.Helper()
		out, err := exec.Command(py, "-c", pyLoad, path, string(f)).CombinedOutput()
		if err != nil {
			t.Fatalf("python3 cannot read %s: %v\n%s", path, err, out)
		}
		var m map[string]pyValue
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("python3 output %q: %v", out, err)
		}
		return m
	}
}

// The base configs of the round trip: a float that is a whole number,
// strings that look like numbers and bools, a bool, a list, and in YAML
// plain scalars that PyYAML types differently from YAML 1.2 readers.
var pyBases = map[Format]string{
	YAML: `model:
  w: 1.0
  n: 32
  name: "1e6"
  truthy: "true"
  flag: true
  amp: off
  lr: 1e-3
  big: 1.0e+10
  nothing: null
  list: [1.0, 2, "x"]
`,
	TOML: `[model]
w = 1.0
n = 32
name = "1e6"
truthy = "true"
flag = true
big = 1e10
list = [1.0, 2.5]
`,
	JSON: `{"model": {"w": 1.0, "n": 32, "name": "1e6", "truthy": "true", "flag": true,
 "big": 1e10, "nothing": null, "list": [1.0, 2, "x"]}}
`,
}

// TestPythonReadsTypes writes a run config in each format from a base
// config and a run's values, reads it back with Python, and checks every
// value's Python type and value; the base config's keys must read exactly
// as they do in the base config itself.
func TestPythonReadsTypes(t *testing.T) {
	run := map[string]any{
		"model.dose": 1e6, "model.one": 1.0, "model.half": 0.5, "model.tiny": -1.5e-7, "model.N": int64(64),
		"model.label": "pinn", "model.numstr": "1e6", "model.boolstr": "yes", "model.on": true,
		"model.nan": math.NaN(), "model.inf": math.Inf(1), "model.ninf": math.Inf(-1), "top": 3.0,
	}
	want := map[string]pyValue{
		"model.dose": {"float", "1000000.0"}, "model.one": {"float", "1.0"}, "model.half": {"float", "0.5"},
		"model.tiny": {"float", "-1.5e-07"}, "model.N": {"int", "64"}, "model.label": {"str", "'pinn'"},
		"model.numstr": {"str", "'1e6'"}, "model.boolstr": {"str", "'yes'"}, "model.on": {"bool", "True"},
		"model.nan": {"float", "nan"}, "model.inf": {"float", "inf"}, "model.ninf": {"float", "-inf"}, "top": {"float", "3.0"},
		// From the base configs.
		"model.w": {"float", "1.0"}, "model.n": {"int", "32"}, "model.name": {"str", "'1e6'"},
		"model.truthy": {"str", "'true'"}, "model.flag": {"bool", "True"}, "model.big": {"float", "10000000000.0"},
	}
	for _, f := range []Format{YAML, TOML, JSON} {
		t.Run(string(f), func(t *testing.T) {
			var load func(string, Format) map[string]pyValue
			switch f {
			case YAML:
				load = python(t, "yaml")
			case TOML:
				load = python(t, "tomllib")
			default:
				load = python(t)
			}
			dir := t.TempDir()
			base := filepath.Join(dir, "base."+string(f))
			if err := os.WriteFile(base, []byte(pyBases[f]), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Read(base)
			if err != nil {
				t.Fatal(err)
			}
			expect := maps.Clone(want)
			for k, v := range run {
				if x, ok := v.(float64); ok && f == JSON && (math.IsNaN(x) || math.IsInf(x, 0)) {
					// JSON cannot spell them, and they cannot get here:
					// plan refuses them, and a JSON base cannot hold them.
					delete(expect, k)
					continue
				}
				if err := Set(cfg, k, v); err != nil {
					t.Fatal(err)
				}
			}
			b, err := Encode(cfg, f)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "config."+string(f))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			got := load(path, f)
			for k, w := range expect {
				if got[k] != w {
					t.Errorf("%s reads as %s %s, want %s %s", k, got[k][0], got[k][1], w[0], w[1])
				}
			}
			for k, w := range load(base, f) {
				if got[k] != w {
					t.Errorf("%s reads as %s %s in the run config, %s %s in the base config", k, got[k][0], got[k][1], w[0], w[1])
				}
			}
			if t.Failed() {
				t.Logf("written %s:\n%s", f, b)
			}
		})
	}
}

// TestPythonReadsYAMLStrings checks with PyYAML itself that every string
// comes back as the same string, whether the writer quoted it or left it
// plain.
func TestPythonReadsYAMLStrings(t *testing.T) {
	python(t, "yaml")
	strs := []string{"1e6", "1e+06", "1.0", "12", "0o17", "017", "09", "0x1F", "1_000", "1:30", "-.5", ".inf", ".nan",
		"true", "False", "yes", "No", "on", "OFF", "y", "N", "null", "~", "", "2024-01-31", "2001-12-14 21:59:43.10 -5",
		"<<", "=", "pinn", "a b", "nan", "inf", "v1.2.3", "- x", "a: b", "#x", "x\ny", "'q'", `"q"`, "é"}
	cfg := map[string]any{}
	for i, s := range strs {
		cfg[fmt.Sprintf("k%02d", i)] = s
	}
	b, err := Encode(cfg, YAML)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-c", "import yaml,sys,json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path).CombinedOutput()
	if err != nil {
		t.Fatalf("PyYAML cannot read the config: %v\n%s\n%s", err, out, b)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python3 output %q: %v", out, err)
	}
	for i, s := range strs {
		if k := fmt.Sprintf("k%02d", i); got[k] != s {
			t.Errorf("string %q reads back as %#v (%T)", s, got[k], got[k])
		}
	}
}
