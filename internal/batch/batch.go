// Package batch submits a study's runs to SLURM as array jobs: the first
// submission, resubmission of lost runs, and the feeder jobs that keep a
// study going under a cap on queued jobs.
package batch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
)

// maxIndexList is SLURM's limit on the length of an --array value.
const maxIndexList = 4096

// Request says what to submit.
type Request struct {
	Dir     string // absolute study directory
	Study   *study.Study
	Indices []int // manifest indices of the runs to submit
	// Stages are the study's stages in plan order; StageTasks the task
	// indices of each (by name) to submit; Known what the shards and the
	// queue say of the stage tasks and runs not submitted now, on which
	// those submitted may depend.
	Stages     *stage.Plan
	StageTasks map[string][]int
	Known      Known
	DryRun     bool
	Collect    bool // queue the collector after the arrays
	Out        io.Writer
}

// Submit submits the stage tasks and runs of req as arrays: first the
// tasks of each before-runs stage, then the runs, then the tasks of each
// after-runs stage, one sbatch call per chunk and set of dependencies
// (more when an index list would pass SLURM's 4096-byte limit), recording
// each in the journal. It returns how many of req.Indices it submitted.
//
// Runs wait for their stage tasks (afterok, see deps), after-runs stage
// tasks for their groups' runs (afterany).
//
// With [slurm] max_concurrent, the arrays of the study run one after
// another: each new array waits (afterany) for the study's arrays still in
// the queue, so that the throttle %max_concurrent of the one array that
// runs holds for the whole study, across chunks, stages, resumes and
// feeders.
//
// With [slurm] max_queued it submits only what fits beside the user's
// queued jobs (stage tasks count as tasks, and go first) and queues a
// feeder job that resumes the study later; the feeder always waits for
// something (see feederWait), so that a full queue costs one sbatch call
// per wait, not a loop.
func Submit(ctx context.Context, c *slurm.Client, req Request) (runs int, err error) {
	layout, err := slurm.ReadLayout(req.Dir)
	if err != nil {
		return 0, err
	}
	s := req.Study.Slurm
	if req.Stages == nil {
		req.Stages = &stage.Plan{}
	}
	j := slurm.OpenJournal(req.Dir)
	subs, err := j.Read()
	if err != nil {
		return 0, err
	}
	self := os.Getenv("SLURM_JOB_ID") // set when a feeder job runs this
	var live liveJobs
	if !req.DryRun && (s.MaxConcurrent > 0 || s.MaxQueued > 0 || req.Collect) {
		if live, err = studyQueue(ctx, c, subs, self); err != nil {
			return 0, err
		}
	}
	sub := &submitter{ctx: ctx, c: c, req: req, j: j, layout: layout, budget: -1, after: live.arrays,
		stageJob: map[TaskRef]string{}, runJob: map[int]string{}, dryRuns: map[string]int{}}
	var userJobs []slurm.UserJob
	if cap := int(s.MaxQueued); cap > 0 {
		if !req.DryRun {
			all, err := c.UserJobs(ctx)
			if err != nil {
				return 0, fmt.Errorf("count queued jobs for max_queued: %w", err)
			}
			for _, uj := range all {
				// The feeder running this ends in a moment.
				if uj.ID != self && !ended(uj.State) {
					userJobs = append(userJobs, uj)
				}
			}
		}
		// Keep one slot for the feeder job itself.
		sub.budget = max(cap-len(userJobs)-1, 0)
	}
	if !req.DryRun && (len(req.Indices) > 0 || len(req.StageTasks) > 0) {
		// The runner's grace after SIGTERM must end before SLURM's SIGKILL;
		// the cluster says when, once per submit.
		if lim, ok := slurm.ClusterLimits(ctx); ok && lim.KillWait > 0 {
			sub.env = []string{fmt.Sprintf("%s=%d", slurm.KillWaitEnv, int(lim.KillWait/time.Second))}
		}
	}
	if err := sub.all(); err != nil {
		return sub.runs, err
	}
	runs = sub.runs
	if sub.leftRuns > 0 || sub.leftStage > 0 {
		left := countLeft(sub.leftRuns, sub.leftStage)
		if s.MaxQueued <= 0 {
			// Only a stage task that can be neither waited for nor
			// submitted holds work back without max_queued.
			fmt.Fprintf(req.Out, "%s held back: a stage task they need is neither ok, queued nor submitted\n", left)
			return runs, nil
		}
		fmt.Fprintf(req.Out, "max_queued %d: %d of your jobs queued, %s left for a feeder job\n",
			s.MaxQueued, len(userJobs), left)
		if live.feeder != "" {
			fmt.Fprintf(req.Out, "the feeder job %s already waits to submit them\n", live.feeder)
			return runs, nil
		}
		args := []string{"resume", req.Dir}
		if req.Collect {
			args = append(args, "--collect")
		}
		w := feederWait(slices.Concat(live.arrays, sub.arrayIDs), userJobs, idleFeeders(subs))
		return runs, helperJob(ctx, c, req, "feeder", w, args)
	}
	if req.Collect {
		// After every array of the study, not only those just submitted:
		// a feeder's last round runs beside arrays of earlier rounds.
		w := wait{why: "for nothing: the study has no array queued"}
		if all := slices.Concat(live.arrays, sub.arrayIDs); len(all) > 0 {
			w = wait{dependency: "afterany:" + strings.Join(all, ":"), why: "until job " + strings.Join(all, ", ") + " ended"}
		}
		return runs, helperJob(ctx, c, req, "collect", w, []string{"collect", req.Dir})
	}
	return runs, nil
}

