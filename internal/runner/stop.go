package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
)

// Stop says why a run must stop before its command is done. Cancel a run's
// context with a *Stop as its cause (context.WithCancelCause) to choose the
// signal the command gets and the status its shard records; a context
// cancelled any other way stops the command with SIGTERM and records
// cancelled (or timeout for context.DeadlineExceeded).
type Stop struct {
	Status string         // shard.StatusTimeout, StatusPreempted or StatusCancelled
	Signal syscall.Signal // sent first to the command's process group
	Reason string         // for the shard's error column
}

func (s *Stop) Error() string { return s.Reason }

// stopOf returns why ctx was cancelled.
func stopOf(ctx context.Context) *Stop {
	cause := context.Cause(ctx)
	var s *Stop
	switch {
	case errors.As(cause, &s):
		return s
	case errors.Is(cause, context.DeadlineExceeded):
		return &Stop{Status: shard.StatusTimeout, Signal: syscall.SIGTERM, Reason: "deadline exceeded"}
	}
	return &Stop{Status: shard.StatusCancelled, Signal: syscall.SIGTERM, Reason: "cancelled"}
}

// termMargin is how close to the job's end time a SIGTERM must come to be
// SLURM's own kill at the time limit: slurmctld kills at the end time or
// up to 30 s after it (it checks limits every 30 s), never before; the
// margin allows for clocks that differ between nodes.
const termMargin = 30 * time.Second

// warnSlack is how much earlier than its lead the warning signal may come:
// sbatch's manual says up to 60 s (slurmctld's 30-s check), plus clock
// differences between nodes.
const warnSlack = 80 * time.Second

// Classifier turns a signal received by `gridstudy exec` into a Stop. Its
// zero value reads the real environment, clock and scontrol.
//
// SLURM does not say why it signals, so the status is a heuristic:
//   - SIGINT is cancelled (a user's Ctrl-C).
//   - SIGUSR1 is timeout: gridstudy's scripts ask SLURM for it Lead before
//     the time limit. With PreemptParameters=send_user_signal SLURM also
//     sends it on preemption, so a SIGUSR1 that comes when the job's end
//     time is known and still far off (more than Lead + warnSlack) is
//     preempted.
//   - SIGTERM within termMargin of the job's end time is timeout (SLURM's
//     own kill at the limit). Otherwise it is scancel, preemption or a
//     requeue: SLURM preempts by setting the job's end time to now +
//     GraceTime and sending SIGCONT and SIGTERM at once
//     (https://slurm.schedmd.com/preempt.html), and `scontrol requeue`
//     (or a preemption that requeues) sends SIGTERM after counting one
//     more restart. scontrol is asked once: JobState PREEMPTED, REQUEUED
//     or REQUEUE_HOLD, a restart count above the one the job started with
//     (SLURM_RESTART_COUNT, unset on the first start), or an EndTime pulled
//     before the end time the job started with (SLURM_JOB_END_TIME), is
//     preempted; anything else, CANCELLED included, is cancelled.
//
// Outside SLURM (no SLURM_JOB_ID) every SIGTERM is cancelled.
type Classifier struct {
	Getenv func(string) string
	Now    func() time.Time
	// Scontrol returns `scontrol show job -o ID` output; nil runs scontrol
	// with a short timeout.
	Scontrol func(jobID string) (string, error)
	// Lead is how long before the time limit the scripts ask for SIGUSR1
	// (study.Slurm.SignalLead); 0 means 2 minutes.
	Lead time.Duration
}

