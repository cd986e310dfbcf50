package runconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSetAndKeys(t *testing.T) {
	cfg := map[string]any{"model": map[string]any{"N": 32}, "a.b": 1}
	for _, s := range []struct {
		path string
		v    any
	}{{"model.N", 64}, {"model.nll_weight", 0.5}, {"training.nepochs", 10}, {"a.b", 2}} {
		if err := Set(cfg, s.path, s.v); err != nil {
			t.Fatalf("Set(%q): %v", s.path, err)
		}
	}
	want := []string{"a.b", "model.N", "model.nll_weight", "training.nepochs"}
	if got := Keys(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
	if v, _ := Get(cfg, "model.N"); v != 64 {
		t.Errorf("Get(model.N) = %v, want 64", v)
	}
	if err := Set(cfg, "model.N.x", 1); err == nil {
		t.Error("Set through a number: no error, want one")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []Format{YAML, TOML, JSON} {
		t.Run(string(f), func(t *testing.T) {
			cfg := map[string]any{"model": map[string]any{"N": 64, "name": "pinn"}, "lr": 0.001, "flag": true}
			b, err := Encode(cfg, f)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "c."+string(f))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			back, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := Keys(back); !reflect.DeepEqual(got, []string{"flag", "lr", "model.N", "model.name"}) {
				t.Errorf("keys after a %s round trip = %v", f, got)
			}
			if v, _ := Get(back, "model.name"); v != "pinn" {
				t.Errorf("model.name = %v, want pinn", v)
			}
		})
	}
	if _, err := Read("x.ini"); err == nil {
		t.Error("Read of an .ini file: no error, want one")
	}
}
