package slurm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gridstudy/gridstudy/internal/lock"
	"github.com/gridstudy/gridstudy/internal/study"
)

// Submission is one line of slurm/submissions.jsonl: one sbatch call.
type Submission struct {
	JobID string `json:"job_id"`
	Kind  string `json:"kind"` // array, stage, collect or feeder
	// Stage names the stage whose tasks a "stage" array runs; its Offset
	// is the stage task index of array task 0.
	Stage       string `json:"stage,omitempty"`
	Chunk       string `json:"chunk,omitempty"`
	Offset      int    `json:"offset"`
	RunsPerTask int    `json:"runs_per_task,omitempty"`
	Tasks       string `json:"tasks,omitempty"` // index list, e.g. 0-99,120
	// Name is the job name sbatch was given, and Start and Time bracket
	// the sbatch call: together they tell this job from another that got
	// the same id later (see Owns). Journals written before they were
	// recorded have neither.
	Name  string    `json:"name,omitempty"`
	Start time.Time `json:"start,omitzero"`
	Time  time.Time `json:"time"`
}

// clockSkew is how far slurmctld's clock may be from the submitting
// machine's, plus the second that squeue rounds submit times down to.
const clockSkew = time.Minute

// Owns says whether the queue entry t is this submission's job. SLURM
// reuses job ids once its state is purged (and at MaxJobId), so an id alone
// may name somebody else's job: t must also carry the name the submission
// gave and a submit time within the sbatch call. A task that SLURM requeued
// has a later submit time (requeue resets it), so a later one is accepted
// from a task with restarts. Submissions journaled without a name cannot
// be checked and own their ids, as they always did.
func (s Submission) Owns(t Task) bool {
	if s.Name == "" {
		return true
	}
	if t.Name != s.Name || t.Submit.IsZero() {
		return false
	}
	start := s.Start
	if start.IsZero() {
		start = s.Time
	}
	if t.Submit.Before(start.Add(-clockSkew)) {
		return false
	}
	return t.Restarts > 0 || !t.Submit.After(s.Time.Add(clockSkew))
}

// OwnedTask is a queue entry of the study's, with its submission.
type OwnedTask struct {
	Task
	Sub Submission
}

// Claim sorts the queue entries listed for journaled job ids into the
// study's own, each with the submission it belongs to (see Owner), and
// foreign ones: entries of other jobs that got a journaled id after the
// study's job left the queue.
func Claim(subs []Submission, tasks []Task) (own []OwnedTask, foreign []Task) {
	byJob := map[string][]Submission{}
	for _, s := range subs {
		byJob[s.JobID] = append(byJob[s.JobID], s)
	}
	for _, t := range tasks {
		if s, ok := Owner(byJob[t.ArrayJobID], t); ok {
			own = append(own, OwnedTask{Task: t, Sub: s})
		} else {
			foreign = append(foreign, t)
		}
	}
	return own, foreign
}

// Owner returns the submission, of those journaled under t's job id, that
// owns the queue entry t: the latest, since a later submission got the id
// after the earlier job ended.
func Owner(subs []Submission, t Task) (Submission, bool) {
	for i := len(subs) - 1; i >= 0; i-- {
		if subs[i].Owns(t) {
			return subs[i], true
		}
	}
	return Submission{}, false
}

// JobIDs returns the distinct job ids of subs, in journal order: what to
// ask squeue about.
func JobIDs(subs []Submission) []string {
	seen := map[string]bool{}
	var ids []string
	for _, s := range subs {
		if !seen[s.JobID] {
			seen[s.JobID] = true
			ids = append(ids, s.JobID)
		}
	}
	return ids
}

// JobName is the name gridstudy gives a study's array jobs: [slurm]
// job_name, else the study's name. Helper jobs add "-feeder" or "-collect".
func JobName(st *study.Study) string {
	if st.Slurm.JobName != "" {
		return st.Slurm.JobName
	}
	return st.Name
}

// Journal is a study's append-only record of submissions.
type Journal struct {
	path string
}

// OpenJournal returns the journal of the study in dir.
func OpenJournal(dir string) *Journal {
	return &Journal{path: filepath.Join(dir, "slurm", "submissions.jsonl")}
}

// Lock takes the study's submit lock, so that two submits or resumes of
// one study cannot race; the returned func releases it.
func (j *Journal) Lock() (func(), error) {
	l, err := lock.Wait(context.Background(), filepath.Join(filepath.Dir(j.path), ".submit.lock"))
	if err != nil {
		return nil, fmt.Errorf("lock study: %w", err)
	}
	return func() { l.Unlock() }, nil
}

// Submit runs sbatch (as Client.SubmitEnv does, with --job-name=sub.Name)
// and journals the job before anything else can fail, filling in sub's
// JobID, Start and Time. A job that cannot be journaled (a full disk) would
// run unrecorded and be submitted again by the next submit or resume: it is
// cancelled, and the error says so, or says to cancel it by hand when
// scancel fails too.
func (j *Journal) Submit(ctx context.Context, c *Client, sub Submission, env []string, script string, args ...string) (Submission, error) {
	if sub.Name != "" {
		// On the command line, it overrides any --job-name in the script,
		// so that the journaled name is the one SLURM shows.
		args = append(args[:len(args):len(args)], "--job-name="+sub.Name)
	}
	sub.Start = time.Now().UTC()
	id, err := c.SubmitEnv(ctx, env, script, args...)
	if err != nil {
		return sub, err
	}
	sub.JobID, sub.Time = id, time.Now().UTC()
	if err := j.Append(sub); err != nil {
		// Not ctx: an interrupt must not leave the job running unrecorded.
		if cerr := c.Cancel(context.WithoutCancel(ctx), []string{id}); cerr != nil {
			return sub, fmt.Errorf("%w; job %s was submitted and cannot be cancelled (%v): cancel it by hand with scancel %s", err, id, cerr, id)
		}
		return sub, fmt.Errorf("%w; cancelled job %s, which would have run unrecorded", err, id)
	}
	return sub, nil
}

// Append records one submission, synced to disk before it returns. It
// starts a new line after a torn one (a crash mid-write), which Read then
// skips, and truncates away a write of its own cut short (a full disk), so
// that no journaled line is ever glued to a torn one.
func (j *Journal) Append(s Submission) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("journal job %s: %w", s.JobID, err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	line := append(b, '\n')
	last := []byte{'\n'}
	if size > 0 {
		if _, err := f.ReadAt(last, size-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err = f.Write(line); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Truncate(size) // best effort: Read skips a torn last line anyway
		f.Close()
		return fmt.Errorf("journal job %s: %w", s.JobID, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("journal job %s: %w", s.JobID, err)
	}
	return nil
}

// Read returns every submission. A torn last line (a crash mid-write) is
// skipped; the job it names was not recorded.
func (j *Journal) Read() ([]Submission, error) {
	f, err := os.Open(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var out []Submission
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var s Submission
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.JobID != "" {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}
