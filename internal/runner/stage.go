package runner

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gridstudy/gridstudy/internal/metricslog"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
)

// ForStage is the job of task t of stage s of the study st in the
// absolute studyDir, for exec and the local executor alike. For an
// after-runs task, runs says where each run of its group stands: a group
// with a run that is not ok gives a job that records the task as blocked
// (StageJob.Blocked) instead of running its command.
func ForStage(studyDir string, st *study.Study, s *stage.Stage, t *stage.Task, runs func(index int) string) (Job, error) {
	sj := &StageJob{Name: s.Name, Root: stage.Root(studyDir, s.Name), Argv: t.Argv}
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil {
			return Job{}, fmt.Errorf("stage %s: timeout %q in %s: %w", s.Name, s.Timeout, stage.PlanPath(studyDir), err)
		}
		sj.Timeout = d
	}
	if s.After != "" {
		if why := stage.GroupUnmet(t, runs); why != "" {
			sj.Blocked = stage.BlockedPrefix + why
		}
	}
	// A task whose ok result does not count, its folder being gone, runs
	// again rather than being skipped as ok.
	return Job{StudyDir: studyDir, Study: st, Entry: t.Entry(), Stage: sj, Force: stage.Stale(studyDir, s, t)}, nil
}

// readStageMetrics reads a stage task's metric lines like a run's, except
// that a final line with a "model" string attaches its metrics to that
// model's run of the group: they are stored as NAME@MODEL
// (stage.ModelSep), which collect puts on that run's row.
func readStageMetrics(path string) (*metricslog.Report, error) {
	b, err := metricslog.ReadAll(path, metricslog.MaxFileSize)
	if err != nil {
		return nil, err
	}
	rep := &metricslog.Report{}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if l, err := metricslog.ParseLine(line); err == nil && !l.HasStep {
			if m, ok := l.Values["model"].(string); ok {
				vals := make(map[string]any, len(l.Values))
				for k, v := range l.Values {
					if k != "model" {
						vals[k+stage.ModelSep+m] = v
					}
				}
				rep.MergeFinal(vals)
				continue
			}
		}
		rep.Add(i+1, line)
	}
	return rep, nil
}
