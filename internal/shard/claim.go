package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gridstudy/gridstudy/internal/lock"
)

// claimSuffix ends the name of a claim file, <run_id>.a<attempt>.claim:
// Parse and Scan ignore such names.
const claimSuffix = ".claim"

// ClaimPath returns the path of the claim file of one attempt of a run.
func ClaimPath(studyDir, runID string, attempt int) string {
	return filepath.Join(Dir(studyDir), runID+".a"+strconv.Itoa(attempt)+claimSuffix)
}

// ErrBusy is returned by TakeClaim when another runner is executing the run
// right now.
var ErrBusy = errors.New("another runner is executing this run now")

// holder is what a claim file says about the runner that made it, for a
// person who wonders where an attempt runs.
type holder struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// A Claim is a held claim on one attempt of a run: its file exists, and its
// lock is held, for as long as the attempt runs.
type Claim struct {
	Attempt int
	// DeadBefore is set when an earlier attempt of the run left a claim
	// but no shard: its runner died, and what it started may still run.
	DeadBefore bool
	path       string
	lock       *lock.Lock
}

// TakeClaim reserves the next attempt number of runID and holds it until
// Release. The claim file is locked before it gets its name (it is made
// under a temporary name and hard-linked into place, which fails if the
// name exists, on NFS too), so whoever sees a claim file can tell a live
// runner (the lock is held) from a dead one (it is free). Two runners that
// claim one run at once get different numbers; the one with the higher
// number then finds the other's live claim and backs off with ErrBusy, so a
// run never has two live attempts. A runner killed before it wrote its
// shard still used up its number: its claim stays behind, unlocked.
//
// TakeClaim probes attempts 1, 2, … and takes the first with neither a shard
// nor a claim: a few stat calls. Then it makes sure that no multi-row file
// (Folded) holds that attempt or a later one, else it takes the next number
// above the highest folded attempt.
func TakeClaim(studyDir, runID string) (*Claim, error) {
	return takeClaim(studyDir, runID, 1)
}

// takeClaim is TakeClaim starting at attempt from.
func takeClaim(studyDir, runID string, from int) (*Claim, error) {
	dir := Dir(studyDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	tmp, err := os.CreateTemp(dir, "."+runID+".claim.*")
	if err != nil {
		return nil, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	defer os.Remove(tmp.Name())
	l, err := lock.Hold(tmp)
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	host, _ := os.Hostname()
	if err := json.NewEncoder(tmp).Encode(holder{Host: host, PID: os.Getpid(), Started: time.Now().UTC()}); err != nil {
		l.Unlock()
		return nil, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	c := &Claim{lock: l}
	for attempt := from; ; attempt++ {
		shardThere := exists(Path(studyDir, runID, attempt))
		path := ClaimPath(studyDir, runID, attempt)
		if shardThere {
			continue
		}
		if err := os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			l.Unlock()
			return nil, fmt.Errorf("claim attempt %d of %s: %w", attempt, runID, err)
		}
		c.Attempt, c.path = attempt, path
		break
	}
	// A runner that wrote this attempt's shard and released its claim
	// between the check above and the link is caught here (shards are
	// renamed into place before their claim goes): try the next number.
	if exists(Path(studyDir, runID, c.Attempt)) {
		c.Release()
		return takeClaim(studyDir, runID, c.Attempt+1)
	}
	// Folded attempts have no one-row shard to find above. Looking only
	// now, after the probe, catches a shard folded away meanwhile: it is
	// removed only once the file it went into is in place.
	rows, err := Folded(studyDir, runID)
	if err != nil {
		c.Release()
		return nil, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	if m := MaxAttempt(rows); m >= c.Attempt {
		c.Release()
		return takeClaim(studyDir, runID, m+1)
	}
	for a := 1; a < c.Attempt; a++ {
		p := ClaimPath(studyDir, runID, a)
		if !exists(p) {
			continue
		}
		if lock.Held(p) {
			c.Release()
			return nil, ErrBusy
		}
		if !exists(Path(studyDir, runID, a)) {
			c.DeadBefore = true
		}
	}
	return c, nil
}

// Release removes the claim file, once the attempt's shard is in place,
// and then drops its lock.
func (c *Claim) Release() error {
	err := os.Remove(c.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("release %s: %w", filepath.Base(c.path), err)
	} else {
		err = nil
	}
	c.lock.Unlock()
	return err
}

// Abandon drops the claim's lock and leaves its file: the attempt wrote no
// shard, and now reads as one whose runner died.
func (c *Claim) Abandon() {
	c.lock.Unlock()
}

// Claimed reports whether attempt of runID has a claim or a shard.
func Claimed(studyDir, runID string, attempt int) bool {
	return exists(Path(studyDir, runID, attempt)) || exists(ClaimPath(studyDir, runID, attempt))
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
