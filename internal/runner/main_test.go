package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// helperEnv turns the test binary into a runner of its own, which runs the
// first run of the study directory named by its value, for tests that
// kill a runner.
const helperEnv = "GRIDSTUDY_TEST_RUNNER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(runFirst(dir))
	}
	os.Exit(m.Run())
}

// runFirst runs the first run of the study in dir, as `gridstudy exec`
// would, and returns an exit code.
func runFirst(dir string) int {
	d, err := studydir.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	entries, err := manifest.Read(filepath.Join(dir, manifest.File))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := Run(context.Background(), Job{StudyDir: dir, Study: d.Study, Entry: entries[0]}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
