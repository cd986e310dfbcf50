package runconfig

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// encodeJSON writes cfg as encoding/json's MarshalIndent would (keys
// sorted, two spaces), except for floats: MarshalIndent writes a float 1.0
// as 1, which Python reads as an integer, and refuses NaN and infinities.
func encodeJSON(cfg map[string]any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, cfg, "\n"); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// writeJSON writes v; nl is a line break followed by the indentation of
// the line v starts on.
func writeJSON(b *bytes.Buffer, v any, nl string) error {
	if n, ok := v.(json.Number); ok {
		// A number of a JSON base config, written as the user wrote it.
		b.WriteString(n.String())
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		b.WriteString(jsonFloat(rv.Float(), rv.Type().Bits()))
		return nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if rv.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + "  ")
			if err := writeJSON(b, k.String(), ""); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := writeJSON(b, rv.MapIndex(k).Interface(), nl+"  "); err != nil {
				return err
			}
		}
		b.WriteString(nl + "}")
		return nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			break
		}
		if rv.Len() == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i := range rv.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + "  ")
			if err := writeJSON(b, rv.Index(i).Interface(), nl+"  "); err != nil {
				return err
			}
		}
		b.WriteString(nl + "]")
		return nil
	}
	// Strings, integers, bools, null and times.
	s, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(s)
	return nil
}
