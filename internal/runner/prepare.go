package runner

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/command"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/runconfig"
	"github.com/gridstudy/gridstudy/internal/study"
)

// MetricsFile is the name, in the run folder, of the JSON-lines file whose
// path the command finds in GRIDSTUDY_METRICS.
const MetricsFile = "metrics.jsonl"

// FinalMetricsFile is the name of the metrics object a command may leave
// in its run folder instead of (or besides) writing JSON lines.
const FinalMetricsFile = "metrics.json"

// WriteConfig writes the run's own config into runDir and returns its
// path: the study's base config (if any), then the fixed settings, the
// model's overrides and the run's parameters, each at its dotted path, later
// ones winning. The file is config.<ext of the base config>, or config.json
// when the study has none.
func WriteConfig(st *study.Study, e manifest.Entry, runDir string) (string, error) {
	cfg := map[string]any{}
	format, ext := runconfig.JSON, ".json"
	if base := st.Run.BaseConfig; base != "" {
		var err error
		if format, err = runconfig.FormatOf(base); err != nil {
			return "", err
		}
		ext = strings.ToLower(filepath.Ext(base))
		if cfg, err = runconfig.Read(base); err != nil {
			return "", err
		}
	}
	set := func(name string, v any) error {
		if err := runconfig.Set(cfg, name, v); err != nil {
			return fmt.Errorf("run config: %w", err)
		}
		return nil
	}
	for _, s := range st.Fixed {
		if err := set(s.Name, s.Value); err != nil {
			return "", err
		}
	}
	if m := st.Model(e.Model); m != nil {
		for _, s := range m.Overrides {
			if err := set(s.Name, s.Value); err != nil {
				return "", err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(e.Params)) {
		if err := set(name, e.Params[name]); err != nil {
			return "", err
		}
	}
	b, err := runconfig.Encode(cfg, format)
	if err != nil {
		return "", fmt.Errorf("run config: %w", err)
	}
	path := filepath.Join(runDir, "config"+ext)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", fmt.Errorf("run config: %w", err)
	}
	return path, nil
}

// Argv renders the study's command for one run: its model's own command
// when [models.NAME] gives one, else [run]'s. A string command runs under
// bash -c with every substituted value shell-quoted; an args list runs
// without a shell.
func Argv(st *study.Study, d command.Data) ([]string, error) {
	var t *command.Template
	var err error
	cmd, args := st.RunCommand(d.Model)
	switch {
	case cmd != "":
		t, err = command.ParseShell(cmd)
	case len(args) > 0:
		t, err = command.ParseArgs(args)
	default:
		return nil, errors.New("the study has no [run] command or args")
	}
	if err != nil {
		return nil, fmt.Errorf("parse the run command: %w", err)
	}
	argv, err := t.Render(d)
	if err != nil {
		return nil, fmt.Errorf("render the run command: %w", err)
	}
	return argv, nil
}

// templateData is what the command template sees for a run: its parameters
// and the fixed settings (study.TemplateParams, as study.SampleData, which
// checked the template at plan time).
func templateData(st *study.Study, e manifest.Entry, runDir, studyDir, configFile string) command.Data {
	return command.Data{Params: study.TemplateParams(st, e.Params), Model: e.Model, Trial: e.Trial, Seed: e.Seed,
		RunID: e.RunID, CellID: e.CellID, RunDir: runDir, StudyDir: studyDir, ConfigFile: configFile, StudyFileDir: st.FileDir}
}

// environ is the command's environment: the runner's own, then extra, then
// the run protocol's GRIDSTUDY_ variables, later entries winning.
func environ(extra []string, e manifest.Entry, runDir, studyDir, configFile, metricsFile string) []string {
	env := append(os.Environ(), extra...)
	env = append(env,
		"GRIDSTUDY_RUN_ID="+e.RunID,
		"GRIDSTUDY_CELL_ID="+e.CellID,
		"GRIDSTUDY_TRIAL="+strconv.Itoa(e.Trial),
		"GRIDSTUDY_SEED="+strconv.FormatInt(e.Seed, 10),
		"GRIDSTUDY_CONFIG="+configFile,
		"GRIDSTUDY_METRICS="+metricsFile,
		"GRIDSTUDY_RUN_DIR="+runDir,
		"GRIDSTUDY_STUDY_DIR="+studyDir,
	)
	for _, name := range slices.Sorted(maps.Keys(e.Params)) {
		env = append(env, study.ParamEnv(name)+"="+fmt.Sprint(study.AsValue(e.Params[name])))
	}
	return env
}