// countLeft says what was held back: "3 runs", "2 stage tasks" or both.
func countLeft(runs, stageTasks int) string {
	var parts []string
	if runs > 0 || stageTasks == 0 {
		parts = append(parts, fmt.Sprintf("%d run%s", runs, plural(runs)))
	}
	if stageTasks > 0 {
		parts = append(parts, fmt.Sprintf("%d stage task%s", stageTasks, plural(stageTasks)))
	}
	return strings.Join(parts, " and ")
}

// countRuns says how many tasks and runs an array holds: "3 tasks", or
// "3 tasks, 5 runs" when tasks pack several runs.
func countRuns(tasks, runs int) string {
	out := fmt.Sprintf("%d task%s", tasks, plural(tasks))
	if runs != tasks {
		out += fmt.Sprintf(", %d run%s", runs, plural(runs))
	}
	return out
}

// liveJobs is what the queue holds of a study.
type liveJobs struct {
	arrays []string // array job ids with tasks still queued, in journal order
	feeder string   // a feeder job waiting to start, other than the caller
}

// studyQueue asks squeue (once) which of the study's arrays and feeder
// jobs are still queued. self, the job running this, is no waiting feeder.
func studyQueue(ctx context.Context, c *slurm.Client, subs []slurm.Submission, self string) (liveJobs, error) {
	var helpers []slurm.Submission
	for _, s := range subs {
		if s.Kind == "array" || s.Kind == "stage" || s.Kind == "feeder" {
			helpers = append(helpers, s)
		}
	}
	tasks, err := c.Queue(ctx, slurm.JobIDs(helpers))
	if err != nil {
		return liveJobs{}, fmt.Errorf("ask squeue for the study's queued jobs: %w", err)
	}
	// A reused job id names somebody else's job: Claim leaves it out.
	own, _ := slurm.Claim(helpers, tasks)
	queued := map[string]slurm.Task{}
	for _, t := range own {
		if !ended(t.State) {
			queued[t.Sub.JobID] = t.Task
		}
	}
	var live liveJobs
	for _, s := range slurm.JobIDs(helpers) { // the journal's order
		t, ok := queued[s]
		switch {
		case !ok:
		case t.TaskID >= 0:
			live.arrays = append(live.arrays, s)
		case s != self && t.State == "PENDING":
			live.feeder = s
		}
	}
	return live, nil
}

// ended reports whether squeue lists a job that has ended but not yet
// left the queue (COMPLETING, or a finished state under MinJobAge): it
// takes no slot, and a dependency on it would be met at once.
func ended(state string) bool {
	switch state {
	case "COMPLETING", "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
		"DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT":
		return true
	}
	return false
}

// Feeder backoff: a feeder that could submit nothing and has no array of
// the study to wait for starts no sooner than feederBackoff after it was
// queued, doubling with each such feeder in a row, up to maxFeederBackoff.
const (
	feederBackoff    = 30 * time.Second
	maxFeederBackoff = 16 * time.Minute
)

