package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/command"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/metrics"
	"github.com/gridstudy/gridstudy/internal/metricslog"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

// collectMetrics gathers the run's final metrics and history. Precedence,
// lowest first: image metrics the runner computes from [metrics] truth and
// recon, then metrics.json, then the JSON lines, later lines over earlier
// ones. The JSON lines win because they are the run protocol's explicit
// channel; metrics.json is often a framework's summary file.
//
// Only an attempt whose metrics files were set up afresh (freshMetricsFiles)
// reads them: otherwise they are an earlier attempt's, in its shard already.
// Both are read with metricslog's size cap and only as regular files; one
// that is refused fails the attempt, with the reason in the error column,
// since the run's results cannot be known.
func (r *record) collectMetrics() {
	rep := &metricslog.Report{}
	var obj map[string]any
	if r.metricsReady {
		read := func(path string) (*metricslog.Report, error) {
			return metricslog.ReadFile(path, metricslog.MaxFileSize)
		}
		if r.job.Stage != nil {
			read = readStageMetrics
		}
		lines, err := read(filepath.Join(r.runDir, MetricsFile))
		switch {
		case err == nil:
			rep = lines
		case errors.Is(err, fs.ErrNotExist):
			// The command removed the file: it reported nothing there.
		default:
			r.fail("%v", err)
		}
		b, err := metricslog.ReadAll(filepath.Join(r.runDir, FinalMetricsFile), metricslog.MaxFileSize)
		if err == nil {
			obj, err = metricslog.ParseObject(b)
			if err != nil {
				rep.BadLines++
				if rep.BadLines == 1 {
					rep.FirstBad = fmt.Sprintf("%s: %v", FinalMetricsFile, err)
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			r.fail("%v", err)
		}
	}
	final := &metricslog.Report{}
	if r.exitCode == 0 && r.stop == nil && r.job.Stage == nil {
		final.MergeFinal(r.imageMetrics())
	}
	final.MergeFinal(obj)
	final.MergeFinal(rep.Final)
	rep.Final = final.Final
	rep.DroppedNames += final.DroppedNames
	if rep.Dropped > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d string value(s) in metrics history dropped: history holds numbers", rep.Dropped))
	}
	if rep.DroppedNames > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d metric value(s) dropped: a run keeps at most %d final metrics", rep.DroppedNames, metricslog.MaxMetrics))
	}
	r.metrics = rep
}

// imageMetrics computes the study's [metrics], truth against recon at the
// paths rendered for this run, after a successful command. Metrics that
// cannot be computed (a path that does not render, a missing or unreadable
// array, shapes or types that differ) fail the run, with the reason in its
// error: a run whose quality is unknown is not done, or a study could end
// with every run ok and no quality metric at all.
func (r *record) imageMetrics() map[string]any {
	out, err := imageMetrics(r.job.Study, r.data)
	if err != nil {
		r.fail("image metrics: %v", err)
		return nil
	}
	return out
}

// imageMetrics computes the study's [metrics] for the run whose command
// data is d, with the convention in the column metrics_convention; nil
// when the study has no [metrics].
func imageMetrics(st *study.Study, d command.Data) (map[string]any, error) {
	if st.Metrics.Truth == "" {
		return nil, nil
	}
	truth, recon, err := st.MetricPaths(d)
	if err != nil {
		return nil, err
	}
	opts := metrics.Options{Convention: metrics.Convention(st.Metrics.Convention)}
	conv, err := opts.EffectiveConvention()
	if err != nil {
		return nil, err
	}
	m, err := metrics.CompareFiles(truth, recon, opts)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out["metrics_convention"] = string(conv)
	return out, nil
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

// build returns the attempt's result and its shard row: the run's row
// under its schema (RunColumns, parameters, metrics) and its history rows.
func (r *record) build() (Result, shard.TaskRow) {
	job := r.job
	id := job.Entry.RunID
	names, renamed := metricNames(job, r.metrics)
	for _, m := range renamed {
		r.notes = append(r.notes, fmt.Sprintf("metric %q stored as %q: %s", m.Name, m.Column, m.Why))
	}
	metricCols, metricVals := metricColumns(r.metrics.Final, names)
	res := Result{RunID: id, Status: r.status(), Attempt: r.attempt,
		ExitCode: r.exitCode, Signal: r.signal, Wall: r.finished.Sub(r.started), LastStderr: r.lastStderr, Error: r.errorText()}
	tr := shard.TaskRow{Key: shard.Key{RunID: id, Attempt: r.attempt}}
	for _, p := range r.metrics.History {
		tr.History = append(tr.History, []any{id, p.Step, names[p.Name], p.Value})
	}
	params := manifest.ParamColumns(job.Study)
	tr.Schema = append(append(shard.RunColumns(), params...), metricCols...)
	row := make([]any, 0, len(tr.Schema))
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
		int64(r.metrics.BadLines), job.Version, nilIfEmpty(r.stderrTail))
	for _, c := range params {
		row = append(row, job.Entry.Params[c.Name])
	}
	tr.Row = append(row, metricVals...)
	return res, tr
}

// writeShards writes the attempt's history shard, then its run shard, in
// root's shards folder and returns the run shard's path. History goes
// first so that whoever sees the run shard sees its history complete.
func writeShards(root string, tr shard.TaskRow) (string, error) {
	id := tr.RunID
	if len(tr.History) > 0 {
		err := table.WriteFile(shard.HistoryPath(root, id, tr.Attempt), shard.HistoryColumns(), func(w *table.Writer) error {
			for _, h := range tr.History {
				if err := w.Write(h); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("run %s: history shard: %w", id, err)
		}
	}
	path := shard.Path(root, id, tr.Attempt)
	if err := table.WriteFile(path, tr.Schema, func(w *table.Writer) error { return w.Write(tr.Row) }); err != nil {
		return "", fmt.Errorf("run %s: shard: %w", id, err)
	}
	return path, nil
}

// metricNames maps each metric the run reported, final or history, to its
// column (shard.MetricColumns), and lists those stored under another name:
// renaming keeps the value, where refusing it or overwriting the column
// would lose something. History names go through the same mapping so that
// a metric has one spelling in both shards.
func metricNames(job Job, rep *metricslog.Report) (map[string]string, []shard.Renamed) {
	seen := make(map[string]bool, len(rep.Final))
	for n := range rep.Final {
		seen[n] = true
	}
	for _, p := range rep.History {
		seen[p.Name] = true
	}
	var params []string
	for _, c := range manifest.ParamColumns(job.Study) {
		params = append(params, c.Name)
	}
	return shard.MetricColumns(slices.Collect(maps.Keys(seen)), params)
}

// metricColumns types the final metrics, under their columns (names) and
// sorted by them: numbers DOUBLE, booleans BOOL, strings STRING.
func metricColumns(final map[string]any, names map[string]string) (table.Schema, []any) {
	var cols table.Schema
	var vals []any
	for _, n := range slices.SortedFunc(maps.Keys(final), func(a, b string) int { return strings.Compare(names[a], names[b]) }) {
		v := final[n]
		kind := table.Double
		switch v.(type) {
		case bool:
			kind = table.Bool
		case string:
			kind = table.String
		}
		cols = append(cols, table.Column{Name: names[n], Kind: kind})
		vals = append(vals, v)
	}
	return cols, vals
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
