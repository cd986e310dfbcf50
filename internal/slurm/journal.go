package slurm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Submission is one line of slurm/submissions.jsonl: one sbatch call.
type Submission struct {
	JobID       string    `json:"job_id"`
	Kind        string    `json:"kind"` // array, collect or feeder
	Chunk       string    `json:"chunk,omitempty"`
	Offset      int       `json:"offset"`
	RunsPerTask int       `json:"runs_per_task,omitempty"`
	Tasks       string    `json:"tasks,omitempty"` // index list, e.g. 0-99,120
	Time        time.Time `json:"time"`
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
	f, err := os.OpenFile(filepath.Join(filepath.Dir(j.path), ".submit.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock study: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock study: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Append records one submission, synced to disk before it returns.
func (j *Journal) Append(s Submission) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	return f.Close()
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
