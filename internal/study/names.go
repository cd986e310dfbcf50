package study

import (
	"fmt"
	"strings"

	"github.com/gridstudy/gridstudy/internal/shard"
)

// ParamEnv is the environment variable through which the run protocol
// gives a run the value of the parameter name: GRIDSTUDY_PARAM_ and the name
// upper-cased, with every character other than A-Z and 0-9 as "_"
// ("model.nll_weight" is GRIDSTUDY_PARAM_MODEL_NLL_WEIGHT). The runner sets
// it and the loader refuses two parameters of one run that share it, so it
// is computed here once.
func ParamEnv(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return "GRIDSTUDY_PARAM_" + string(b)
}

// checkParamName says what is wrong with a parameter name, or "".
func checkParamName(name string) string {
	if name == "" {
		return "empty parameter name"
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Sprintf("parameter name %q has %q: use letters, digits, '_', '.' and '-'", name, c)
		}
	}
	if name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return fmt.Sprintf("parameter name %q has an empty part between dots", name)
	}
	if shard.Reserved(name) {
		return fmt.Sprintf("%q is reserved: gridstudy writes a column of that name (a run column such as seed or status, or one of collect's such as n_ok or wall_s_mean)", name)
	}
	return ""
}

// checkFolderName says what is wrong with a name that becomes a folder.
func checkFolderName(what, name string) string {
	if name == "" {
		return what + " is empty"
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Sprintf("%s %q has %q: use letters, digits, '_', '.' and '-' so it stays one folder name", what, name, c)
		}
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Sprintf("%s %q must not start with %q", what, name, name[0])
	}
	return ""
}

// suggest returns the known key closest to key, or "".
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
