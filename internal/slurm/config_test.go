package slurm

import (
	"testing"
	"time"
)

func TestParseLimitsKillWait(t *testing.T) {
	for out, want := range map[string]time.Duration{
		"KillWait                = 30 sec\n": 30 * time.Second,
		"KillWait                = 5 sec\n":  5 * time.Second,
		"KillWait                = (null)\n": 0,
		"MaxArraySize            = 20\n":     0,
	} {
		if got := parseLimits([]byte(out)).KillWait; got != want {
			t.Errorf("parseLimits(%q).KillWait = %s, want %s", out, got, want)
		}
	}
}

func TestParseUserJobs(t *testing.T) {
	jobs, err := parseUserJobs("12|RUNNING|2026-05-01T10:00:00\n13_4|PENDING|N/A\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].ID != "12" || jobs[0].State != "RUNNING" || jobs[0].Submit.Hour() != 10 ||
		jobs[1].ID != "13_4" || !jobs[1].Submit.IsZero() {
		t.Errorf("parseUserJobs = %+v", jobs)
	}
	if _, err := parseUserJobs("12 RUNNING\n"); err == nil {
		t.Error("a line without fields parsed")
	}
}
