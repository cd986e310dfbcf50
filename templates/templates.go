// Package templates holds gridstudy's embedded default templates (the sbatch
// array script) and the function set that every gridstudy template uses.
package templates

import (
	"embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

//go:embed *.tmpl
var files embed.FS

// Sbatch returns the default sbatch array script template's source.
func Sbatch() string {
	b, err := files.ReadFile("sbatch.tmpl")
	if err != nil {
		panic("templates: sbatch.tmpl not embedded: " + err.Error())
	}
	return string(b)
}

// nondeterministic are sprig functions whose output changes from call to
// call (random values, clocks, key generation); a planned study must render
// the same scripts every time, so they are removed.
var nondeterministic = []string{
	"randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes", "randInt",
	"uuidv4", "shuffle", "ago", "date", "dateInZone", "date_in_zone", "dateModify",
	"date_modify", "mustDateModify", "must_date_modify", "duration", "durationRound",
	"htmlDate", "htmlDateInZone", "now", "unixEpoch", "toDate", "mustToDate",
	"genPrivateKey", "derivePassword", "buildCustomCert", "genCA", "genCAWithKey",
	"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert",
	"genSignedCertWithKey", "bcrypt", "htpasswd", "encryptAES", "decryptAES",
	"getHostByName", "env", "expandenv",
}

// FuncMap returns sprig's hermetic functions without the nondeterministic
// ones, plus shq, which quotes a value for a POSIX shell.
func FuncMap() template.FuncMap {
	fm := sprig.HermeticTxtFuncMap()
	for _, name := range nondeterministic {
		delete(fm, name)
	}
	fm["shq"] = shq
	return fm
}

// shq is ShellQuote for templates: a missing value (index of an unknown
// parameter) is an error rather than the text "<nil>".
func shq(v any) (string, error) {
	if v == nil {
		return "", fmt.Errorf("no value to quote (a misspelt parameter name?)")
	}
	return ShellQuote(v), nil
}

// ShellQuote quotes s so that a POSIX shell reads it as one literal word:
// no expansion of $, backticks, globs or quotes inside it.
func ShellQuote(s any) string {
	str := toString(s)
	if str != "" && strings.Trim(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=+@%") == "" {
		return str
	}
	return "'" + strings.ReplaceAll(str, "'", `'\''`) + "'"
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
