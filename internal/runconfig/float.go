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

// spelling names NaN and the infinities the way one family of readers
// does; finite floats are formatFloat's.
type spelling struct{ nan, inf, negInf string }

// yamlSpelling is what YAML 1.1 and 1.2 readers share.
var yamlSpelling = spelling{".nan", ".inf", "-.inf"}

// float spells f, of the given bit size, for this family of readers.
func (sp spelling) float(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return sp.nan
	case math.IsInf(f, 1):
		return sp.inf
	case math.IsInf(f, -1):
		return sp.negInf
	}
	return formatFloat(f, bits)
}
