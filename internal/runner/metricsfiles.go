package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PrevFinalMetricsFile is where an attempt moves the metrics.json that it
// finds in the run folder when it starts: an earlier attempt's, whose values
// are in that attempt's shard already. The file is kept for a look, and
// replaced by the next attempt's.
const PrevFinalMetricsFile = FinalMetricsFile + ".prev"

// freshMetricsFiles sets up the metrics files of the run folder runDir for
// a new attempt and returns the path of the JSON-lines file, which nothing
// is at: the command's first append creates it, and a run that reports
// nothing costs no file.
//
// Whatever the last attempt's command left under the metrics file's name is
// removed, not opened: a named pipe would block the open, and a symbolic
// link would make the runner truncate its target. metrics.json is
// moved to PrevFinalMetricsFile, so that whatever metrics.json is there
// when the command ends was written by this attempt: a file's time stamp
// cannot tell, since a command may copy a file with its time (cp -p) and
// clocks are coarse.
func freshMetricsFiles(runDir string) (string, error) {
	path := filepath.Join(runDir, MetricsFile)
	if err := os.RemoveAll(path); err != nil {
		return "", fmt.Errorf("clear the metrics file of the last attempt: %w", err)
	}
	final := filepath.Join(runDir, FinalMetricsFile)
	if _, err := os.Lstat(final); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		return "", fmt.Errorf("look for the last attempt's %s: %w", FinalMetricsFile, err)
	}
	prev := filepath.Join(runDir, PrevFinalMetricsFile)
	// A rename does not replace a directory that is not empty, which the
	// moved metrics.json of an earlier attempt may have been.
	if err := os.RemoveAll(prev); err != nil {
		return "", fmt.Errorf("make room for the last attempt's %s: %w", FinalMetricsFile, err)
	}
	if err := os.Rename(final, prev); err != nil {
		return "", fmt.Errorf("move the last attempt's %s aside: %w", FinalMetricsFile, err)
	}
	return path, nil
}
