package main

import (
	"context"
	"fmt"
	"os"

	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

// planInto plans st into out (default ./<name>) for verbs that take a study
// file where a study directory would do, and returns the directory.
func planInto(ctx context.Context, st *study.Study, out string, lim slurm.Limits) (string, error) {
	if out == "" {
		out = st.Name
	}
	p, err := plan.New(st, out, lim)
	if err != nil {
		return "", fmt.Errorf("plan %s: %w", st.Name, err)
	}
	bin, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the gridstudy binary to copy: %w", err)
	}
	if err := p.Write(out, version, bin); err != nil {
		return "", fmt.Errorf("plan %s: %w", out, err)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(os.Stderr, "gridstudy: warning: %s\n", w)
	}
	return out, nil
}

// requireCommand refuses to execute a study that says nothing to run: it
// may be planned, but every run would fail.
func requireCommand(st *study.Study) error {
	for _, m := range st.ModelNames() {
		// A model's own command stands in for [run]'s.
		if cmd, args := st.RunCommand(m); cmd == "" && len(args) == 0 {
			return usagef("the study has no [run] command or args: nothing to run (plan works without one)")
		}
	}
	return nil
}
