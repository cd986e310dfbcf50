// Package provenance records which code produced a study's results: the
// output of the study's [provenance] commands (a git commit, a hash of
// pip freeze), run once when the study is planned and kept in
// DIR/provenance.toml, from where collect copies them into
// study_summary.toml.
package provenance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/study"
)

// File is the record's name in a study directory.
const File = "provenance.toml"

// Timeout bounds each command: provenance must not hold up a plan.
const Timeout = 30 * time.Second

// MaxOutput bounds the output kept of each command, in bytes.
const MaxOutput = 4096

// Entry is one command's record.
type Entry struct {
	Command string `toml:"command"`
	// Output is what the command printed on stdout, trimmed and cut to
	// MaxOutput bytes.
	Output string `toml:"output"`
	// Error says why the command failed ("" when it did not).
	Error string `toml:"error,omitempty"`
}

// Record is DIR/provenance.toml.
type Record struct {
	RecordedAt time.Time        `toml:"recorded_at"`
	Commands   map[string]Entry `toml:"commands"`
}

// Path is the record's path in the study directory dir.
func Path(dir string) string { return filepath.Join(dir, File) }

// Write runs the study's [provenance] commands under bash -c in the study
// file's folder and writes their record into dir; it returns a warning
// for each command that failed (the failure is recorded, and does not stop
// the plan). A study without provenance has no record: an old one goes.
func Write(ctx context.Context, st *study.Study, dir string) ([]string, error) {
	if len(st.Provenance) == 0 {
		if err := os.Remove(Path(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, nil
	}
	rec := Record{RecordedAt: time.Now().UTC().Truncate(time.Second), Commands: map[string]Entry{}}
	var warnings []string
	for _, p := range st.Provenance {
		e := run(ctx, st.FileDir, p.Command)
		if e.Error != "" {
			warnings = append(warnings, fmt.Sprintf("provenance %s: %s", p.Name, e.Error))
		}
		rec.Commands[p.Name] = e
	}
	var b bytes.Buffer
	b.WriteString("# Written by gridstudy plan: the output of the study's [provenance] commands.\n")
	if err := toml.NewEncoder(&b).Encode(rec); err != nil {
		return warnings, err
	}
	return warnings, atomicfile.WriteBytes(Path(dir), b.Bytes(), 0o644, false)
}

// run runs one command and records it.
func run(ctx context.Context, dir, command string) Entry {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", command)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	e := Entry{Command: command, Output: cut(strings.TrimSpace(out.String()))}
	switch {
	case ctx.Err() != nil:
		e.Error = fmt.Sprintf("did not end within %s", Timeout)
	case err != nil:
		e.Error = err.Error()
		if last := lastLine(errOut.String()); last != "" {
			e.Error += ": " + last
		}
	}
	return e
}

func cut(s string) string {
	if len(s) > MaxOutput {
		return s[:MaxOutput]
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return cut(strings.TrimSpace(lines[len(lines)-1]))
}

// Read reads the record in dir; a study without one has none (nil, nil).
func Read(dir string) (*Record, error) {
	var rec Record
	_, err := toml.DecodeFile(Path(dir), &rec)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Path(dir), err)
	}
	return &rec, nil
}

// Summary is the record as study_summary.toml's [provenance] table: each
// command's output, or "error: …" for one that failed.
func (r *Record) Summary() map[string]string {
	if r == nil || len(r.Commands) == 0 {
		return nil
	}
	out := make(map[string]string, len(r.Commands))
	for name, e := range r.Commands {
		out[name] = e.Output
		if e.Error != "" {
			out[name] = "error: " + e.Error
		}
	}
	return out
}
