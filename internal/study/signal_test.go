package study

import (
	"strings"
	"testing"
	"time"
)

func TestSignalLead(t *testing.T) {
	for _, tt := range []struct {
		time, before string
		want         time.Duration
	}{
		{"", "", 2 * time.Minute},             // the partition's default limit
		{"02:00:00", "", 2 * time.Minute},     // 10 % is 12 min: capped
		{"00:02:00", "", 12 * time.Second},    // 10 % of 2 min
		{"00:20:00", "", 2 * time.Minute},     // exactly 10 %
		{"00:00:05", "", time.Second},         // at least a second
		{"00:01:05", "", 6 * time.Second},     // whole seconds
		{"02:00:00", "10m", 10 * time.Minute}, // the override
		{"", "00:01:30", 90 * time.Second},
	} {
		s := Slurm{Time: tt.time, SignalBefore: tt.before}
		if got := s.SignalLead(); got != tt.want {
			t.Errorf("time %q, signal_before %q: SignalLead = %s, want %s", tt.time, tt.before, got, tt.want)
		}
	}
}

func TestSignalBeforeRefused(t *testing.T) {
	for _, tt := range []struct{ slurm, want string }{
		{`time = "00:02:00"` + "\n" + `signal_before = "2m"`, `slurm.signal_before: "2m" is not below the time limit "00:02:00"`},
		{`time = "00:02:00"` + "\n" + `signal_before = "5m"`, "is not below the time limit"},
		{`signal_before = "soon"`, `slurm.signal_before: cannot read duration "soon"`},
		{`signal_before = "1500ms"`, "whole seconds from 1 to 65535"},
		{`signal_before = "20h"`, "whole seconds from 1 to 65535"},
		{`signal_before = "-5s"`, "must be positive"},
		{`max_queued = 1`, "slurm.max_queued: 1 leaves no room"},
	} {
		src := "name = \"s\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1]\n[slurm]\n" + tt.slurm + "\n"
		_, err := Parse("study.toml", src, t.TempDir(), Overrides{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "study.toml:") {
			t.Errorf("%s: error %v, want one naming study.toml:LINE and %q", tt.slurm, err, tt.want)
		}
	}
	src := "name = \"s\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1]\n[slurm]\ntime = \"00:02:00\"\nsignal_before = \"30s\"\n"
	if _, err := Parse("study.toml", src, t.TempDir(), Overrides{}); err != nil {
		t.Errorf("signal_before below the limit refused: %v", err)
	}
}
