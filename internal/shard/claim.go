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
	lock       *lock.Lock // nil for a claim in a Holder, whose lock it shares
}

// A Holder is a locked claim file that the claims of one packed task's
// runs are hard links to. A claim file is locked before it gets its name,
// so it is made under a temporary name and linked into place; a task that
// makes one file and links it for each of its runs spends one inode per
// task rather than one per run (each freed again when the run ends), and
// its runs' claims share one lock, which dies with the task.
type Holder struct {
	path string
	lock *lock.Lock
}

// NewHolder makes the claim file for the runs of one packed task of the
// study in studyDir. Close it when the task ends.
func NewHolder(studyDir string) (*Holder, error) {
	h, err := newHolder(studyDir, "task")
	if err != nil {
		return nil, fmt.Errorf("claim file of the task: %w", err)
	}
	return h, nil
}

// newHolder makes a locked claim file under a temporary name that starts
// with a dot and prefix; List ignores such names.
func newHolder(studyDir, prefix string) (*Holder, error) {
	dir := Dir(studyDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "."+prefix+".claim.*")
	if err != nil {
		return nil, err
	}
	l, err := lock.Hold(tmp)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	host, _ := os.Hostname()
	if err := json.NewEncoder(tmp).Encode(holder{Host: host, PID: os.Getpid(), Started: time.Now().UTC()}); err != nil {
		l.Unlock()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &Holder{path: tmp.Name(), lock: l}, nil
}

// Close removes the holder's own name and drops its lock: claims still
// linked to it read from now on as attempts whose runner died.
func (h *Holder) Close() error {
	err := os.Remove(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, h.lock.Unlock())
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
	h, err := newHolder(studyDir, runID)
	if err != nil {
		return nil, fmt.Errorf("claim an attempt of %s: %w", runID, err)
	}
	defer os.Remove(h.path)
	c, err := takeClaim(studyDir, runID, 1, h.path)
	if err != nil {
		h.lock.Unlock()
		return nil, err
	}
	c.lock = h.lock
	return c, nil
}

// TakeClaim is TakeClaim for a run of the task that holds h: the claim is
// a link to h's file and holds h's lock, which stays with h when the claim
// is released or abandoned.
func (h *Holder) TakeClaim(studyDir, runID string) (*Claim, error) {
	return takeClaim(studyDir, runID, 1, h.path)
}

// takeClaim is TakeClaim starting at attempt from, linking the locked file
// src into place.
func takeClaim(studyDir, runID string, from int, src string) (*Claim, error) {
	c := &Claim{}
	for attempt := from; ; attempt++ {
		shardThere := exists(Path(studyDir, runID, attempt))
		path := ClaimPath(studyDir, runID, attempt)
		if shardThere {
			continue
		}
		if err := os.Link(src, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue
			}
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
		return takeClaim(studyDir, runID, c.Attempt+1, src)
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
		return takeClaim(studyDir, runID, m+1, src)
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
// and then drops its lock, unless a Holder holds that.
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
// shard, and now reads as one whose runner died (for a claim in a Holder,
// once the holder is closed).
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
