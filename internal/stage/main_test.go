package stage_test

import (
	"os"
	"testing"

	"github.com/gridstudy/gridstudy/internal/runner"
)

func TestMain(m *testing.M) {
	// The runner starts this test binary again as each command's
	// supervisor (TestState runs stage tasks).
	runner.MaybeSupervise()
	os.Exit(m.Run())
}
