package study

import (
	"regexp"
	"sync"
)

// lazyRE returns a function that compiles expr on its first call and
// returns the same Regexp after. Package-level patterns compiled at init
// cost every gridstudy process, each exec of an array task and --version
// included, whether or not it reads a study file.
func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
