package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/study"
)

// The stderr tail a shard records (its stderr_tail column): what a reader
// needs to see why a run failed once retention has removed its stderr.log,
// bounded so that a chatty command adds little to every shard and to the
// collector's memory.
const (
	tailBytes = 1024
	tailLines = 10
)

// stderrTail returns the last tailLines lines of what an attempt wrote to
// the log at path after offset from (where its header ended), at most
// tailBytes of them, starting at a line boundary where it was cut.
func stderrTail(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	start := max(from, fi.Size()-tailBytes)
	buf := make([]byte, max(fi.Size()-start, 0))
	n, _ := f.ReadAt(buf, start)
	s := string(buf[:n])
	if start > from {
		// The first line is cut: drop it, unless it is all there is.
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
	}
	lines := strings.Split(strings.TrimRight(s, "\r\n\t "), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	// A cut may split a character: drop its bytes.
	return strings.ToValidUTF8(strings.TrimLeft(strings.Join(lines, "\n"), "\r\n"), "")
}

// Retain applies the study's [run] retain to the folder of run e (under
// studyDir) whose attempt ended ok or not: it removes the folder, or every
// file in it that no [run] keep pattern names, and then the folders left
// empty, up to the top folder of the run's path (experiments/).
//
// Call it only once the attempt's shard is durably in place (written,
// synced and renamed, its folder synced) and while the attempt's claim is
// still held, so that no other attempt of the run writes into the folder:
// the shard holds what the folder's removal loses (status, metrics, the
// stderr tail). A removal cut short by a crash leaves part of the folder,
// never a run without a record; a later attempt (resume --failed, --force)
// recreates the folder.
func Retain(st *study.Study, studyDir string, e manifest.Entry, ok bool) error {
	if !st.Run.Removable(ok) {
		return nil
	}
	dir := filepath.Join(studyDir, e.Dir)
	var err error
	if len(st.Run.Keep) == 0 {
		err = os.RemoveAll(dir)
	} else {
		err = removeUnkept(dir, st.Run)
	}
	if err != nil {
		return fmt.Errorf("run %s: retain = %q: %w", e.RunID, st.Run.Retain, err)
	}
	removeEmptyParents(studyDir, e.Dir)
	return nil
}

// removeUnkept removes the files under dir that run's keep patterns do not
// name, then the folders that hold nothing any more, dir included.
func removeUnkept(dir string, run study.Run) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if run.Keeps(filepath.ToSlash(rel)) {
			return nil
		}
		return os.Remove(path)
	})
	if err != nil {
		return err
	}
	// Deepest first: a folder is empty only once its subfolders are gone.
	slices.Reverse(dirs)
	for _, d := range dirs {
		os.Remove(d) // fails, as it should, on a folder that keeps a file
	}
	return nil
}

// removeEmptyParents removes the folders of rel (a run's folder relative
// to studyDir) that are left empty, deepest first, keeping its top folder.
// A concurrent run of the same cell may find its cell folder gone between
// making it and its own folder in it: mkdirRun retries for that.
func removeEmptyParents(studyDir, rel string) {
	for p := filepath.Dir(rel); p != "." && filepath.Dir(p) != "."; p = filepath.Dir(p) {
		if os.Remove(filepath.Join(studyDir, p)) != nil {
			return
		}
	}
}

// mkdirRun makes a run's folder. Retention removes empty cell folders
// (removeEmptyParents): one can vanish between MkdirAll's making of it
// and of the run folder inside, which then fails with ErrNotExist; making
// the path again succeeds, since a cell folder that holds a run folder is
// not empty and stays.
func mkdirRun(dir string) error {
	var err error
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}
