// Package batch submits a study's runs to SLURM as array jobs: the first
// submission, resubmission of lost runs, and the feeder jobs that keep a
// study going under a cap on queued jobs.
package batch

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

// maxIndexList is SLURM's limit on the length of an --array value.
const maxIndexList = 4096

// Request says what to submit.
type Request struct {
	Dir     string // absolute study directory
	Study   *study.Study
	Indices []int // manifest indices of the runs to submit
	DryRun  bool
	Collect bool // queue the collector after the arrays
	Out     io.Writer
}

// Submit submits the runs of req as arrays, one sbatch call per chunk (more
// when an index list would pass SLURM's 4096-byte limit), recording each in
// the journal. With [slurm] max_queued it submits only what fits and queues
// a feeder job that resumes the study once those tasks are done.
func Submit(ctx context.Context, c *slurm.Client, req Request) (submitted int, err error) {
	layout, err := slurm.ReadLayout(req.Dir)
	if err != nil {
		return 0, err
	}
	rpt := layout.RunsPerTask
	tasks := map[int][]int{} // chunk -> task ids
	for _, idx := range req.Indices {
		k, t := layout.Locate(idx)
		tasks[k] = append(tasks[k], t)
	}
	budget := -1
	if cap := int(req.Study.Slurm.MaxQueued); cap > 0 {
		queued := 0
		if !req.DryRun {
			if queued, err = c.QueuedTasks(ctx); err != nil {
				return 0, fmt.Errorf("count queued jobs for max_queued: %w", err)
			}
		}
		// Keep one slot for the feeder job itself.
		budget = max(cap-queued-1, 0)
	}
	j := slurm.OpenJournal(req.Dir)
	var last string
	var arrayIDs []string
	left := 0
	keys := make([]int, 0, len(tasks))
	for k := range tasks {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		ids := tasks[k]
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if budget >= 0 {
			take := min(budget, len(ids))
			left += len(ids) - take
			ids = ids[:take]
			budget -= take
		}
		for _, part := range splitList(ids) {
			spec := slurm.ArraySpec(part, req.Study.Slurm.MaxConcurrent)
			name := slurm.ChunkName(k)
			script := slurm.ScriptPath(req.Dir, name)
			if req.DryRun {
				fmt.Fprintf(req.Out, "sbatch --parsable --array=%s %s\n", spec, script)
				continue
			}
			id, err := c.Submit(ctx, script, "--array="+spec)
			if err != nil {
				return submitted, err
			}
			if err := j.Append(slurm.Submission{JobID: id, Kind: "array", Chunk: name, Offset: layout.Offset(k),
				RunsPerTask: rpt, Tasks: slurm.FormatIndexList(part), Time: time.Now().UTC()}); err != nil {
				return submitted, err
			}
			fmt.Fprintf(req.Out, "submitted %s: job %s, %d task%s\n", name, id, len(part), plural(len(part)))
			last = id
			arrayIDs = append(arrayIDs, id)
			submitted += len(part)
		}
	}
	if left > 0 {
		fmt.Fprintf(req.Out, "max_queued %d: %d task%s left for a feeder job\n", req.Study.Slurm.MaxQueued, left, plural(left))
		args := []string{"resume", req.Dir}
		if req.Collect {
			args = append(args, "--collect")
		}
		return submitted, helperJob(ctx, c, req, "feeder", last, args)
	}
	if req.Collect && len(arrayIDs) > 0 {
		return submitted, helperJob(ctx, c, req, "collect", strings.Join(arrayIDs, ":"), []string{"collect", req.Dir})
	}
	return submitted, nil
}

// helperJob queues a small job that runs gridstudy (resume or collect)
// after the given jobs, with the study's partition and account.
func helperJob(ctx context.Context, c *slurm.Client, req Request, kind, after string, args []string) error {
	bin := filepath.Join(req.Dir, "bin", "gridstudy")
	wrap := "exec " + shellJoin(append([]string{bin}, args...))
	opts := []string{"--job-name=" + req.Study.Name + "-" + kind, "--time=00:30:00", "--mem=1G", "--cpus-per-task=1",
		"--output=" + filepath.Join(req.Dir, "logs", kind+"_%j.out")}
	if after != "" {
		opts = append(opts, "--dependency=afterany:"+after)
	}
	s := req.Study.Slurm
	for flag, v := range map[string]string{"--partition=": s.Partition, "--account=": s.Account, "--qos=": s.QOS} {
		if v != "" {
			opts = append(opts, flag+v)
		}
	}
	sort.Strings(opts)
	if req.DryRun {
		fmt.Fprintf(req.Out, "sbatch --parsable %s --wrap %s\n", strings.Join(opts, " "), slurm.Quote(wrap))
		return nil
	}
	id, err := c.Submit(ctx, "--wrap="+wrap, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(req.Out, "queued the %s job %s after %s\n", kind, id, after)
	return slurm.OpenJournal(req.Dir).Append(slurm.Submission{JobID: id, Kind: kind, Time: time.Now().UTC()})
}

// splitList splits task ids so that each index list stays under SLURM's
// length limit.
func splitList(ids []int) [][]int {
	var out [][]int
	for len(ids) > 0 {
		n := len(ids)
		for len(slurm.FormatIndexList(ids[:n])) > maxIndexList-16 {
			n /= 2
		}
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return out
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = slurm.Quote(a)
	}
	return strings.Join(q, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
