package runconfig

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestFloatSpelling pins the rule for floats without any Python: a fraction
// always, a signed exponent, and text that PyYAML's float pattern, go-yaml
// and encoding/json all read back as the same float.
func TestFloatSpelling(t *testing.T) {
	for _, c := range []struct {
		f          float64
		yaml, json string
	}{
		{1e6, "1.0e+06", "1.0e+06"},
		{1, "1.0", "1.0"},
		{0.5, "0.5", "0.5"},
		{-1.5e-7, "-1.5e-07", "-1.5e-07"},
		{123456, "123456.0", "123456.0"},
		{1234567, "1.234567e+06", "1.234567e+06"},
		{0.0001, "0.0001", "0.0001"},
		{1e-5, "1.0e-05", "1.0e-05"},
		{0, "0.0", "0.0"},
		{math.Copysign(0, -1), "-0.0", "-0.0"},
		{1e21, "1.0e+21", "1.0e+21"},
		{math.MaxFloat64, "1.7976931348623157e+308", "1.7976931348623157e+308"},
		{5e-324, "5.0e-324", "5.0e-324"},
		{math.NaN(), ".nan", "NaN"},
		{math.Inf(1), ".inf", "Infinity"},
		{math.Inf(-1), "-.inf", "-Infinity"},
	} {
		if got := yamlSpelling.float(c.f, 64); got != c.yaml {
			t.Errorf("yamlSpelling.float(%v) = %s, want %s", c.f, got, c.yaml)
		}
		if got := formatFloat(c.f, 64); !math.IsNaN(c.f) && !math.IsInf(c.f, 0) && got != c.json {
			t.Errorf("formatFloat(%v) = %s, want %s", c.f, got, c.json)
		}
		if tag := pyyamlTag(c.yaml); tag != "!!float" {
			t.Errorf("PyYAML's resolver reads %s as %s, want !!float", c.yaml, tag)
		}
		var back float64
		if err := yaml.Unmarshal([]byte(c.yaml), &back); err != nil || !sameFloat(back, c.f) {
			t.Errorf("go-yaml reads %s as %v, %v; want %v", c.yaml, back, err, c.f)
		}
		if !math.IsNaN(c.f) && !math.IsInf(c.f, 0) {
			var n any
			if err := json.Unmarshal([]byte(c.json), &n); err != nil || !sameFloat(n.(float64), c.f) {
				t.Errorf("encoding/json reads %s as %v, %v; want %v", c.json, n, err, c.f)
			}
		}
	}
}

func sameFloat(a, b float64) bool {
	return a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b)
}

// TestYAMLQuoting checks that strings some YAML reader would take for
// another type are quoted, and that the rest stay plain.
func TestYAMLQuoting(t *testing.T) {
	quoted := []string{"1e6", "1e+06", "1.0", "12", "0o17", "017", "0x1F", "1_000", "1:30", "-.5", ".inf", ".nan",
		"true", "False", "yes", "No", "on", "OFF", "y", "N", "null", "~", "", "2024-01-31", "2001-12-14 21:59:43.10 -5", "=", "<<"}
	for _, s := range quoted {
		b, err := Encode(map[string]any{"k": s}, YAML)
		if err != nil {
			t.Fatal(err)
		}
		if want := "k: \"" + s + "\"\n"; string(b) != want {
			t.Errorf("string %q is written %q, want %q", s, b, want)
		}
	}
	for _, s := range []string{"pinn", "a b", "1e6x", "v1.2.3", "nan", "inf", "N64"} {
		if b, _ := Encode(map[string]any{"k": s}, YAML); string(b) != "k: "+s+"\n" {
			t.Errorf("string %q is written %q, want it plain", s, b)
		}
	}
}

// TestReadKeepsTypes reads a YAML base config whose plain scalars mean
// different types to different readers and checks what comes back and
// what is written again.
func TestReadKeepsTypes(t *testing.T) {
	src := `defaults: &d
  lr: 1e-3
  amp: yes
  w: 1.0
model:
  <<: *d
  w: 2.0
  n: 64
  name: "1e6"
  flag: true
  date: 2024-01-31
  none: ~
  list: [1.0, 2, "3", on]
`
	cfg, err := readYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"model.lr": Literal("1e-3"), "model.amp": Literal("yes"), "model.w": 2.0, "model.n": 64,
		"model.name": "1e6", "model.flag": true, "model.date": Literal("2024-01-31"), "model.none": nil,
	} {
		if got, ok := Get(cfg, path); !ok || got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	b, err := Encode(cfg, YAML)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lr: 1e-3\n", "amp: yes\n", "w: 2.0\n", `"n": 64`, `name: "1e6"`, "flag: true\n",
		"date: 2024-01-31\n", "none: null\n", "- 1.0\n", "- 2\n", `- "3"`, "- on\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("written config lacks %q:\n%s", want, b)
		}
	}
	for _, bad := range []string{"a: &x [*x]\n", "a: 1\na: 2\n", "- 1\n", "{[1]: 2}\n", "a: {<<: 3}\n"} {
		if _, err := readYAML([]byte(bad)); err == nil {
			t.Errorf("readYAML(%q): no error, want one", bad)
		}
	}
}

// TestJSONKeepsTypes checks the JSON writer against encoding/json's layout
// and its floats.
func TestJSONKeepsTypes(t *testing.T) {
	cfg := map[string]any{"a": 1.0, "b": int64(2), "c": json.Number("3.50"), "d": []any{}, "e": map[string]any{},
		"f": map[string]any{"g": []any{0.5, "x<y", nil, true}}}
	b, err := Encode(cfg, JSON)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "a": 1.0,
  "b": 2,
  "c": 3.50,
  "d": [],
  "e": {},
  "f": {
    "g": [
      0.5,
      "x\u003cy",
      null,
      true
    ]
  }
}
`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
	if _, err := Encode(map[string]any{"h": math.Inf(-1)}, JSON); err == nil {
		t.Error("Encode of an infinity as JSON: no error, want one (JSON cannot spell it)")
	}
}
