package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

func TestSplitListStaysUnderLimit(t *testing.T) {
	var ids []int
	for i := 0; i < 5000; i += 2 { // no ranges: the longest list
		ids = append(ids, i)
	}
	parts := splitList(ids)
	n := 0
	for _, p := range parts {
		if l := len(slurm.FormatIndexList(p)); l > maxIndexList {
			t.Errorf("index list of %d bytes, want at most %d", l, maxIndexList)
		}
		n += len(p)
	}
	if n != len(ids) || len(parts) < 2 {
		t.Errorf("split %d ids into %d parts holding %d", len(ids), len(parts), n)
	}
}

// A plan that did not finish has no layout file: submit refuses it and
// submits nothing.
func TestSubmitRefusesIncompletePlan(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	n, err := Submit(context.Background(), &slurm.Client{}, Request{Dir: dir, Study: &study.Study{}, Indices: []int{0}, Out: &out})
	if n != 0 || !errors.Is(err, slurm.ErrIncompletePlan) {
		t.Fatalf("Submit of an incomplete plan = %d, %v; want 0 and ErrIncompletePlan", n, err)
	}
	if !strings.Contains(err.Error(), "run gridstudy plan again") || out.Len() != 0 {
		t.Errorf("error %q / output %q: want a hint to plan again and nothing submitted", err, out.String())
	}
}

