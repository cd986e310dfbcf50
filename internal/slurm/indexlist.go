// Package slurm talks to SLURM: array index lists, the cluster's limits,
// sbatch scripts, and the sbatch, squeue and scancel commands.
package slurm

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FormatIndexList writes task ids as SLURM's compact list: 0-3,7,9-12.
// The ids need not be sorted; duplicates are dropped.
func FormatIndexList(ids []int) string {
	if len(ids) == 0 {
		return ""
	}
	s := append([]int(nil), ids...)
	sort.Ints(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] <= s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s[i]))
		if s[j] != s[i] {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s[j]))
		}
		i = j + 1
	}
	return b.String()
}

// maxListIDs bounds what ParseIndexList expands, so that "0-999999999"
// cannot exhaust memory.
const maxListIDs = 10_000_000

// ParseIndexList reads an array index list such as "0-3,7,9-15:2%4"
// (the throttle is ignored) into sorted, distinct task ids.
func ParseIndexList(s string) ([]int, error) {
	s, _, _ = strings.Cut(s, "%")
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty index list")
	}
	seen := map[int]bool{}
	var out []int
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, ":")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("index list %q: bad step %q", s, stepText)
			}
			step = n
		}
		loText, hiText, isRange := strings.Cut(rng, "-")
		lo, err := strconv.Atoi(loText)
		if err != nil || lo < 0 {
			return nil, fmt.Errorf("index list %q: bad index %q", s, loText)
		}
		hi := lo
		if isRange {
			hi, err = strconv.Atoi(hiText)
			if err != nil || hi < lo {
				return nil, fmt.Errorf("index list %q: bad range %q", s, rng)
			}
		}
		if (hi-lo)/step+len(out) >= maxListIDs {
			return nil, fmt.Errorf("index list %q: more than %d ids", s, maxListIDs)
		}
		for i := lo; i <= hi; i += step {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}
