package study

import (
	"fmt"
	"strings"
)

// Reserved names are the run columns of the manifest and the shards; a
// parameter with one of these names would collide with them.
var Reserved = []string{
	"index", "run_id", "cell_id", "model", "trial", "seed", "dir", "attempt",
	"status", "exit_code", "signal", "wall_s", "cpu_s", "max_rss_mb", "gpu_mem_mb",
	"host", "slurm_job_id", "slurm_array_job_id", "slurm_array_task_id",
	"started_at", "finished_at", "error", "bad_metric_lines", "gridstudy_version",
	"metrics_convention",
}

func isReserved(name string) bool {
	for _, r := range Reserved {
		if r == name {
			return true
		}
	}
	return false
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
	if isReserved(name) {
		return fmt.Sprintf("%q is reserved for a run column (%s)", name, strings.Join(Reserved, ", "))
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
