package runner

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/shard"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.Local)
	end := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	scontrol := func(out string, err error) func(string) (string, error) {
		return func(string) (string, error) { return out, err }
	}
	tests := []struct {
		name     string
		sig      os.Signal
		env      map[string]string
		scontrol func(string) (string, error)
		want     string
	}{
		{"ctrl-c", syscall.SIGINT, nil, nil, shard.StatusCancelled},
		{"usr1 without end time", syscall.SIGUSR1, nil, nil, shard.StatusTimeout},
		{"usr1 before the limit", syscall.SIGUSR1, map[string]string{"SLURM_JOB_END_TIME": end(150 * time.Second)}, nil, shard.StatusTimeout},
		{"usr1 long before the limit", syscall.SIGUSR1, map[string]string{"SLURM_JOB_END_TIME": end(time.Hour)}, nil, shard.StatusPreempted},
		{"term outside slurm", syscall.SIGTERM, nil, nil, shard.StatusCancelled},
		{"term at the limit", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_END_TIME": end(-time.Second)}, nil, shard.StatusTimeout},
		{"scancel", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_END_TIME": end(time.Hour)},
			scontrol("JobId=9 JobName=x JobState=CANCELLED Reason=None EndTime=2026-05-01T12:00:00", nil), shard.StatusCancelled},
		{"preempted state", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9"},
			scontrol("JobId=9 JobState=PREEMPTED Reason=None", nil), shard.StatusPreempted},
		{"preemption grace", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_END_TIME": end(time.Hour)},
			scontrol("JobId=9 JobState=RUNNING EndTime=2026-05-01T12:05:00", nil), shard.StatusPreempted},
		{"running, end unchanged", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_END_TIME": end(time.Hour)},
			scontrol("JobId=9 JobState=RUNNING EndTime=2026-05-01T13:00:00", nil), shard.StatusCancelled},
		{"no scontrol", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9"}, scontrol("", errors.New("not found")), shard.StatusCancelled},
		// scontrol requeue: the batch shell gets SIGTERM while the job is
		// COMPLETING with one more restart than it started with.
		{"requeued", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9"},
			scontrol("JobId=9 JobState=COMPLETING Reason=None Requeue=1 Restarts=1", nil), shard.StatusPreempted},
		{"requeued again", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_RESTART_COUNT": "1"},
			scontrol("JobId=9 JobState=COMPLETING Restarts=2", nil), shard.StatusPreempted},
		{"scancel after a requeue", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_RESTART_COUNT": "1"},
			scontrol("JobId=9 JobState=CANCELLED Restarts=1", nil), shard.StatusCancelled},
		// A requeue 90 s before the end is no time limit, even when the
		// end time is known.
		{"requeued near the end", syscall.SIGTERM, map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_END_TIME": end(90 * time.Second)},
			scontrol("JobId=9 JobState=COMPLETING Restarts=1 EndTime=2026-05-01T12:01:30", nil), shard.StatusPreempted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classifier{Getenv: func(k string) string { return tt.env[k] }, Now: func() time.Time { return now }, Scontrol: tt.scontrol}
			s := c.Classify(tt.sig)
			if s.Status != tt.want || s.Signal != tt.sig {
				t.Errorf("Classify(%v) = %+v, want status %s and the same signal", tt.sig, s, tt.want)
			}
		})
	}
}

// The warning's lead decides how early a SIGUSR1 still means the time
// limit: under a long signal_before it is not taken for preemption.
func TestClassifyLead(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.Local)
	for _, tt := range []struct {
		lead, left time.Duration
		want       string
	}{
		{0, 150 * time.Second, shard.StatusTimeout},
		{0, 250 * time.Second, shard.StatusPreempted},
		{12 * time.Second, 42 * time.Second, shard.StatusTimeout},
		{12 * time.Second, 150 * time.Second, shard.StatusPreempted},
		{10 * time.Minute, 11 * time.Minute, shard.StatusTimeout},
	} {
		env := map[string]string{"SLURM_JOB_END_TIME": strconv.FormatInt(now.Add(tt.left).Unix(), 10)}
		c := Classifier{Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return now }, Lead: tt.lead}
		if got := c.Classify(syscall.SIGUSR1).Status; got != tt.want {
			t.Errorf("lead %s, SIGUSR1 %s before the end: %s, want %s", tt.lead, tt.left, got, tt.want)
		}
	}
}

func TestClusterGrace(t *testing.T) {
	for v, want := range map[string]time.Duration{"": DefaultGrace, "x": DefaultGrace, "0": DefaultGrace,
		"30": 20 * time.Second, "5": 5 * time.Second * 2 / 3} {
		if got := ClusterGrace(func(string) string { return v }); got != want {
			t.Errorf("ClusterGrace with KillWait %q = %s, want %s", v, got, want)
		}
	}
}

func TestParseStat(t *testing.T) {
	line := []byte("4242 (my (odd) cmd) S 1 4200 4200 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 100 12345678 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n")
	pgid, rss, ok := parseStat(line)
	if !ok || pgid != 4200 || rss != 2500 {
		t.Errorf("parseStat = %d, %d, %v; want 4200, 2500, true", pgid, rss, ok)
	}
	if _, _, ok := parseStat([]byte("1 (x) S 1")); ok {
		t.Error("parseStat of a short line succeeded")
	}
}

func TestParseGPU(t *testing.T) {
	got := parseGPU([]byte("123, 2048\n456, [N/A]\n123, 100\nbad\n"))
	if len(got) != 1 || got[123] != 2148 {
		t.Errorf("parseGPU = %v, want map[123:2148]", got)
	}
}
