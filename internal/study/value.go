package study

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is the column type of a parameter: every value of one parameter has
// the same kind, so that shards and the manifest type each column once.
type Kind int

// The kinds of parameter values. Integers and floats mixed in one parameter
// are normalised to Float.
const (
	Int Kind = iota + 1
	Float
	String
	Bool
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "int"
	case Float:
		return "float"
	case String:
		return "string"
	case Bool:
		return "bool"
	}
	return "unknown"
}

// Value is one value of a parameter.
type Value struct {
	Kind Kind
	I    int64
	F    float64
	S    string
	B    bool
}

// Any returns the value as a plain Go value (int64, float64, string or bool).
func (v Value) Any() any {
	switch v.Kind {
	case Int:
		return v.I
	case Float:
		return v.F
	case String:
		return v.S
	case Bool:
		return v.B
	}
	return nil
}

// Number reports the value as a float64 when it is numeric.
func (v Value) Number() (float64, bool) {
	switch v.Kind {
	case Int:
		return float64(v.I), true
	case Float:
		return v.F, true
	}
	return 0, false
}

// String renders the value as a user would write it: 1e6 rather than
// 1e+06, 512 rather than 512.0.
func (v Value) String() string {
	switch v.Kind {
	case Int:
		return strconv.FormatInt(v.I, 10)
	case Float:
		return FormatFloat(v.F)
	case String:
		return v.S
	case Bool:
		return strconv.FormatBool(v.B)
	}
	return ""
}

// canonical is the text that identifies the value in a cell id. Numbers are
// compared by value, so 1e6 and 1000000 are the same cell.
func (v Value) canonical() string {
	switch v.Kind {
	case Int, Float:
		f, _ := v.Number()
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64)
	case String:
		return "s:" + v.S
	case Bool:
		return "b:" + strconv.FormatBool(v.B)
	}
	return ""
}

// asFloat converts an Int value to Float; other kinds are returned as they are.
func (v Value) asFloat() Value {
	if v.Kind == Int {
		return Value{Kind: Float, F: float64(v.I)}
	}
	return v
}

// FormatFloat formats f the shortest way that reads back exactly, in
// decimal or with an exponent, whichever is shorter (decimal on a tie), the
// way people write study files: 1e6, 1e-4, 0.5, 4096.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	dec := strconv.FormatFloat(f, 'f', -1, 64)
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	if digits := strings.TrimLeft(exp[1:], "0"); digits != "" {
		e = mant + "e" + sign + digits
	} else {
		e = mant
	}
	if len(e) < len(dec) {
		return e
	}
	return dec
}

// valueOf converts a decoded TOML value into a Value.
func valueOf(x any) (Value, error) {
	switch t := x.(type) {
	case int64:
		return Value{Kind: Int, I: t}, nil
	case int:
		return Value{Kind: Int, I: int64(t)}, nil
	case float64:
		return Value{Kind: Float, F: t}, nil
	case string:
		return Value{Kind: String, S: t}, nil
	case bool:
		return Value{Kind: Bool, B: t}, nil
	}
	return Value{}, fmt.Errorf("unsupported value %v (%T): use numbers, strings or booleans", x, x)
}

// ParseValue reads a value written on the command line: an integer, a
// float, true/false, or else a string.
func ParseValue(s string) Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Value{Kind: Int, I: i}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpP_") {
		return Value{Kind: Float, F: f}
	}
	if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false") {
		return Value{Kind: Bool, B: b}
	}
	return Value{Kind: String, S: s}
}

// unify gives all values of one parameter one kind: ints and floats mixed
// become floats; any other mixture is an error.
func unify(vals []Value) (Kind, []Value, error) {
	if len(vals) == 0 {
		return 0, nil, nil
	}
	kind := vals[0].Kind
	for _, v := range vals[1:] {
		if v.Kind == kind {
			continue
		}
		if (v.Kind == Int || v.Kind == Float) && (kind == Int || kind == Float) {
			kind = Float
			continue
		}
		return 0, nil, fmt.Errorf("mixes %s and %s values: a parameter holds one type", kind, v.Kind)
	}
	if kind == Float {
		out := make([]Value, len(vals))
		for i, v := range vals {
			out[i] = v.asFloat()
		}
		return kind, out, nil
	}
	return kind, vals, nil
}
