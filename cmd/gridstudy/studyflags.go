package main

import (
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// studyFlags are the flags that build or change a study without a file,
// shared by plan, params, run and submit.
type studyFlags struct {
	ov     study.Overrides
	models string
}

func (sf *studyFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&sf.ov.Params, "param", nil, "sweep a parameter: `NAME=V1,V2,...` (repeatable; replaces the file's values)")
	fs.StringArrayVar(&sf.ov.Fixed, "fixed", nil, "fix a value: `NAME=V` (repeatable)")
	fs.StringVar(&sf.models, "models", "", "compare these models: `a,b` (replaces the file's set)")
	fs.IntVar(&sf.ov.Trials, "trials", 0, "trials per cell")
	fs.StringVar(&sf.ov.BaseConfig, "base-config", "", "base config `FILE` (YAML, TOML or JSON) for each run's config")
	fs.StringVar(&sf.ov.Name, "name", "", "study name")
	fs.StringVar(&sf.ov.Command, "command", "", "the run command template")
}

// load reads the study named by args: a study file, a study directory
// (its study.toml), or nothing when flags alone build the study. It
// returns the study and, for a directory, that directory.
func (sf *studyFlags) load(args []string) (*study.Study, string, error) {
	if sf.models != "" {
		sf.ov.Models = strings.Split(sf.models, ",")
	}
	if sf.ov.Trials < 0 {
		return nil, "", usagef("--trials %d: want 1 or more", sf.ov.Trials)
	}
	switch len(args) {
	case 0:
		if len(sf.ov.Params) == 0 && len(sf.ov.Models) == 0 {
			return nil, "", usagef("give a study file or directory, or build one with --param")
		}
		st, err := study.Load("", sf.ov)
		return st, "", err
	case 1:
	default:
		return nil, "", usagef("want one study file or directory, got %d arguments", len(args))
	}
	path := args[0]
	info, err := os.Stat(path)
	if err != nil {
		return nil, "", studydir.Missing(path, "study file or directory", err)
	}
	dir := ""
	if info.IsDir() {
		dir = path
		path = studydir.StudyFilePath(path)
	}
	st, err := studydir.LoadStudy(path, dir, sf.ov)
	return st, dir, err
}
