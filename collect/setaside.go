package collect

import (
	"fmt"
	"strings"

	"github.com/gridstudy/gridstudy/internal/shard"
)

// foreignExamples is how many shards of runs not in the manifest
// SetAsideLines names.
const foreignExamples = 2

// SetAsideLines says which shards were set aside and why, for a person at a
// terminal: a line per shard, except for the shards of runs that are not in
// the study's manifest, which share one line with their count and a few
// names. Removing a value from the study file leaves every shard of its
// runs behind, hundreds at times, all for the same reason; the reports
// list each one.
func (r *Result) SetAsideLines() []string {
	var lines []string
	var foreigners []BadShard
	for _, b := range r.SetAside {
		if id, _, _, ok := shard.Parse(b.Name); ok && b.Reason == foreign(id) {
			foreigners = append(foreigners, b)
			continue
		}
		lines = append(lines, "set aside "+b.Name+": "+b.Reason)
	}
	switch n := len(foreigners); {
	case n == 1:
		lines = append(lines, "set aside "+foreigners[0].Name+": "+foreigners[0].Reason)
	case n > 1:
		names := make([]string, 0, foreignExamples+1)
		for _, b := range foreigners[:min(n, foreignExamples)] {
			names = append(names, b.Name)
		}
		if n > foreignExamples {
			names = append(names, "…")
		}
		lines = append(lines, fmt.Sprintf("set aside %d shards of runs that are not in this study's manifest (%s): "+
			"values removed from the study file since they ran, or shards of another study; reports/ lists them all",
			n, strings.Join(names, ", ")))
	}
	return lines
}
