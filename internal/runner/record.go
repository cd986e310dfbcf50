package runner

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/metrics"
	"github.com/gridstudy/gridstudy/internal/metricslog"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// collectMetrics gathers the run's final metrics and history. Precedence,
// lowest first: image metrics the runner computes from [metrics] truth and
// recon, then metrics.json, then the JSON lines, later lines over earlier
// ones. The JSON lines win because they are the run protocol's explicit
// channel; metrics.json is often a framework's summary file. metrics.json
// counts only when this attempt wrote it (modified since it started), so a
// crash never reports an earlier attempt's results.
func (r *record) collectMetrics() {
	rep := &metricslog.Report{Final: map[string]any{}}
	if r.runDir == "" {
		r.metrics = rep
		return
	}
	if f, err := os.Open(filepath.Join(r.runDir, MetricsFile)); err == nil {
		rep, err = metricslog.Read(f)
		f.Close()
		if err != nil {
			r.fail("%v", err)
		}
		if rep.Final == nil {
			rep.Final = map[string]any{}
		}
	}
	lines := rep.Final
	final := map[string]any{}
	if r.exitCode == 0 && r.stop == nil {
		for k, v := range r.imageMetrics() {
			final[k] = v
		}
	}
	jsonPath := filepath.Join(r.runDir, FinalMetricsFile)
	if fi, err := os.Stat(jsonPath); err == nil && !fi.ModTime().Before(r.started.Truncate(time.Second)) {
		b, err := os.ReadFile(jsonPath)
		var obj map[string]any
		if err == nil {
			obj, err = metricslog.ParseObject(b)
		}
		if err != nil {
			rep.BadLines++
			if rep.BadLines == 1 {
				rep.FirstBad = fmt.Sprintf("%s: %v", FinalMetricsFile, err)
			}
		}
		for k, v := range obj {
			final[k] = v
		}
	}
	for k, v := range lines {
		final[k] = v
	}
	rep.Final = final
	if rep.Dropped > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d string value(s) in metrics history dropped: history holds numbers", rep.Dropped))
	}
	r.metrics = rep
}

// imageMetrics computes the study's [metrics] (truth against recon) after
// a successful command. Relative paths are relative to the run folder,
// where the command leaves its outputs. Problems are noted, never fatal: the
// command's own metrics still count.
func (r *record) imageMetrics() map[string]any {
	m := r.job.Study.Metrics
	if m.Truth == "" || m.Recon == "" {
		return nil
	}
	path := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(r.runDir, p)
	}
	truth, err := metrics.ReadNPY(path(m.Truth))
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("image metrics: %v", err))
		return nil
	}
	recon, err := metrics.ReadNPY(path(m.Recon))
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("image metrics: %v", err))
		return nil
	}
	opts := metrics.Options{Convention: metrics.Convention(m.Convention)}
	var results []metrics.Result
	switch t := truth.(type) {
	case metrics.Image:
		rc, ok := recon.(metrics.Image)
		if !ok {
			err = errors.New("truth is real, recon complex")
			break
		}
		var res metrics.Result
		res, err = metrics.Compare(t, rc, opts)
		results = append(results, res)
	case metrics.ComplexImage:
		rc, ok := recon.(metrics.ComplexImage)
		if !ok {
			err = errors.New("truth is complex, recon real")
			break
		}
		var amp, phase metrics.Result
		amp, phase, err = metrics.CompareComplex(t, rc, opts)
		results = append(results, amp, phase)
	default:
		err = fmt.Errorf("unsupported array %T", truth)
	}
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("image metrics: %v", err))
		return nil
	}
	out := map[string]any{}
	for _, res := range results {
		for k, v := range res.Map() {
			out[k] = v
		}
		out["metrics_convention"] = string(res.Convention)
	}
	return out
}

// status decides the attempt's status: a stop the runner made wins over the
// exit status, because a command that exits 0 on SIGTERM still did not
// finish its work.
func (r *record) status() string {
	switch {
	case r.stop != nil:
		return r.stop.Status
	case len(r.errs) == 0 && r.exitCode == 0 && r.signal == "":
		return shard.StatusOK
	}
	return shard.StatusFailed
}

// errorText is the shard's error column: the runner's own problems, why it
// stopped the command, the first malformed metrics line and other notes.
func (r *record) errorText() string {
	parts := append([]string(nil), r.errs...)
	if r.stop != nil && len(r.errs) == 0 {
		s := r.stop.Reason
		if r.killed {
			s += fmt.Sprintf("; killed with SIGKILL after a grace of %s", r.job.Grace)
		}
		parts = append(parts, s)
	}
	if r.metrics.FirstBad != "" {
		parts = append(parts, r.metrics.FirstBad)
	}
	parts = append(parts, r.notes...)
	return strings.Join(parts, "; ")
}

