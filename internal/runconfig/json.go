package runconfig

import (
	"encoding/json"
	"math"
)

// encodeJSON writes cfg with encoding/json's MarshalIndent (keys sorted,
// two spaces), its floats first turned into numbers spelt by formatFloat:
// MarshalIndent alone writes a float 1.0 as 1, which Python reads as an
// integer. Numbers of a JSON base config, read as json.Number, are written
// as the file spelt them. NaN and the infinities are refused, as JSON has
// no spelling for them (plan refuses them in a study's values).
func encodeJSON(cfg map[string]any) ([]byte, error) {
	b, err := json.MarshalIndent(floatsAsNumbers(cfg), "", "  ")
	return append(b, '\n'), err
}

// floatsAsNumbers returns v with every finite float, at any depth of maps
// and lists, replaced by a json.Number; v itself is not changed.
func floatsAsNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return json.Number(formatFloat(x, 64))
		}
	case float32:
		if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return json.Number(formatFloat(f, 32))
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = floatsAsNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = floatsAsNumbers(e)
		}
		return out
	}
	return v
}
