package runconfig

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Literal is a plain scalar of a YAML base config that YAML 1.1 readers
// (PyYAML, which most training code loads its config with) and YAML 1.2
// readers (go-yaml, ruamel.yaml, OmegaConf's float rule) type differently:
// 1e-3 is a string to PyYAML and a float to the others, yes and off are
// bools to PyYAML and strings to the others; 0o17 and 2024-01-31 differ
// too. Read keeps such a scalar as written and Encode writes it back as
// written, so that every reader finds in a run's config the value it
// found in the base config. A run's own values replace it like any other.
type Literal string

// pyyamlType is one implicit type of plain scalars to PyYAML.
type pyyamlType struct {
	tag string
	re  *regexp.Regexp
}

// pyyamlTypes are the implicit types of plain scalars to PyYAML (its
// resolver.py, YAML 1.1); anything else is a string. They are compiled on
// first use: every gridstudy process links this package, few read YAML.
var pyyamlTypes = sync.OnceValue(func() []pyyamlType {
	return []pyyamlType{
		{"!!bool", regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)},
		{"!!float", regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)},
		{"!!int", regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)},
		{"!!merge", regexp.MustCompile(`^<<$`)},
		{"!!null", regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)},
		{"!!timestamp", regexp.MustCompile(`^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$`)},
		// PyYAML's safe loader has no constructor for this one: a plain = in
		// a config fails to load at all.
		{"!!value", regexp.MustCompile(`^=$`)},
	}
})

// pyyamlTag returns the tag PyYAML gives a plain scalar.
func pyyamlTag(s string) string {
	for _, t := range pyyamlTypes() {
		if t.re.MatchString(s) {
			return t.tag
		}
	}
	return "!!str"
}

// goyamlTag returns the tag go-yaml (YAML 1.2 core schema) gives a plain
// scalar.
func goyamlTag(s string) string {
	return (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag()
}

// yaml11Bool reports the bools of the YAML 1.1 spec that PyYAML leaves
// out; older readers (go-yaml v2, SnakeYAML) still take y and n for bools.
func yaml11Bool(s string) bool {
	switch s {
	case "y", "Y", "n", "N":
		return true
	}
	return false
}

// needsQuotes reports whether a string written plain would be read as
// something else than a string by some YAML reader.
func needsQuotes(s string) bool {
	return pyyamlTag(s) != "!!str" || goyamlTag(s) != "!!str" || yaml11Bool(s)
}

// readYAML decodes a YAML document into nested maps, keeping as a Literal
// every plain scalar whose type depends on the reader.
func readYAML(b []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 { // empty, or comments only
		return map[string]any{}, nil
	}
	r := yamlReader{open: map[*yaml.Node]bool{}}
	v, err := r.value(&doc)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	}
	return nil, errors.New("the document is not a mapping of keys to values")
}

// yamlReader walks a YAML node tree; open holds the anchored nodes being
// expanded, to refuse an alias inside its own anchor instead of looping.
type yamlReader struct {
	open map[*yaml.Node]bool
}

func (r yamlReader) value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return r.value(n.Content[0])
	case yaml.AliasNode:
		if r.open[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s is inside its own anchor", n.Line, n.Value)
		}
		r.open[n.Alias] = true
		defer delete(r.open, n.Alias)
		return r.value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := r.value(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		return r.mapping(n)
	case yaml.ScalarNode:
		// Style 0 is a plain scalar without a tag: its reader decides its
		// type. Quoted, block and tagged scalars mean the same to all.
		if n.Style == 0 {
			py, gy := pyyamlTag(n.Value), goyamlTag(n.Value)
			if py != gy || !slices.Contains([]string{"!!str", "!!int", "!!float", "!!bool", "!!null"}, py) {
				return Literal(n.Value), nil
			}
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// mapping decodes a mapping with its merge keys (<<: *defaults): the
// mapping's own keys win over merged ones, and an earlier merged mapping
// over a later one, as the YAML merge key type says.
func (r yamlReader) mapping(n *yaml.Node) (map[string]any, error) {
	m := map[string]any{}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a key must be a scalar", k.Line)
		}
		if k.ShortTag() == "!!merge" {
			src := v
			if src.Kind == yaml.AliasNode && src.Alias.Kind == yaml.SequenceNode {
				src = src.Alias
			}
			if src.Kind == yaml.SequenceNode {
				merged = append(merged, src.Content...)
			} else {
				merged = append(merged, v)
			}
			continue
		}
		if _, dup := m[k.Value]; dup {
			return nil, fmt.Errorf("line %d: key %q appears twice", k.Line, k.Value)
		}
		val, err := r.value(v)
		if err != nil {
			return nil, err
		}
		m[k.Value] = val
	}
	for _, src := range merged {
		v, err := r.value(src)
		if err != nil {
			return nil, err
		}
		sm, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("line %d: << merges a %T, want a mapping", src.Line, v)
		}
		for k, x := range sm {
			if _, own := m[k]; !own {
				m[k] = x
			}
		}
	}
	return m, nil
}

// encodeYAML writes cfg with keys sorted, floats that every reader reads
// as floats, and strings quoted wherever a reader would take them for
// another type.
func encodeYAML(cfg map[string]any) ([]byte, error) {
	n, err := yamlNode(cfg)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(n)
}

func yamlNode(v any) (*yaml.Node, error) {
	if l, ok := v.(Literal); ok {
		// No tag: written plain, as it was in the base config.
		return &yaml.Node{Kind: yaml.ScalarNode, Value: string(l)}, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: yamlSpelling.float(rv.Float(), rv.Type().Bits())}, nil
	case reflect.String:
		return yamlString(rv.String()), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			val, err := yamlNode(rv.MapIndex(k).Interface())
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, yamlString(k.String()), val)
		}
		return n, nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			break
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range rv.Len() {
			val, err := yamlNode(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	}
	// Integers, bools, null and times: go-yaml spells them as every
	// reader reads them.
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}

func yamlString(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if needsQuotes(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}
