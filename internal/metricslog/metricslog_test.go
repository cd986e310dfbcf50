package metricslog

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in      string
		hasStep bool
		step    int64
		want    map[string]any
	}{
		{`{"ms_ssim": 0.91, "psnr": 31.2}`, false, 0, map[string]any{"ms_ssim": 0.91, "psnr": 31.2}},
		{`{"step": 10, "loss": 0.12}`, true, 10, map[string]any{"loss": 0.12}},
		{`{"step": 2.0, "loss": 0}`, true, 2, map[string]any{"loss": 0.0}},
		{`  {"ok": true, "tag": "a\"b\u00e9", "zero": 0, "f": false}  `, false, 0, map[string]any{"ok": true, "tag": "a\"b\u00e9", "zero": 0.0, "f": false}},
		{`{"n": null, "x": -1.5e-3}`, false, 0, map[string]any{"x": -1.5e-3}},
		{`{"x": 1, "x": 2}`, false, 0, map[string]any{"x": 2.0}},
		{`{}`, false, 0, map[string]any{}},
		{`{"big": 1e999}`, false, 0, map[string]any{"big": math.Inf(1)}},
	}
	for _, tt := range tests {
		l, err := ParseLine([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseLine(%q) = %v", tt.in, err)
			continue
		}
		if l.HasStep != tt.hasStep || l.Step != tt.step || !reflect.DeepEqual(l.Values, tt.want) {
			t.Errorf("ParseLine(%q) = %v %d %v, want %v %d %v", tt.in, l.HasStep, l.Step, l.Values, tt.hasStep, tt.step, tt.want)
		}
	}
}

func TestParseLineNonFinite(t *testing.T) {
	l, err := ParseLine([]byte(`{"a": NaN, "b": Infinity, "c": -Infinity, "step": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := l.Values["a"].(float64), l.Values["b"].(float64), l.Values["c"].(float64)
	if !math.IsNaN(a) || !math.IsInf(b, 1) || !math.IsInf(c, -1) || l.Step != 3 {
		t.Errorf("got %v %v %v step %d, want NaN +Inf -Inf step 3", a, b, c, l.Step)
	}
}

func TestParseLineErrors(t *testing.T) {
	for _, in := range []string{
		``, `not json`, `{"a": 1`, `{"a" 1}`, `{"a": [1]}`, `{"a": {"b": 1}}`, `{"a": 01}`, `{"a": 1.}`,
		`{"a": .5}`, `{"a": 1e}`, `{"a": 0x10}`, `{"a": nan}`, `{"a": inf}`, `{"a": 1} x`, `[1]`,
		`{"step": 1.5}`, `{"step": "3"}`, `{"step": true}`, `{"a": "\x"}`, `{"a": "open}`, `{a: 1}`, `{"a": tru}`,
		`{"a": 1,}`, `{"step": 1e300}`,
	} {
		if l, err := ParseLine([]byte(in)); err == nil {
			t.Errorf("ParseLine(%q) = %v, want an error", in, l)
		}
	}
}

func TestRead(t *testing.T) {
	in := strings.Join([]string{
		`{"psnr": 30}`,
		``,
		`{"step": 1, "loss": 0.5, "acc": 0, "diverged": false, "phase": "warmup"}`,
		`{"step": 2, "loss": NaN}`,
		`oops {`,
		`{"psnr": 31.5, "converged": true}`,
		`{"unterminated": `, // a command killed mid-write
	}, "\n")
	r, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"psnr": 31.5, "converged": true}; !reflect.DeepEqual(r.Final, want) {
		t.Errorf("Final = %v, want %v", r.Final, want)
	}
	wantHist := []Point{{1, "acc", 0}, {1, "diverged", 0}, {1, "loss", 0.5}, {2, "loss", math.NaN()}}
	if len(r.History) != len(wantHist) {
		t.Fatalf("History = %v, want %v", r.History, wantHist)
	}
	for i, p := range r.History {
		w := wantHist[i]
		if p.Step != w.Step || p.Name != w.Name || !(p.Value == w.Value || math.IsNaN(p.Value) && math.IsNaN(w.Value)) {
			t.Errorf("History[%d] = %v, want %v", i, p, w)
		}
	}
	if r.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1 (the string phase)", r.Dropped)
	}
	if r.BadLines != 2 || !strings.HasPrefix(r.FirstBad, "metrics line 5: ") || !strings.Contains(r.FirstBad, `"oops {"`) {
		t.Errorf("BadLines, FirstBad = %d, %q; want 2 and line 5 quoted", r.BadLines, r.FirstBad)
	}
}

func TestReadLongLine(t *testing.T) {
	in := `{"a": 1}` + "\n" + `{"b": "` + strings.Repeat("x", MaxLine) + `"}` + "\n" + `{"c": 3}`
	r, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"a": 1.0, "c": 3.0}; !reflect.DeepEqual(r.Final, want) || r.BadLines != 1 {
		t.Errorf("Final, BadLines = %v, %d; want %v, 1", r.Final, r.BadLines, want)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"ms_ssim": 0.91, "psnr": 31.2}`, `{"step": 10, "loss": 0.12}`, `{"a": NaN, "b": -Infinity}`,
		`{"s": "x\u0000\"", "t": true, "n": null}`, `{"a": -0.0e+5}`, `{"step": -3}`, `{`, `{"a": [1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLine(b)
		if err != nil {
			return
		}
		for k, v := range l.Values {
			switch v.(type) {
			case float64, bool, string:
			default:
				t.Fatalf("ParseLine(%q): key %q has a %T value", b, k, v)
			}
			if k == "step" {
				t.Fatalf("ParseLine(%q): step among the values", b)
			}
		}
		// Strict JSON that encoding/json reads as a flat object of
		// scalars must give the same values here.
		var std map[string]any
		if json.Unmarshal(b, &std) != nil || std == nil {
			return
		}
		for _, v := range std {
			switch v.(type) {
			case map[string]any, []any:
				return
			}
		}
		got, err := ParseObject(b)
		if err != nil {
			t.Fatalf("ParseObject(%q) = %v; encoding/json reads it", b, err)
		}
		for k, v := range std {
			if v == nil {
				delete(std, k)
			}
		}
		if !reflect.DeepEqual(got, std) {
			t.Fatalf("ParseObject(%q) = %v; encoding/json reads %v", b, got, std)
		}
	})
}
