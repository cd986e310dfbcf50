package main

import (
	"context"
	"io"
	"math"
	"runtime/debug"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan/plantest"
)

// TestCollectGCSettings pins that collect leaves the Go runtime's
// soft memory limit alone (a fixed limit below the live heap of a big
// study kept the garbage collector running without pause, issue 15), and
// bounds its heap in proportion to the live heap instead, unless the user
// set GOGC.
func TestCollectGCSettings(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	before := debug.SetMemoryLimit(-1)
	if before != math.MaxInt64 {
		t.Skipf("the test process runs under a memory limit of %d bytes", before)
	}
	d := plantest.Dir(t, "name = \"s\"\ntrials = 1\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2]\n")
	// No shard: collect fails, after any limit would have been set.
	if code := run(context.Background(), []string{"collect", d.Path}, &env{stdout: io.Discard, stderr: io.Discard}); code != 1 {
		t.Fatalf("collect of a study without shards: exit %d, want 1", code)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		debug.SetMemoryLimit(math.MaxInt64)
		t.Errorf("collect set a memory limit of %d bytes", got)
	}
	if got := debug.SetGCPercent(100); got != collectGCPercent {
		t.Errorf("GOGC after collect = %d, want %d", got, collectGCPercent)
	}
	// A user's GOGC wins.
	t.Setenv("GOGC", "100")
	run(context.Background(), []string{"collect", d.Path}, &env{stdout: io.Discard, stderr: io.Discard})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after collect with GOGC=100 set = %d, want 100", got)
	}
}
