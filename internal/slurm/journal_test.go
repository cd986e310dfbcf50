package slurm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shims puts stand-ins for sbatch and scancel first on PATH: sbatch
// records its arguments and prints job id 4242; scancel records its
// arguments and exits with scancelExit.
func shims(t *testing.T, scancelExit int) (calls string) {
	t.Helper()
	bin := t.TempDir()
	calls = filepath.Join(bin, "calls")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("sbatch", `echo "sbatch $*" >> "`+calls+"\"\necho 4242\n")
	write("scancel", `echo "scancel $*" >> "`+calls+"\"\necho 'scancel: error: down' >&2\nexit "+string(rune('0'+scancelExit))+"\n")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

func studyWithJournal(t *testing.T) (*Journal, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		t.Fatal(err)
	}
	return OpenJournal(dir), filepath.Join(dir, "slurm", "submissions.jsonl")
}

func readCalls(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJournalSubmitRecordsIdentity(t *testing.T) {
	calls := shims(t, 0)
	j, _ := studyWithJournal(t)
	sub, err := j.Submit(context.Background(), &Client{}, Submission{Kind: "array", Chunk: "array_000", Name: "dose"},
		nil, "/s/slurm/array_000.sbatch", "--array=0-3")
	if err != nil {
		t.Fatal(err)
	}
	if got := readCalls(t, calls); got != "sbatch --parsable --array=0-3 --job-name=dose /s/slurm/array_000.sbatch\n" {
		t.Errorf("sbatch called as %q", got)
	}
	subs, err := j.Read()
	if err != nil || len(subs) != 1 {
		t.Fatalf("journal: %+v, %v; want one line", subs, err)
	}
	got := subs[0]
	if got.JobID != "4242" || got.Name != "dose" || got.Start.IsZero() || got.Time.Before(got.Start) ||
		!got.Start.Equal(sub.Start) || got.Chunk != "array_000" {
		t.Errorf("journaled %+v, want job 4242 named dose with start <= time", got)
	}
}

// A full disk after sbatch: the job is cancelled, nothing is journaled,
// and the error says both.
func TestJournalSubmitCancelsWhatItCannotRecord(t *testing.T) {
	for _, tc := range []struct {
		scancelExit int
		want        string
	}{
		{0, "cancelled job 4242, which would have run unrecorded"},
		{1, "cancel it by hand with scancel 4242"},
	} {
		calls := shims(t, tc.scancelExit)
		j, path := studyWithJournal(t)
		if err := os.Symlink("/dev/full", path); err != nil {
			t.Fatal(err)
		}
		_, err := j.Submit(context.Background(), &Client{}, Submission{Kind: "array", Name: "dose"}, nil, "script")
		if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("scancel exit %d: Submit error %v, want the disk error and %q", tc.scancelExit, err, tc.want)
		}
		if got := readCalls(t, calls); !strings.HasSuffix(got, "\nscancel 4242\n") {
			t.Errorf("commands run: %q, want scancel 4242 after sbatch", got)
		}
	}
}

// A crash mid-write leaves a torn line; the next line must not be glued to
// it (and lost with it).
func TestJournalAppendTruncatesFailedWrite(t *testing.T) {
	j, path := studyWithJournal(t)
	if err := j.Append(Submission{JobID: "1", Kind: "array"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(`{"job_id":"2","ki`)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	torn, _ := os.ReadFile(path)
	if len(torn) == len(before) {
		t.Fatal("setup: nothing appended")
	}
	if err := j.Append(Submission{JobID: "3", Kind: "array"}); err != nil {
		t.Fatal(err)
	}
	subs, err := j.Read()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range subs {
		ids = append(ids, s.JobID)
	}
	if strings.Join(ids, ",") != "1,3" {
		t.Errorf("journal holds jobs %v after a torn line, want 1,3", ids)
	}
}
