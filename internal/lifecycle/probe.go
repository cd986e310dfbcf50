package lifecycle

import (
	"os"

	"github.com/gridstudy/gridstudy/internal/lock"
	"github.com/gridstudy/gridstudy/internal/shard"
)

// Probe finds the attempts of one run on disk without reading every shard:
// it probes attempts 1, 2, … while a one-row shard or a claim exists, then
// adds the attempts folded into multi-row files (shard.Folded), probing on
// above those, and reads the status of the latest one-row shard only
// (earlier ones cannot be the result). It is what a runner uses to decide
// about its own run.
func Probe(studyDir, runID string) []Attempt {
	var out []Attempt
	latest := -1
	var folded []shard.Row
	for a := 1; ; {
		for ; ; a++ {
			hasShard := exists(shard.Path(studyDir, runID, a))
			claim := shard.ClaimPath(studyDir, runID, a)
			hasClaim := !hasShard && exists(claim)
			if !hasShard && !hasClaim {
				if a <= shard.MaxAttempt(folded) {
					continue
				}
				break
			}
			at := Attempt{Number: a}
			if hasShard {
				latest = len(out)
			} else {
				at.Live = lock.Held(claim)
			}
			out = append(out, at)
		}
		// Read after the probe: a one-row shard gone meanwhile was
		// folded into a file that is in place by now. An error leaves the
		// folded attempts out; TakeClaim, which must not reuse a number,
		// fails on it instead.
		rows, _ := shard.Folded(studyDir, runID)
		if shard.MaxAttempt(rows) < a {
			folded = rows
			break
		}
		folded = rows
	}
	if latest >= 0 {
		out[latest].Status = shard.ReadStatus(shard.Path(studyDir, runID, out[latest].Number))
	}
	for _, r := range folded {
		out = append(out, Attempt{Number: r.Attempt, Status: r.Status})
	}
	return out
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
