// Package runconfig reads a study's base config (YAML, TOML or JSON) and
// writes each run's own config: the base with the run's values set at their
// dotted paths.
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
	"go.yaml.in/yaml/v3"
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

// Read decodes a config file into nested maps.
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
		err = yaml.Unmarshal(b, &m)
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

// Encode renders cfg in the given format.
func Encode(cfg map[string]any, format Format) ([]byte, error) {
	switch format {
	case YAML:
		return yaml.Marshal(cfg)
	case TOML:
		var b bytes.Buffer
		err := toml.NewEncoder(&b).Encode(cfg)
		return b.Bytes(), err
	case JSON:
		b, err := json.MarshalIndent(cfg, "", "  ")
		return append(b, '\n'), err
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
