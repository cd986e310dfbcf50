package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gridstudy/gridstudy/internal/manifest"
)

func TestMain(m *testing.M) {
	testscript.Main(removingBuilt{m}, map[string]func(){
		"gridstudy": func() { os.Exit(mainCode()) },
	})
}

// removingBuilt runs the tests, then removes the gridstudy binary that
// buildGridstudy built for them: testscript.Main exits the process, so no
// code after it would run.
type removingBuilt struct{ m *testing.M }

func (r removingBuilt) Run() int {
	code := r.m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	return code
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// A stand-in scontrol keeps plans independent of any cluster on
		// the test machine; scripts set FAKE_MAX_ARRAY_SIZE to vary it.
		Setup: func(e *testscript.Env) error {
			bin := filepath.Join(e.WorkDir, ".bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				return err
			}
			script := "#!/bin/sh\necho \"MaxArraySize            = ${FAKE_MAX_ARRAY_SIZE:-1001}\"\n"
			if err := os.WriteFile(filepath.Join(bin, "scontrol"), []byte(script), 0o755); err != nil {
				return err
			}
			e.Setenv("PATH", bin+string(os.PathListSeparator)+e.Getenv("PATH"))
			fixtures, err := filepath.Abs("../../internal/metrics/testdata")
			if err != nil {
				return err
			}
			e.Setenv("METRICS_TESTDATA", fixtures)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"manifest": cmdManifest,
			"shards":   cmdShards,
		},
	})
}

// cmdManifest prints a study's manifest as lines of
// index run_id seed dir model trial and name=value parameters, so that
// scripts can compare manifests with cmp.
func cmdManifest(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: manifest DIR")
	}
	entries, err := manifest.Read(ts.MkAbs(args[0] + "/manifest.parquet"))
	if neg {
		if err == nil {
			ts.Fatalf("manifest read unexpectedly")
		}
		return
	}
	ts.Check(err)
	for _, e := range entries {
		var params []string
		for k, v := range e.Params {
			params = append(params, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(params)
		fmt.Fprintf(ts.Stdout(), "%d %s %d %s %s %d %s\n", e.Index, e.RunID, e.Seed, e.Dir, e.Model, e.Trial, strings.Join(params, " "))
	}
}
