package lifecycle

import (
	"os"

	"github.com/gridstudy/gridstudy/internal/lock"
	"github.com/gridstudy/gridstudy/internal/shard"
)

// Probe finds the attempts of one run on disk without listing the shards
// folder: it probes attempts 1, 2, … while a shard or a claim exists, and
// reads the status of the latest shard only (earlier ones cannot be the
// result). It is what a runner uses to decide about its own run.
func Probe(studyDir, runID string) []Attempt {
	var out []Attempt
	latest := -1
	for a := 1; ; a++ {
		hasShard := exists(shard.Path(studyDir, runID, a))
		claim := shard.ClaimPath(studyDir, runID, a)
		hasClaim := !hasShard && exists(claim)
		if !hasShard && !hasClaim {
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
	if latest >= 0 {
		out[latest].Status = shard.ReadStatus(shard.Path(studyDir, runID, out[latest].Number))
	}
	return out
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
