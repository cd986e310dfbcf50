// Package runconfig reads a study's base config (YAML, TOML or JSON) and
// writes each run's own config: the base with the run's values set at their
// dotted paths.
//
// Every value keeps its type for the program that reads the run's config,
// which is mostly Python: a float is written as a float (1.0, 1.0e+06, never
// 1 or PyYAML's string 1e+06), an integer as an integer, a string that looks
// like a number or a bool is quoted, and a base config's values read back as
// they read in the base config.
package runconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Format is a config file format, named by its usual extension.
type Format string

// The formats a base config may have.
const (
	YAML Format = "yaml"
	TOML Format = "toml"
	JSON Format = "json"
)

// FormatOf returns the format of a file from its extension.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return YAML, nil
	case ".toml":
		return TOML, nil
	case ".json":
		return JSON, nil
	}
	return "", fmt.Errorf("config %s: unknown format: use .yaml, .yml, .toml or .json", path)
}

// Read decodes a config file into nested maps. YAML scalars whose type
// differs between YAML readers come back as Literal, JSON numbers as
// json.Number: both are written back as the file spells them.
func Read(path string) (map[string]any, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	m := map[string]any{}
	switch format {
	case YAML:
		m, err = readYAML(b)
	case TOML:
		_, err = toml.Decode(string(b), &m)
	case JSON:
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		err = dec.Decode(&m)
	}
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// Set sets value at a dotted path ("model.nll_weight"), creating tables on
// the way. A key that exists with the dotted name itself ("model.N" as one
// key) is set in place rather than split.
func Set(cfg map[string]any, path string, value any) error {
	if _, ok := cfg[path]; ok {
		cfg[path] = value
		return nil
	}
	parts := strings.Split(path, ".")
	cur := cfg
	for i, p := range parts[:len(parts)-1] {
		next, ok := cur[p]
		if !ok {
			m := map[string]any{}
			cur[p] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("set %s: %s is a %T, not a table", path, strings.Join(parts[:i+1], "."), next)
		}
		cur = m
	}
	cur[parts[len(parts)-1]] = value
	return nil
}

// Keys lists the dotted paths of every leaf of cfg, sorted.
func Keys(cfg map[string]any) []string {
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out = append(out, prefix+k)
		}
	}
	walk("", cfg)
	sort.Strings(out)
	return out
}

// Encode renders cfg in the given format, keys sorted. Floats always read
// back as floats and integers as integers: YAML writes NaN and the
// infinities as .nan, .inf and -.inf, TOML as nan, inf and -inf, JSON as
// NaN, Infinity and -Infinity (what Python's json reads; JSON has no
// spelling of its own).
func Encode(cfg map[string]any, format Format) ([]byte, error) {
	switch format {
	case YAML:
		return encodeYAML(cfg)
	case TOML:
		// The encoder writes floats with a fraction or exponent, and NaN
		// and the infinities as TOML spells them.
		var b bytes.Buffer
		err := toml.NewEncoder(&b).Encode(cfg)
		return b.Bytes(), err
	case JSON:
		return encodeJSON(cfg)
	}
	return nil, fmt.Errorf("unknown config format %q", format)
}

// Get returns the value at a dotted path.
func Get(cfg map[string]any, path string) (any, bool) {
	if v, ok := cfg[path]; ok {
		return v, true
	}
	cur := cfg
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m, ok := cur[p].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = m
	}
	v, ok := cur[parts[len(parts)-1]]
	return v, ok
}
