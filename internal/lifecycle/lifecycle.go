// Package lifecycle holds the one rule that decides where a run stands:
// from what is known of its attempts (and, on SLURM, of its queued task),
// its state and which attempt is its result. The runner (skip or run), the
// local executor (retry), status, resume, cancel and collect all ask this
// package, so that no two verbs can disagree about a run.
//
// The rule, written down for users in docs/run-protocol.md:
//
//   - Attempts are numbered 1, 2, …; an attempt either finished, and wrote
//     a shard with its status, or left only its claim. A claim whose lock is
//     held belongs to a live runner; one whose lock is free belongs to a
//     runner that died (SIGKILL, a dead node) and counts for nothing but its
//     number.
//   - A run's result is its latest finished attempt, whatever its outcome.
//     An ok run is run again only when forced (exec --force), and then the
//     new attempt is the result even when it fails.
//   - Its state is running while an attempt later than the result is live
//     (a packed task holds a finished attempt's claim until its task shard
//     is in place, a moment after the row is); else ok when the result is
//     ok; else pending or running as the queue says, when its
//     task is queued; else the result's status; else missing.
package lifecycle

import "github.com/gridstudy/gridstudy/internal/shard"

// The states a run can be in besides the statuses a shard records.
const (
	Running = "running"
	Pending = "pending"
	Missing = "missing"
)

// States lists every state in the order reports show them.
var States = []string{shard.StatusOK, shard.StatusFailed, shard.StatusCancelled, shard.StatusTimeout,
	shard.StatusPreempted, Running, Pending, Missing}

// Attempt is what is known of one attempt of a run.
type Attempt struct {
	Number int
	// Status is the status its shard records; "" when it has no shard.
	// An unreadable shard is a failed attempt (shard.StatusFailed): the
	// run must not look done, and resume --failed may retry it.
	Status string
	// Live is set when a runner holds the attempt's claim right now.
	Live bool
}

// Queued is what the scheduler's queue says of a run's task; the zero
// value means the task is not queued.
type Queued struct {
	// State is squeue's state (PENDING, RUNNING, …); "" when not queued.
	State string
}

// Decision is where a run stands.
type Decision struct {
	State string
	// Result is the number of the attempt whose shard is the run's
	// result, 0 when no attempt finished; ResultStatus is its status.
	Result       int
	ResultStatus string
	// Attempts counts every attempt, finished, live or dead.
	Attempts int
}

// Decide applies the rule to a run's attempts (in any order) and its
// queued task.
func Decide(attempts []Attempt, q Queued) Decision {
	var d Decision
	for _, a := range attempts {
		d.Attempts = max(d.Attempts, a.Number)
		if a.Status != "" && a.Number > d.Result {
			d.Result, d.ResultStatus = a.Number, a.Status
		}
	}
	live := false
	for _, a := range attempts {
		live = live || (a.Live && a.Number > d.Result)
	}
	switch {
	case live:
		d.State = Running
	case d.ResultStatus == shard.StatusOK:
		d.State = shard.StatusOK
	case q.State != "":
		d.State = queueState(q.State)
	case d.ResultStatus != "":
		d.State = d.ResultStatus
	default:
		d.State = Missing
	}
	return d
}

// queueState maps squeue's state of a queued task to a run state.
func queueState(s string) string {
	switch s {
	case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "CONFIGURING":
		return Pending
	}
	return Running
}

// Done reports whether a run in state needs no more work: it is ok.
func Done(state string) bool { return state == shard.StatusOK }

// Ended reports whether a run in state has a result that is final for
// now: an attempt ended and nothing is running or queued for it.
func Ended(state string) bool {
	switch state {
	case Running, Pending, Missing, "":
		return false
	}
	return true
}

// Lost reports whether resume should submit a run in state again: it was
// lost (missing), stopped from outside (cancelled, timeout, preempted),
// or, with failed set, its own command failed.
func Lost(state string, failed bool) bool {
	switch state {
	case Missing, shard.StatusCancelled, shard.StatusTimeout, shard.StatusPreempted:
		return true
	case shard.StatusFailed:
		return failed
	}
	return false
}

// Retry reports whether the local executor should try a run again at once
// after an attempt ended with status: when the command failed or ran out
// of time, as opposed to being stopped by the user or the machine.
func Retry(status string) bool {
	return status == shard.StatusFailed || status == shard.StatusTimeout
}