// write writes the history shard, then the run shard, and returns the
// result. History goes first so that whoever sees the run shard sees its
// history complete.
func (r *record) write() (Result, error) {
	job := r.job
	id := job.Entry.RunID
	metricCols, metricVals, renamed := metricColumns(job, r.metrics.Final)
	r.notes = append(r.notes, renamed...)
	res := Result{RunID: id, Status: r.status(), Attempt: r.attempt, Shard: shard.Path(job.StudyDir, id, r.attempt),
		ExitCode: r.exitCode, Signal: r.signal, Wall: r.finished.Sub(r.started), LastStderr: r.lastStderr, Error: r.errorText()}
	if h := r.metrics.History; len(h) > 0 {
		err := table.WriteFile(shard.HistoryPath(job.StudyDir, id, r.attempt), shard.HistoryColumns(), func(w *table.Writer) error {
			for _, p := range h {
				if err := w.Write([]any{id, p.Step, p.Name, p.Value}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("run %s: history shard: %w", id, err)
		}
	}
	schema := shard.RunColumns()
	params := manifest.ParamColumns(job.Study)
	schema = append(append(schema, params...), metricCols...)
	row := make([]any, 0, len(schema))
	var exitCode, signal, gpu, slurmJob, slurmArrayJob, slurmTask any
	if r.exitCode >= 0 {
		exitCode = int64(r.exitCode)
	}
	if r.signal != "" {
		signal = r.signal
	}
	if r.gpuMB != nil {
		gpu = *r.gpuMB
	}
	slurmJob, slurmArrayJob, slurmTask = envOrNil("SLURM_JOB_ID"), envOrNil("SLURM_ARRAY_JOB_ID"), envOrNil("SLURM_ARRAY_TASK_ID")
	host, _ := os.Hostname()
	var model any
	if job.Entry.Model != "" {
		model = job.Entry.Model
	}
	row = append(row,
		id, job.Entry.CellID, model, int64(job.Entry.Trial), job.Entry.Seed, int64(r.attempt), res.Status,
		exitCode, signal, res.Wall.Seconds(), r.cpu.Seconds(), float64(r.rssBytes)/(1<<20), gpu,
		host, slurmJob, slurmArrayJob, slurmTask, r.started.UTC(), r.finished.UTC(), nilIfEmpty(res.Error),
		int64(r.metrics.BadLines), job.Version)
	for _, c := range params {
		row = append(row, job.Entry.Params[c.Name])
	}
	row = append(row, metricVals...)
	if err := table.WriteFile(res.Shard, schema, func(w *table.Writer) error { return w.Write(row) }); err != nil {
		return res, fmt.Errorf("run %s: shard: %w", id, err)
	}
	return res, nil
}

// metricColumns types the final metrics, sorted by name: numbers DOUBLE,
// booleans BOOL, strings STRING. A metric named like a run column or a
// parameter is stored as metric_<name> (metric_metric_<name>, … if that is
// taken too), and a note says so: renaming keeps the value, where refusing
// it or overwriting the column would lose something.
func metricColumns(job Job, final map[string]any) (table.Schema, []any, []string) {
	taken := map[string]bool{}
	for _, c := range shard.RunColumns() {
		taken[c.Name] = true
	}
	for _, c := range manifest.ParamColumns(job.Study) {
		taken[c.Name] = true
	}
	names := slices.Sorted(maps.Keys(final))
	for _, n := range names {
		if !taken[n] {
			taken[n] = true
		}
	}
	var cols table.Schema
	var vals []any
	var notes []string
	for _, n := range names {
		v := final[n]
		kind := table.Double
		switch v.(type) {
		case bool:
			kind = table.Bool
		case string:
			kind = table.String
		}
		col := n
		if isReserved(job, n) {
			col = "metric_" + n
			for taken[col] {
				col = "metric_" + col
			}
			taken[col] = true
			notes = append(notes, fmt.Sprintf("metric %q stored as %q: the name is a run column or parameter", n, col))
		}
		cols = append(cols, table.Column{Name: col, Kind: kind})
		vals = append(vals, v)
	}
	return cols, vals, notes
}

func isReserved(job Job, name string) bool {
	if shard.RunColumns().Index(name) >= 0 {
		return true
	}
	return manifest.ParamColumns(job.Study).Index(name) >= 0
}

func envOrNil(key string) any {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
