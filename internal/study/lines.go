package study

import (
	"strings"
)

// keyLines maps dotted key paths of a TOML document to the line that defines
// them, so that validation errors can point at a line. BurntSushi/toml keeps
// key positions private; a light scan of table headers and "key =" lines is
// enough for error messages, which fall back to no line when unsure.
type keyLines map[string]int

func scanKeyLines(src string) keyLines {
	kl := keyLines{}
	table := ""
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			inner := strings.TrimPrefix(strings.TrimPrefix(line, "["), "[")
			end := strings.Index(inner, "]")
			if end < 0 {
				continue
			}
			table = joinKey(splitKey(inner[:end])...)
			if _, ok := kl[table]; !ok {
				kl[table] = i + 1
			}
			continue
		}
		eq := strings.Index(line, "=")
		if eq <= 0 {
			continue
		}
		key := joinKey(splitKey(line[:eq])...)
		full := key
		if table != "" {
			full = table + "." + key
		}
		if _, ok := kl[full]; !ok {
			kl[full] = i + 1
		}
		// Inline tables: range = {start = 1, stop = 2} defines range.start too.
		rest := strings.TrimSpace(line[eq+1:])
		if strings.HasPrefix(rest, "{") {
			for _, part := range strings.Split(strings.Trim(rest, "{} "), ",") {
				if k, _, ok := strings.Cut(part, "="); ok {
					sub := full + "." + joinKey(splitKey(k)...)
					if _, ok := kl[sub]; !ok {
						kl[sub] = i + 1
					}
				}
			}
		}
	}
	return kl
}

// line returns the line of the longest known prefix of key, or 0.
func (kl keyLines) line(key string) int {
	for key != "" {
		if n, ok := kl[key]; ok {
			return n
		}
		i := strings.LastIndex(key, ".")
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}

// splitKey splits a TOML key such as `params."model.N".values` into its
// parts, honouring quotes.
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// joinKey joins key parts, quoting parts that contain dots so that a
// parameter named "model.N" stays one key.
func joinKey(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if strings.ContainsAny(p, ". ") || p == "" {
			b.WriteString(`"` + p + `"`)
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}
