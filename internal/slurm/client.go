package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"strconv"
	"strings"
	"time"

	"github.com/gridstudy/gridstudy/templates"
)

// Client runs SLURM's commands. Its zero value uses sbatch, squeue and
// scancel from PATH.
type Client struct {
	// Calls counts the commands run, so tests can check that status asks
	// squeue once.
	Calls map[string]int
}

func (c *Client) run(ctx context.Context, name string, args ...string) (string, error) {
	return c.runEnv(ctx, nil, name, args...)
}

// runEnv runs a command with extra KEY=VALUE entries in its environment.
func (c *Client) runEnv(ctx context.Context, env []string, name string, args ...string) (string, error) {
	if c.Calls == nil {
		c.Calls = map[string]int{}
	}
	c.Calls[name]++
	cmd := exec.CommandContext(ctx, name, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), &CommandError{Name: name, Msg: msg}
		}
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return stdout.String(), nil
}

// CommandError is a SLURM command that ran and failed; Msg is what it
// said, so that the user sees SLURM's own words.
type CommandError struct {
	Name string
	Msg  string
}

func (e *CommandError) Error() string { return e.Name + ": " + e.Msg }

// Submit runs `sbatch --parsable ARGS SCRIPT` and returns the job id.
func (c *Client) Submit(ctx context.Context, script string, args ...string) (string, error) {
	return c.SubmitEnv(ctx, nil, script, args...)
}

// SubmitEnv is Submit with extra KEY=VALUE entries in sbatch's
// environment, which sbatch passes on to the job (its default
// --export=ALL): a way to hand the job what was learnt at submit time.
func (c *Client) SubmitEnv(ctx context.Context, env []string, script string, args ...string) (string, error) {
	out, err := c.runEnv(ctx, env, "sbatch", append(append([]string{"--parsable"}, args...), script)...)
	if err != nil {
		return "", err
	}
	// --parsable prints "jobid" or "jobid;cluster".
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if id == "" || strings.ContainsAny(id, " \n") {
		return "", fmt.Errorf("sbatch: unexpected answer %q", out)
	}
	return id, nil
}

// Task is one array task (or job) as squeue lists it.
type Task struct {
	JobID      string // 123_4 for an array task
	ArrayJobID string // 123
	TaskID     int    // -1 for a job that is no array task
	State      string // PENDING, RUNNING, ...
	Reason     string
	// Name, Submit and Restarts tell whose job this is: a job id alone
	// is reused once slurmctld's state is purged (see Submission.Owns).
	Name     string
	Submit   time.Time // zero when squeue printed none
	Restarts int       // times SLURM requeued it; each requeue resets Submit
}

// queueFormat is squeue's --Format for Queue. The long form, because the
// short one (-o) has no restart count. ":0" turns off padding, and every
// field but the last ends in "|"; the name, which may hold "|", comes last.
const queueFormat = "JobArrayID:0|,ArrayJobID:0|,ArrayTaskID:0|,State:0|,Reason:0|,SubmitTime:0|,RestartCnt:0|,Name:0"

// queueFields is the number of fields of a queueFormat line.
const queueFields = 8

// Queue lists the pending and running tasks of the given jobs, array tasks
// expanded, with one squeue call. Jobs that finished long enough ago that
// squeue no longer knows them are simply absent.
func (c *Client) Queue(ctx context.Context, jobIDs []string) ([]Task, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	out, err := c.run(ctx, "squeue", "-h", "-r", "-j", strings.Join(jobIDs, ","), "-O", queueFormat)
	var ce *CommandError
	if errors.As(err, &ce) && strings.Contains(ce.Msg, "Invalid job id") {
		// Every id has aged out (MinJobAge): nothing is queued.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseQueue(out)
}

func parseQueue(out string) ([]Task, error) {
	var tasks []Task
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "|", queueFields)
		if len(f) != queueFields {
			return nil, fmt.Errorf("squeue: unexpected line %q", line)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		t := Task{JobID: f[0], ArrayJobID: f[1], TaskID: -1, State: f[3], Reason: f[4], Name: f[7]}
		if f[2] != "N/A" && f[2] != "" {
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("squeue: unexpected array index in %q", line)
			}
			t.TaskID = n
		}
		t.Submit = squeueTime(f[5])
		if n, err := strconv.Atoi(f[6]); err == nil {
			t.Restarts = n
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// squeueTime reads a time as squeue prints it: local time (squeue's TZ,
// which is this process's), whole seconds, no zone; zero for anything else
// ("N/A", "Unknown").
func squeueTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Cancel runs scancel on the given job or task ids (123, 123_4).
func (c *Client) Cancel(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.run(ctx, "scancel", ids...)
	return err
}

// UserJob is one of the current user's queued jobs or array tasks.
type UserJob struct {
	ID     string    // %i: 123, or 123_4 for an array task
	State  string    // PENDING, RUNNING, ...
	Submit time.Time // %V; zero when squeue printed none
}

// UserJobs lists the current user's queued jobs, pending and running, array
// tasks one by one: what MaxSubmitJobs counts.
func (c *Client) UserJobs(ctx context.Context) ([]UserJob, error) {
	user := os.Getenv("USER")
	if user == "" {
		if u, err := osuser.Current(); err == nil {
			user = u.Username
		}
	}
	out, err := c.run(ctx, "squeue", "-h", "-r", "-u", user, "-o", "%i|%T|%V")
	if err != nil {
		return nil, err
	}
	return parseUserJobs(out)
}

func parseUserJobs(out string) ([]UserJob, error) {
	var jobs []UserJob
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 3 {
			return nil, fmt.Errorf("squeue: unexpected line %q", line)
		}
		j := UserJob{ID: f[0], State: f[1]}
		j.Submit = squeueTime(f[2])
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return templates.ShellQuote(s) }
