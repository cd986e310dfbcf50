package study

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a study file.
type Problem struct {
	Key  string // dotted key path, "" for the file as a whole
	Line int    // 0 when unknown
	Msg  string
}

// InvalidError lists every problem found in one study; it is what Load
// returns for a study that must not be planned.
type InvalidError struct {
	File     string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		loc := e.File
		if p.Line > 0 {
			loc = fmt.Sprintf("%s:%d", loc, p.Line)
		}
		if p.Key != "" {
			lines[i] = fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Msg)
		} else {
			lines[i] = fmt.Sprintf("%s: %s", loc, p.Msg)
		}
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems while a study is checked.
type problems struct {
	lines keyLines
	list  []Problem
}

func (ps *problems) add(key, format string, args ...any) {
	ps.list = append(ps.list, Problem{Key: key, Line: ps.lines.line(key), Msg: fmt.Sprintf(format, args...)})
}