// wait is what a helper job waits for before it starts.
type wait struct {
	dependency string        // --dependency value; "" for none
	begin      time.Duration // --begin=now+N; 0 for none
	why        string        // for the user: "until ..."
}

// feederWait decides what a feeder job waits for, so that it never starts
// before something changed:
//   - the study's queued arrays (arrays), any one of them ending: that
//     frees queue slots and may lose runs to resubmit;
//   - else, the queue being full of the user's other jobs (user), the
//     oldest running one of them ending (else the oldest queued), and in
//     any case a delay that doubles with each feeder in a row that found
//     the queue full (idle, from the journal), so that even a queue that
//     refills as fast as it drains costs few sbatch calls.
func feederWait(arrays []string, user []slurm.UserJob, idle int) wait {
	if len(arrays) > 0 {
		deps := make([]string, len(arrays))
		for i, a := range arrays {
			deps[i] = "afterany:" + a
		}
		return wait{dependency: strings.Join(deps, "?"), why: "until one of the study's arrays (job " + strings.Join(arrays, ", ") + ") ends"}
	}
	w := wait{begin: maxFeederBackoff}
	if idle < 6 { // 30 s << 5 = 16 min
		w.begin = min(feederBackoff<<idle, maxFeederBackoff)
	}
	w.why = fmt.Sprintf("at least %s", w.begin)
	var oldest *slurm.UserJob
	for i, uj := range user {
		if oldest == nil || older(uj, *oldest) {
			oldest = &user[i]
		}
	}
	if oldest != nil {
		w.dependency = "afterany:" + oldest.ID
		w.why = fmt.Sprintf("until your job %s (%s, the oldest of %d queued) ends, and %s", oldest.ID,
			strings.ToLower(oldest.State), len(user), w.why)
	}
	return w
}

// older reports whether the feeder should rather wait for a than for b: a
// running job before a pending one (it has a time limit, a pending one may
// be held), then the one submitted first, then, within the second that
// squeue shows, the lower job id.
func older(a, b slurm.UserJob) bool {
	if ar, br := a.State == "RUNNING", b.State == "RUNNING"; ar != br {
		return ar
	}
	if !a.Submit.Equal(b.Submit) {
		return a.Submit.Before(b.Submit)
	}
	an, aerr := strconv.Atoi(strings.SplitN(a.ID, "_", 2)[0])
	bn, berr := strconv.Atoi(strings.SplitN(b.ID, "_", 2)[0])
	return aerr == nil && berr == nil && an < bn
}

// idleFeeders counts the feeder jobs at the end of the journal, after the
// last array: how many feeders in a row found nothing to submit (the first
// of them was queued after an array, as usual).
func idleFeeders(subs []slurm.Submission) int {
	n := 0
	for i := len(subs) - 1; i >= 0; i-- {
		switch subs[i].Kind {
		case "array", "stage":
			return n
		case "feeder":
			n++
		}
	}
	return n
}

// helperJob queues a small job that runs gridstudy (resume or collect)
// once w is met, with the study's partition and account.
func helperJob(ctx context.Context, c *slurm.Client, req Request, kind string, w wait, args []string) error {
	bin := filepath.Join(req.Dir, "bin", "gridstudy")
	wrap := "exec " + shellJoin(append([]string{bin}, args...))
	logs, err := slurm.FilenamePattern(filepath.Join(req.Dir, "logs")) // % in the study's path
	if err != nil {
		return err
	}
	opts := []string{"--time=00:30:00", "--mem=1G", "--cpus-per-task=1",
		"--output=" + logs + "/" + kind + "_%j.out"}
	if w.dependency != "" {
		opts = append(opts, "--dependency="+w.dependency)
	}
	if w.begin > 0 {
		opts = append(opts, fmt.Sprintf("--begin=now+%d", int(w.begin/time.Second)))
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
	sub, err := slurm.OpenJournal(req.Dir).Submit(ctx, c, slurm.Submission{Kind: kind, Name: slurm.JobName(req.Study) + "-" + kind},
		nil, "--wrap="+wrap, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(req.Out, "queued the %s job %s; it waits %s\n", kind, sub.JobID, w.why)
	return nil
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
