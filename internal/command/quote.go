package command

import (
	"fmt"
	"strings"
	"text/template"
)

// quoteFuncMap holds the functions that the analysis appends to actions,
// one per quoting context (see quoteFuncs).
var quoteFuncMap = template.FuncMap{
	quoteFuncs[quoteWord]:        quoted(asWord),
	quoteFuncs[quoteInSingle]:    quoted(inSingleQuotes),
	quoteFuncs[quoteInDouble]:    quoted(backslashed(`\"$` + "`")),
	quoteFuncs[quoteInANSI]:      quoted(backslashed(`\'`)),
	quoteFuncs[quoteHeredoc]:     quoted(oneLine(backslashed(`\$` + "`"))),
	quoteFuncs[quoteHeredocText]: quoted(oneLine(func(s string) (string, error) { return s, nil })),
}

// quoted turns a quoting into a template function: a missing value (index
// of an unknown parameter) is an error rather than the text "<nil>".
func quoted(q func(string) (string, error)) func(any) (string, error) {
	return func(v any) (string, error) {
		if v == nil {
			return "", fmt.Errorf("no value to quote (a misspelt parameter name?)")
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		return q(s)
	}
}

// bare are the bytes a word may hold unquoted: the rendered command stays
// readable (--seed 7) and none of them means anything to bash in any
// position. = and , are left out although templates.ShellQuote allows them:
// a=b in command position is an assignment, and a,b inside {…} is a brace
// expansion.
const bare = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+"

// asWord quotes a value that stands as (part of) an unquoted word.
func asWord(s string) (string, error) {
	if s != "" && strings.Trim(s, bare) == "" {
		return s, nil
	}
	v, _ := inSingleQuotes(s)
	return "'" + v + "'", nil
}

// inSingleQuotes quotes a value inside '…': a ' ends the quotes, so each
// becomes '\” (close, a quoted ', open again).
func inSingleQuotes(s string) (string, error) {
	return strings.ReplaceAll(s, "'", `'\''`), nil
}

// backslashed returns a quoting that puts a backslash before each of the
// bytes in special.
func backslashed(special string) func(string) (string, error) {
	return func(s string) (string, error) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(special, s[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		return b.String(), nil
	}
}

// oneLine refuses values with a newline, then quotes with q: in a here-doc
// a value's line equal to the delimiter would end it, and there is no way
// to write a newline there other than as itself.
func oneLine(q func(string) (string, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		if strings.ContainsAny(s, "\n") {
			return "", fmt.Errorf("value %q has a newline, which cannot be placed in a here-doc safely", s)
		}
		return q(s)
	}
}