// shim puts stand-ins for sbatch, squeue and scontrol on PATH. sbatch
// logs one line per call (its arguments, then the KillWait it was handed)
// and answers job ids from 100 on; squeue -u prints the file userq, any
// other squeue the file queue; scontrol says KillWait = 6 sec.
func shim(t *testing.T, userq, queue string) (dir string, calls func() []string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{
		"sbatch": `#!/bin/sh
n=$(cat "$SHIM/n" 2>/dev/null || echo 99)
n=$((n+1))
echo $n > "$SHIM/n"
echo "$* kill_wait=$GRIDSTUDY_KILL_WAIT" >> "$SHIM/sbatch.calls"
echo $n
`,
		"squeue": `#!/bin/sh
case "$*" in
*-u*) cat "$SHIM/userq" ;;
*) cat "$SHIM/queue" ;;
esac
`,
		"scontrol": "#!/bin/sh\necho 'KillWait                = 6 sec'\n",
		"userq":    userq,
		"queue":    queue,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SHIM", dir)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("SLURM_JOB_ID", "")
	return dir, func() []string {
		b, _ := os.ReadFile(filepath.Join(dir, "sbatch.calls"))
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

func indices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Under max_concurrent each new array waits for the study's queued arrays
// and for the array submitted before it, so only one array of the study
// runs at a time; without it arrays do not wait. Runs, not tasks, are
// counted, and each sbatch hands the job the cluster's KillWait.
func TestSubmitChainsArrays(t *testing.T) {
	for _, tt := range []struct {
		name  string
		extra string
		want  []string // the --array and --dependency of each sbatch call
	}{
		{"throttled", "max_concurrent = 2\n", []string{
			"--array=0-1%2 --dependency=afterany:40", "--array=0-1%2 --dependency=afterany:100", "--array=0%2 --dependency=afterany:101"}},
		{"unthrottled", "", []string{"--array=0-1", "--array=0-1", "--array=0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := plantest.Dir(t, "name = \"c\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2, 3, 4, 5]\n[slurm]\nmax_array_size = 2\n"+tt.extra)
			// Array 40 of an earlier submission still has a task queued; 41
			// has left the queue.
			j := slurm.OpenJournal(d.Path)
			for _, id := range []string{"40", "41"} {
				if err := j.Append(slurm.Submission{JobID: id, Kind: "array", Chunk: "array_000", Tasks: "0"}); err != nil {
					t.Fatal(err)
				}
			}
			// Array 42 has ended: squeue still lists its task as completing,
			// but a dependency on it would be met at once.
			for _, id := range []string{"42"} {
				if err := j.Append(slurm.Submission{JobID: id, Kind: "array", Chunk: "array_000", Tasks: "1"}); err != nil {
					t.Fatal(err)
				}
			}
			_, calls := shim(t, "", "40_0|40|0|RUNNING|None|2026-05-01T10:00:00|0|c\n42_1|42|1|COMPLETING|None|2026-05-01T10:00:00|0|c\n")
			var out strings.Builder
			n, err := Submit(context.Background(), &slurm.Client{}, Request{Dir: d.Path, Study: d.Study, Indices: indices(5), Out: &out})
			if err != nil || n != 5 {
				t.Fatalf("Submit = %d, %v; want 5 runs", n, err)
			}
			got := calls()
			if len(got) != len(tt.want) {
				t.Fatalf("sbatch calls %q, want %d", got, len(tt.want))
			}
			for i, c := range got {
				if !strings.HasPrefix(c, "--parsable "+tt.want[i]+" ") || !strings.HasSuffix(c, "kill_wait=6") {
					t.Errorf("sbatch call %d: %q, want %q and kill_wait=6", i, c, tt.want[i])
				}
			}
		})
	}
}

func TestSubmitCountsRunsNotTasks(t *testing.T) {
	d := plantest.Dir(t, "name = \"c\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2, 3, 4, 5]\n[slurm]\nruns_per_task = 2\n")
	shim(t, "", "")
	var out strings.Builder
	n, err := Submit(context.Background(), &slurm.Client{}, Request{Dir: d.Path, Study: d.Study, Indices: indices(5), Out: &out})
	if err != nil || n != 5 {
		t.Fatalf("Submit = %d, %v; want 5 runs", n, err)
	}
	if !strings.Contains(out.String(), "job 100, 3 tasks, 5 runs\n") {
		t.Errorf("output %q: want 3 tasks, 5 runs", out.String())
	}
}

// With the user's queue at max_queued the feeder submits no array and
// waits for the oldest running job of the user and a delay; a second
// resume while that feeder waits queues nothing at all.
func TestSubmitFeederWaitsOnFullQueue(t *testing.T) {
	d := plantest.Dir(t, "name = \"f\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2, 3]\n[slurm]\nmax_queued = 3\n")
	userq := "7|PENDING|2026-05-01T10:00:00\n9_1|RUNNING|2026-05-01T11:00:00\n8|RUNNING|2026-05-01T10:30:00\n6|COMPLETING|2026-05-01T09:00:00\n"
	dir, calls := shim(t, userq, "")
	var out strings.Builder
	n, err := Submit(context.Background(), &slurm.Client{}, Request{Dir: d.Path, Study: d.Study, Indices: indices(3), Out: &out})
	if err != nil || n != 0 {
		t.Fatalf("Submit = %d, %v; want 0 runs", n, err)
	}
	got := calls()
	if len(got) != 1 || !strings.Contains(got[0], "--begin=now+30 --cpus-per-task=1 --dependency=afterany:8 ") {
		t.Fatalf("sbatch calls %q: want one feeder after job 8, 30 s on", got)
	}
	if !strings.Contains(out.String(), "3 runs left for a feeder job") || !strings.Contains(out.String(), "until your job 8 (running, the oldest of 3 queued) ends") {
		t.Errorf("output %q", out.String())
	}
	// The feeder (job 100) now waits in the queue.
	feeder := "100|100|N/A|PENDING|Dependency|" + time.Now().Format("2006-01-02T15:04:05") + "|0|f-feeder\n"
	if err := os.WriteFile(filepath.Join(dir, "queue"), []byte(feeder), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := Submit(context.Background(), &slurm.Client{}, Request{Dir: d.Path, Study: d.Study, Indices: indices(3), Out: &out}); err != nil {
		t.Fatal(err)
	}
	if got := calls(); len(got) != 1 || !strings.Contains(out.String(), "the feeder job 100 already waits") {
		t.Errorf("second submit with a waiting feeder: sbatch calls %q, output %q", got, out.String())
	}
}

func TestFeederWait(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 5, 1, h, 0, 0, 0, time.Local) }
	jobs := []slurm.UserJob{{ID: "5", State: "PENDING", Submit: at(8)}, {ID: "6", State: "RUNNING", Submit: at(10)},
		{ID: "4_2", State: "RUNNING", Submit: at(9)}}
	tests := []struct {
		name      string
		arrays    []string
		user      []slurm.UserJob
		idle      int
		wantDep   string
		wantBegin time.Duration
	}{
		{"study arrays queued", []string{"11", "12"}, jobs, 3, "afterany:11?afterany:12", 0},
		{"oldest running job", nil, jobs, 0, "afterany:4_2", 30 * time.Second},
		{"only pending jobs", nil, jobs[:1], 1, "afterany:5", time.Minute},
		{"same second: lower id", nil, []slurm.UserJob{{ID: "31", Submit: at(8)}, {ID: "9_3", Submit: at(8)}, {ID: "30", Submit: at(8)}}, 0, "afterany:9_3", 30 * time.Second},
		{"backoff doubles", nil, jobs, 3, "afterany:4_2", 4 * time.Minute},
		{"backoff capped", nil, nil, 40, "", maxFeederBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := feederWait(tt.arrays, tt.user, tt.idle)
			if w.dependency != tt.wantDep || w.begin != tt.wantBegin {
				t.Errorf("feederWait = %+v, want dependency %q and begin %s", w, tt.wantDep, tt.wantBegin)
			}
			if w.dependency == "" && w.begin == 0 {
				t.Error("the feeder would start at once")
			}
		})
	}
}

func TestIdleFeeders(t *testing.T) {
	kinds := func(ks ...string) []slurm.Submission {
		out := make([]slurm.Submission, len(ks))
		for i, k := range ks {
			out[i] = slurm.Submission{Kind: k}
		}
		return out
	}
	for _, tt := range []struct {
		subs []slurm.Submission
		want int
	}{
		{nil, 0},
		{kinds("array", "feeder"), 1},
		{kinds("feeder", "array", "feeder", "collect", "feeder", "feeder"), 3},
		{kinds("feeder", "feeder"), 2},
		{kinds("feeder", "stage", "feeder"), 1}, // a stage array is an array of the study
	} {
		if got := idleFeeders(tt.subs); got != tt.want {
			t.Errorf("idleFeeders(%v) = %d, want %d", tt.subs, got, tt.want)
		}
	}
}
