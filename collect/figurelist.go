package collect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
)

// figureList is the file in visualizations/ that lists the figure files
// the last collect wrote, one a line, relative to the study directory.
// The next collect removes those of them that it does not draw again (a
// metric, a model, a format or a kind gone from [plots]) and no other
// file: what users keep beside the figures is theirs.
const figureList = ".gridstudy-figures"

// figureDirs are the folders, relative to the study directory, that
// collect draws figures into.
var figureDirs = []string{"visualizations", "reports/latex_figures"}

// figureExts are the extensions of the files collect draws: the formats
// of plots.Figure.Save and the pages of plots.SurfaceAll.
var figureExts = []string{".png", ".pdf", ".svg", ".html"}

// ownFigure says whether rel, a line of the figure list, names a file that
// collect may remove: a figure file right in one of figureDirs. Whatever
// else a list edited by hand or damaged holds is never removed.
func ownFigure(rel string) bool {
	dir, name := path.Split(rel)
	return slices.Contains(figureDirs, strings.TrimSuffix(dir, "/")) && name != "" && name[0] != '.' &&
		slices.Contains(figureExts, path.Ext(name))
}

// pruneFigures removes the figure files that the last collect listed and
// this one did not write (written: paths of files under dir, as the
// figures' writers return them), and lists written instead. Call it only
// once the new figures are in place, so that a collect killed before
// leaves every old figure. Stale files stay listed until they are gone: a
// collect killed while removing them, or a file that cannot be removed,
// leaves them to the next collect.
func pruneFigures(dir string, written []string) error {
	listPath := filepath.Join(dir, "visualizations", figureList)
	old, err := readFigureList(listPath)
	if err != nil {
		return err
	}
	now := make([]string, 0, len(written))
	for _, f := range written {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			return err
		}
		now = append(now, filepath.ToSlash(rel))
	}
	slices.Sort(now)
	now = slices.Compact(now)
	var stale []string
	for _, f := range old {
		if _, found := slices.BinarySearch(now, f); !found && ownFigure(f) {
			stale = append(stale, f)
		}
	}
	if len(stale) > 0 {
		if err := writeFigureList(listPath, append(slices.Clone(now), stale...)); err != nil {
			return err
		}
	}
	var errs []error
	var left []string
	for _, f := range stale {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(f))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			left = append(left, f)
		}
	}
	if err := writeFigureList(listPath, append(now, left...)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// readFigureList reads the figure list at path; there is none before the
// first collect.
func readFigureList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the list of figures: %w", err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// writeFigureList writes files, sorted, as the figure list at path.
func writeFigureList(path string, files []string) error {
	slices.Sort(files)
	var b strings.Builder
	for _, f := range files {
		b.WriteString(f + "\n")
	}
	return atomicfile.WriteBytes(path, []byte(b.String()), 0o644, false)
}
