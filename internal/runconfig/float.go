package runconfig

import (
	"math"
	"strconv"
	"strings"
)

// formatFloat spells a finite float so that it reads back as the same
// float in every reader of YAML 1.1 and 1.2, TOML and JSON: the shortest
// digits, always with a fraction (1.0, 1.5e-07), exponents with their sign
// (1.0e+06). PyYAML reads 1e+06 as a string and 1 as an integer, and JSON
// readers 1 as an integer: a float without a dot is not a float to them.
func formatFloat(f float64, bits int) string {
	s := strconv.FormatFloat(f, 'g', -1, bits)
	mant, exp, hasExp := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if hasExp {
		// FormatFloat always signs the exponent, which PyYAML requires.
		return mant + "e" + exp
	}
	return mant
}

// yamlFloat is formatFloat with YAML's spellings of NaN and the
// infinities, which YAML 1.1 and 1.2 readers share.
func yamlFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	return formatFloat(f, bits)
}

// jsonFloat is formatFloat with the spellings of NaN and the infinities
// that Python's json module reads and writes. JSON itself has none: a
// strict parser refuses them, but any other spelling would reach Python as
// a string or a null.
func jsonFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return formatFloat(f, bits)
}
