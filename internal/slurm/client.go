package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"strings"

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
	if c.Calls == nil {
		c.Calls = map[string]int{}
	}
	c.Calls[name]++
	cmd := exec.CommandContext(ctx, name, args...)
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
	out, err := c.run(ctx, "sbatch", append(append([]string{"--parsable"}, args...), script)...)
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
	JobID      string // %i: 123_4 for an array task
	ArrayJobID string // %F
	TaskID     int    // %K; -1 for a job that is no array task
	State      string // PENDING, RUNNING, ...
	Reason     string
}

// Queue lists the pending and running tasks of the given jobs, array tasks
// expanded, with one squeue call. Jobs that finished long enough ago that
// squeue no longer knows them are simply absent.
func (c *Client) Queue(ctx context.Context, jobIDs []string) ([]Task, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	out, err := c.run(ctx, "squeue", "-h", "-r", "-j", strings.Join(jobIDs, ","), "-o", "%i|%F|%K|%T|%r")
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
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 5 {
			return nil, fmt.Errorf("squeue: unexpected line %q", line)
		}
		t := Task{JobID: f[0], ArrayJobID: f[1], TaskID: -1, State: f[3], Reason: f[4]}
		if f[2] != "N/A" && f[2] != "" {
			n, err := fmt.Sscan(f[2], &t.TaskID)
			if n != 1 || err != nil {
				return nil, fmt.Errorf("squeue: unexpected array index in %q", line)
			}
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// Cancel runs scancel on the given job or task ids (123, 123_4).
func (c *Client) Cancel(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.run(ctx, "scancel", ids...)
	return err
}

// QueuedTasks counts the current user's queued tasks (pending and
// running), array tasks one by one: what MaxSubmitJobs counts.
func (c *Client) QueuedTasks(ctx context.Context) (int, error) {
	user := os.Getenv("USER")
	if user == "" {
		if u, err := osuser.Current(); err == nil {
			user = u.Username
		}
	}
	out, err := c.run(ctx, "squeue", "-h", "-r", "-u", user, "-o", "%i")
	if err != nil {
		return 0, err
	}
	return len(strings.Fields(out)), nil
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return templates.ShellQuote(s) }
