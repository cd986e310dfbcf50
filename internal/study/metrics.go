package study

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/command"
)

// maxTruthProblems bounds the missing truth files a plan lists: a template
// over a misspelt folder would otherwise print one line per cell.
const maxTruthProblems = 10

// resolveMetrics checks the [metrics] paths and makes them absolute. Each
// is a template with the data of the run command (but not shell-quoted:
// it is a path, not shell code); an error or an unknown field is refused
// here, as for the command. A path that renders relative is relative to
// the study file's folder, by base_config's rule: the folder is put in
// front of the template text, so that study.toml in the study directory
// holds an absolute path and runs anywhere read the same files. Whether a
// path is relative is decided by its rendering for the sample run (the
// first value of every parameter), since a template such as
// "{{.RunDir}}/recon.npy" is absolute only once rendered.
func resolveMetrics(ps *problems, st *Study, baseDir string) {
	m := &st.Metrics
	switch {
	case m.Truth == "" && m.Recon == "":
		if m.Convention != "" {
			ps.add("metrics.convention", "a convention without truth and recon computes nothing: give both")
		}
		return
	case m.Truth == "":
		ps.add("metrics.recon", "recon without truth: the metrics compare the two, give both")
		return
	case m.Recon == "":
		ps.add("metrics.truth", "truth without recon: the metrics compare the two, give both")
		return
	}
	m.truthLine = ps.lines.line("metrics.truth")
	sample := SampleData(st)
	for _, f := range []struct {
		key  string
		path *string
	}{{"metrics.truth", &m.Truth}, {"metrics.recon", &m.Recon}} {
		t, err := command.ParseText(f.key, *f.path)
		if err != nil {
			ps.add(f.key, "%v", err)
			continue
		}
		p, err := t.Render(sample)
		switch {
		case err != nil:
			ps.add(f.key, "%v", err)
			continue
		case p == "":
			ps.add(f.key, "%q renders as an empty path", *f.path)
			continue
		case filepath.IsAbs(p):
			continue
		}
		dir := resolvePath(baseDir, "")
		if strings.Contains(dir, "{{") {
			// The folder's name would start an action: put it in as a
			// string constant.
			dir = "{{" + strconv.Quote(dir) + "}}"
		}
		*f.path = dir + string(filepath.Separator) + *f.path
	}
}

// resolvePath is how a path the study file names is found: relative to
// baseDir, the study file's folder, and made absolute.
func resolvePath(baseDir, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// MetricPaths renders the [metrics] truth and recon paths for one run,
// given the data its command sees, cleaned (filepath.Clean) so that
// "{{.StudyDir}}/../truth.npy" names the same file before the study
// directory exists, when plan checks it, as after. A path that renders relative is an
// error: the study file's folder is already part of a path that is
// relative for the sample run, so only one whose relativity depends on the
// values gets here, and no folder can be guessed for it.
func (st *Study) MetricPaths(d command.Data) (truth, recon string, err error) {
	render := func(key, src string) (string, error) {
		t, err := command.ParseText(key, src)
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		p, err := t.Render(d)
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("%s: %q renders as the relative path %q for this run, while the first values of the parameters give an absolute one", key, src, p)
		}
		return filepath.Clean(p), nil
	}
	if truth, err = render("metrics.truth", st.Metrics.Truth); err != nil {
		return "", "", err
	}
	if recon, err = render("metrics.recon", st.Metrics.Recon); err != nil {
		return "", "", err
	}
	return truth, recon, nil
}

// CheckTruth checks, before anything runs, that the [metrics] truth file
// exists for every cell. A truth path that depends on the run itself (its
// trial, seed, run id, folder or config file) names something the run may
// write: it is checked when the run's metrics are computed instead, and
// the run fails there if it is missing. Each distinct path is looked at
// once, so a truth per dataset costs one stat per dataset, not per run.
func (st *Study) CheckTruth(studyDir string, cells []*Cell) error {
	if st.Metrics.Truth == "" {
		return nil
	}
	studyDir = resolvePath(studyDir, "")
	t, err := command.ParseText("metrics.truth", st.Metrics.Truth)
	if err != nil {
		return err // Load refused this already
	}
	file := st.Path
	if file == "" {
		file = "flags"
	}
	inv := &InvalidError{File: file}
	add := func(format string, args ...any) {
		inv.Problems = append(inv.Problems, Problem{Key: "metrics.truth", Line: st.Metrics.truthLine, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	missing := 0
	for _, c := range cells {
		d := st.cellData(c, studyDir)
		p, err := t.Render(d)
		if err != nil {
			add("cell %s: %v", c.Folder, err)
			break
		}
		p = filepath.Clean(p) // as MetricPaths does
		// The same cell as another run of it: a path that changes names
		// a file of the run's own.
		d.Trial, d.Seed, d.RunID, d.RunDir, d.ConfigFile = d.Trial+1, d.Seed+1, d.RunID+"~", d.RunDir+"~", d.ConfigFile+"~"
		if q, err := t.Render(d); err != nil || filepath.Clean(q) != p || seen[p] {
			continue
		}
		seen[p] = true
		msg := ""
		switch fi, err := os.Stat(p); {
		case errors.Is(err, fs.ErrNotExist):
			msg = fmt.Sprintf("truth file %s does not exist", p)
		case err != nil:
			msg = err.Error()
		case !fi.Mode().IsRegular():
			msg = fmt.Sprintf("truth file %s is not a regular file", p)
		default:
			continue
		}
		if missing++; missing <= maxTruthProblems {
			add("%s", msg)
		}
	}
	if missing > maxTruthProblems {
		add("and %d more truth files like these", missing-maxTruthProblems)
	}
	if len(inv.Problems) > 0 {
		return inv
	}
	return nil
}

// cellData is what the templates of a cell's first run see, as far as a
// plan knows it (the config file's extension is the runner's choice).
func (st *Study) cellData(c *Cell, studyDir string) command.Data {
	params := make(map[string]any, len(c.Params))
	for i, p := range c.Params {
		params[p.Name] = c.Values[i].Any()
	}
	r := RunSpec{ID: RunID(c.ID, 1), Cell: c, Trial: 1, Seed: Seed(st.Seed, c.ID, 1)}
	runDir := filepath.Join(studyDir, r.Dir())
	return command.Data{Params: TemplateParams(st, params), Model: c.Model, Trial: r.Trial, Seed: r.Seed,
		RunID: r.ID, CellID: c.ID, RunDir: runDir, StudyDir: studyDir, ConfigFile: filepath.Join(runDir, "config")}
}

// TemplateParams is the .Params that a run's templates (its command, the
// [metrics] paths) see: the fixed settings, then the run's parameters,
// with numbers that print as the user wrote them (1e6, not 1e+06).
func TemplateParams(st *Study, params map[string]any) map[string]any {
	out := make(map[string]any, len(st.Fixed)+len(params))
	for _, s := range st.Fixed {
		out[s.Name] = AsValue(s.Value)
	}
	for k, v := range params {
		out[k] = AsValue(v)
	}
	return out
}

// AsValue wraps a scalar in a Value, whose String prints it the way study
// files write it; other values (tables, arrays) are left as they are.
func AsValue(v any) any {
	switch x := v.(type) {
	case int64:
		return Value{Kind: Int, I: x}
	case float64:
		return Value{Kind: Float, F: x}
	case string:
		return Value{Kind: String, S: x}
	case bool:
		return Value{Kind: Bool, B: x}
	}
	return v
}