// Classify returns the Stop for sig.
func (c Classifier) Classify(sig os.Signal) *Stop {
	getenv, now := c.Getenv, c.Now
	if getenv == nil {
		getenv = os.Getenv
	}
	if now == nil {
		now = time.Now
	}
	s, _ := sig.(syscall.Signal)
	name := signalName(s)
	t := now()
	jobID := getenv("SLURM_JOB_ID")
	end, endKnown := unixEnv(getenv("SLURM_JOB_END_TIME"))
	switch s {
	case syscall.SIGINT:
		return &Stop{shard.StatusCancelled, s, name + " received: interrupted"}
	case syscall.SIGUSR1:
		lead := c.Lead
		if lead <= 0 {
			lead = 2 * time.Minute
		}
		if endKnown && end.Sub(t) > lead+warnSlack {
			return &Stop{shard.StatusPreempted, s, fmt.Sprintf("%s received %s before the job's end time: preempted", name, end.Sub(t).Round(time.Second))}
		}
		return &Stop{shard.StatusTimeout, s, name + " received: the job's time limit is near"}
	}
	if endKnown && end.Sub(t) <= termMargin {
		return &Stop{shard.StatusTimeout, s, name + " received at the job's time limit"}
	}
	if jobID == "" {
		return &Stop{shard.StatusCancelled, s, name + " received: cancelled"}
	}
	ask := c.Scontrol
	if ask == nil {
		ask = scontrolShowJob
	}
	out, err := ask(jobID)
	if err != nil {
		return &Stop{shard.StatusCancelled, s, fmt.Sprintf("%s received: cancelled (scontrol could not tell preemption from scancel: %v)", name, err)}
	}
	fields := scontrolFields(out)
	switch fields["JobState"] {
	case "PREEMPTED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED":
		return &Stop{shard.StatusPreempted, s, fmt.Sprintf("%s received: job state %s", name, fields["JobState"])}
	}
	// A requeued job shows COMPLETING (not REQUEUED) while its batch
	// shell gets SIGTERM; only its restart count has moved.
	started, _ := strconv.Atoi(getenv("SLURM_RESTART_COUNT"))
	if n, err := strconv.Atoi(fields["Restarts"]); err == nil && n > started {
		return &Stop{shard.StatusPreempted, s, fmt.Sprintf("%s received: the job was requeued (restart %d); SLURM runs it again", name, n)}
	}
	if newEnd, err := time.ParseInLocation("2006-01-02T15:04:05", fields["EndTime"], time.Local); err == nil &&
		endKnown && fields["JobState"] != "CANCELLED" && end.Sub(newEnd) > termMargin {
		return &Stop{shard.StatusPreempted, s, fmt.Sprintf("%s received: end time moved from %s to %s (preemption grace time)", name,
			end.Format(time.DateTime), newEnd.Format(time.DateTime))}
	}
	return &Stop{shard.StatusCancelled, s, fmt.Sprintf("%s received: cancelled (job state %s)", name, fields["JobState"])}
}

// ClusterGrace is the grace a signalled command gets before SIGKILL in a
// job whose environment (getenv) carries slurm.KillWaitEnv: two thirds of
// KillWait, so that SLURM's own SIGKILL of the whole job, KillWait after
// its SIGTERM, comes after the runner has killed the command and written
// the shard. Without it, DefaultGrace.
func ClusterGrace(getenv func(string) string) time.Duration {
	sec, err := strconv.Atoi(getenv(slurm.KillWaitEnv))
	if err != nil || sec <= 0 {
		return DefaultGrace
	}
	return time.Duration(sec) * time.Second * 2 / 3
}

func unixEnv(v string) (time.Time, bool) {
	sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

func scontrolShowJob(jobID string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "scontrol", "show", "job", "-o", jobID).Output()
	if err != nil {
		return "", fmt.Errorf("scontrol show job %s: %w", jobID, err)
	}
	return string(out), nil
}

// scontrolFields splits `scontrol show job -o` output into its Key=Value
// words. Values with spaces (Command=, Comment=) come out cut, which does
// not matter for the keys read here.
func scontrolFields(out string) map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(out) {
		if k, v, ok := strings.Cut(w, "="); ok {
			if _, seen := m[k]; !seen {
				m[k] = v
			}
		}
	}
	return m
}

// StopOnSignals returns a context that is cancelled with a *Stop (from c)
// when the process receives SIGTERM, SIGINT or SIGUSR1, and a function that
// stops listening. The context does not descend from any context cancelled
// on signals by a caller (main's signal.NotifyContext), because that would
// race the classification with a plain "canceled"; pass
// context.WithoutCancel(ctx) in that case.
func StopOnSignals(parent context.Context, c Classifier) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(c.Classify(sig))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(context.Canceled)
	}
}

// signalName is the conventional name of a signal ("SIGTERM"); Go's own
// String gives "terminated".
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
		syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
		syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGXCPU: "SIGXCPU",
		syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGSYS: "SIGSYS",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return "SIG" + strconv.Itoa(int(s))
}
