package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// claimSuffix ends the name of a claim file, <run_id>.a<attempt>.claim:
// Parse and Scan ignore such names.
const claimSuffix = ".claim"

// ClaimPath returns the path of the claim file of one attempt of a run.
func ClaimPath(studyDir, runID string, attempt int) string {
	return filepath.Join(Dir(studyDir), runID+".a"+strconv.Itoa(attempt)+claimSuffix)
}

// Claim reserves the next attempt number of runID for the caller and
// returns it. Two runners that claim the same run at once get different
// attempts, and a runner killed before it wrote its shard (SIGKILL, a dead
// node) still used up its attempt: its claim file stays behind. NextAttempt,
// which sees only shards, cannot give either guarantee.
//
// Claim probes attempts 1, 2, … and takes the first with neither a shard
// nor a claim, creating its claim with O_EXCL. It costs a few stat calls,
// never a listing of the shards folder. Release the claim once the shard is
// written.
func Claim(studyDir, runID string) (int, error) {
	if err := os.MkdirAll(Dir(studyDir), 0o755); err != nil {
		return 0, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	for attempt := 1; ; attempt++ {
		if exists(Path(studyDir, runID, attempt)) {
			continue
		}
		claim := ClaimPath(studyDir, runID, attempt)
		f, err := os.OpenFile(claim, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("claim attempt %d of %s: %w", attempt, runID, err)
		}
		if err := f.Close(); err != nil {
			return 0, fmt.Errorf("claim attempt %d of %s: %w", attempt, runID, err)
		}
		// A runner that wrote this attempt's shard and released its claim
		// between the check above and the create is caught here: shards
		// are renamed into place before their claim is removed.
		if exists(Path(studyDir, runID, attempt)) {
			os.Remove(claim)
			continue
		}
		return attempt, nil
	}
}

// Release removes the claim of an attempt whose shard has been written.
// A missing claim is no error.
func Release(studyDir, runID string, attempt int) error {
	err := os.Remove(ClaimPath(studyDir, runID, attempt))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release attempt %d of %s: %w", attempt, runID, err)
	}
	return nil
}

// Claimed reports whether attempt of runID has a claim or a shard.
func Claimed(studyDir, runID string, attempt int) bool {
	return exists(Path(studyDir, runID, attempt)) || exists(ClaimPath(studyDir, runID, attempt))
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
