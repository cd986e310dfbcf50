package local

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
)

const gib1 = int64(1) << 30

func TestNewMemory(t *testing.T) {
	tests := []struct {
		name      string
		local     string // [local] mem_per_run
		stage     string // the stage's local.mem_per_run as resolved by the loader
		flag      int64  // --mem-per-run
		wantRun   int64
		wantStage int64
		wantLimit bool // the budget is read
	}{
		{name: "none", wantLimit: false},
		{name: "stage falls back to [local]", local: "2G", stage: "2G", wantRun: 2 * gib1, wantStage: 2 * gib1, wantLimit: true},
		{name: "stage's own", local: "2G", stage: "8G", wantRun: 2 * gib1, wantStage: 8 * gib1, wantLimit: true},
		{name: "flag replaces [local] for a stage that takes it", local: "2G", stage: "2G", flag: 4 * gib1, wantRun: 4 * gib1, wantStage: 4 * gib1, wantLimit: true},
		{name: "flag leaves a stage's own", local: "2G", stage: "8G", flag: 4 * gib1, wantRun: 4 * gib1, wantStage: 8 * gib1, wantLimit: true},
		{name: "only a stage needs memory", stage: "8G", wantStage: 8 * gib1, wantLimit: true},
		{name: "a stage that declares none", local: "2G", stage: "", wantRun: 2 * gib1, wantStage: 0, wantLimit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &study.Study{Local: study.Local{MemPerRun: tc.local}}
			p := &stage.Plan{Stages: []*stage.Stage{{Name: "sim", Local: study.Local{MemPerRun: tc.stage}}}}
			opt := Options{MemPerRun: tc.flag, MemBudget: 10 * gib1, Stages: p}
			if opt.MemPerRun == 0 && tc.local != "" {
				opt.MemPerRun, _ = ParseSize(tc.local) // as cmd/gridstudy resolves it
			}
			m, err := newMemory(st, opt)
			if err != nil {
				t.Fatal(err)
			}
			sim := &node{stage: p.Stages[0]}
			if m.run != tc.wantRun || m.need(sim) != tc.wantStage {
				t.Errorf("run needs %d, stage %d; want %d, %d", m.run, m.need(sim), tc.wantRun, tc.wantStage)
			}
			if got := m.budget > 0; got != tc.wantLimit {
				t.Errorf("budget %d: limited %v, want %v", m.budget, got, tc.wantLimit)
			}
		})
	}
}

// interval is one execution of a run or stage task, from its log lines.
type interval struct {
	what       string // "run x=1", "sim x=1", "cmp x=1"
	start, end int64  // ns
}

// TestRunMemoryBudget runs studies whose commands log when they start and
// end, and checks from those times that the memory the executing nodes
// declare never exceeds the budget, and how they were ordered.
func TestRunMemoryBudget(t *testing.T) {
	tests := []struct {
		name   string
		budget int64            // GiB
		body   string           // the study file after [run]; LOG is the log
		mem    map[string]int64 // GiB that each kind ("run", "sim", "cmp") declares
		nodes  int              // runs and stage tasks that must end ok
		// together: at least this many runs ran at once while no stage
		// task ran.
		together int
		alone    string   // a kind during whose tasks nothing else ran
		after    []string // "A<B": every A started after every B ended
		warn     string   // in the progress output; "": no warning
	}{
		{
			name:   "a big stage task beside small runs",
			budget: 10,
			body: `[params.x]
values = [1, 2]
[params.y]
values = [1, 2, 3, 4]
[local]
mem_per_run = "2G"
[stages.sim]
key = ["x"]
command = "echo sim x={{.Params.x}} s $(date +%s%N) >> LOG; sleep 0.3; echo sim x={{.Params.x}} e $(date +%s%N) >> LOG"
[stages.sim.local]
mem_per_run = "8G"
`,
			mem:   map[string]int64{"run": 2, "sim": 8},
			nodes: 10, together: 4,
		},
		{
			// sim takes [local]'s 3G. cmp x=0.1 is ready (at about 1.1 s)
			// while the other sims hold 6G; the runs of x=2 queue behind
			// it once sim x=2 ends (2 s), and though they fit in what is
			// left, they wait until cmp x=0.1 has run (after 3.5 s).
			name:   "the head of the queue is not passed",
			budget: 10,
			body: `[params.x]
values = [0.1, 2.0, 3.5]
[models.a]
[models.b]
[local]
mem_per_run = "3G"
[stages.sim]
key = ["x"]
command = "echo sim x={{.Params.x}} s $(date +%s%N) >> LOG; sleep {{.Params.x}}; echo sim x={{.Params.x}} e $(date +%s%N) >> LOG"
[stages.cmp]
after = "runs"
key = ["x"]
command = "echo cmp x={{.Params.x}} s $(date +%s%N) >> LOG; sleep 0.3; echo cmp x={{.Params.x}} e $(date +%s%N) >> LOG"
[stages.cmp.local]
mem_per_run = "8G"
`,
			mem:   map[string]int64{"run": 3, "sim": 3, "cmp": 8},
			nodes: 12,
			after: []string{"run x=2<cmp x=0.1"},
		},
		{
			name:   "a stage task needing more than the budget runs alone",
			budget: 10,
			body: `[params.x]
values = [1, 2]
[models.a]
[models.b]
[models.c]
[local]
mem_per_run = "2G"
[stages.cmp]
after = "runs"
key = ["x"]
command = "echo cmp x={{.Params.x}} s $(date +%s%N) >> LOG; sleep 0.3; echo cmp x={{.Params.x}} e $(date +%s%N) >> LOG"
[stages.cmp.local]
mem_per_run = "20G"
`,
			mem:   map[string]int64{"run": 2, "cmp": 20},
			nodes: 8, together: 2, alone: "cmp",
			warn: "needs 20.0 GiB, more than the 10.0 GiB of memory available: it runs alone",
		},
		{
			name:   "without mem_per_run only workers limit",
			budget: 10,
			body: `[params.x]
values = [1, 2, 3, 4, 5, 6, 7, 8]
`,
			mem:   map[string]int64{"run": 0},
			nodes: 8, together: 6,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logf := filepath.Join(dir, "log")
			src := fmt.Sprintf("name = \"mem\"\n[run]\ncommand = %q\n%s",
				"echo run x={{.Params.x}} $GRIDSTUDY_RUN_ID s $(date +%s%N) >> LOG; sleep 0.5; echo run x={{.Params.x}} $GRIDSTUDY_RUN_ID e $(date +%s%N) >> LOG",
				tc.body)
			src = strings.ReplaceAll(src, "LOG", "'"+logf+"'")
			st, err := study.Parse("study.toml", src, dir, study.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			sd := filepath.Join(dir, "sd")
			p, err := plan.New(st, sd, slurm.Limits{MaxArraySize: slurm.DefaultMaxArraySize})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Write(sd, "test", ""); err != nil {
				t.Fatal(err)
			}
			entries, err := manifest.Read(filepath.Join(sd, manifest.File))
			if err != nil {
				t.Fatal(err)
			}
			stages, err := stage.Read(sd)
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{Workers: 8, MemBudget: tc.budget * gib1, Stages: stages}
			if st.Local.MemPerRun != "" {
				if opt.MemPerRun, err = ParseSize(st.Local.MemPerRun); err != nil {
					t.Fatal(err)
				}
			}
			var progress bytes.Buffer
			opt.Progress = &progress
			sum, err := Run(context.Background(), sd, st, entries, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Failures)+len(sum.StageFailures)+len(sum.Blocked) > 0 {
				t.Fatalf("not all ok: %+v", sum)
			}
			ivs := readIntervals(t, logf)
			if len(ivs) != tc.nodes {
				t.Fatalf("%d executions logged, want %d: %v", len(ivs), tc.nodes, ivs)
			}

			if peak := peakMemory(ivs, tc.mem, tc.budget); peak > tc.budget {
				t.Errorf("%d GiB in use at once, over the budget of %d GiB", peak, tc.budget)
			}
			if tc.together > 0 {
				if got := runsTogether(ivs); got < int64(tc.together) {
					t.Errorf("at most %d runs ran at once with no stage task, want at least %d", got, tc.together)
				}
			}
			if tc.alone != "" {
				for _, a := range ivs {
					if kind(a) != tc.alone {
						continue
					}
					for _, b := range ivs {
						if b != a && b.start < a.end && a.start < b.end {
							t.Errorf("%s ran beside %s", a.what, b.what)
						}
					}
				}
			}
			for _, rule := range tc.after {
				later, earlier, _ := strings.Cut(rule, "<")
				pairs := 0
				for _, a := range ivs {
					for _, b := range ivs {
						if a.what == later && b.what == earlier {
							pairs++
							if a.start < b.end {
								t.Errorf("%s started before %s ended", a.what, b.what)
							}
						}
					}
				}
				if pairs == 0 {
					t.Errorf("%s: no such executions in %v", rule, ivs)
				}
			}
			if tc.warn == "" && strings.Contains(progress.String(), "warning") {
				t.Errorf("unexpected warning:\n%s", progress.String())
			}
			if tc.warn != "" && strings.Count(progress.String(), tc.warn) != 1 {
				t.Errorf("progress does not warn once %q:\n%s", tc.warn, progress.String())
			}
		})
	}
}

// readIntervals reads the log lines "KIND x=V [ID] s|e NS".
func readIntervals(t *testing.T, path string) []interval {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	open := map[string]*interval{}
	var out []interval
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 {
			t.Fatalf("log line %q", sc.Text())
		}
		ns, err := strconv.ParseInt(fs[len(fs)-1], 10, 64)
		if err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		id := strings.Join(fs[:len(fs)-2], " ")
		switch fs[len(fs)-2] {
		case "s":
			open[id] = &interval{what: strings.Join(fs[:2], " "), start: ns}
		case "e":
			iv := open[id]
			if iv == nil {
				t.Fatalf("%s ended without starting", id)
			}
			iv.end = ns
			out = append(out, *iv)
			delete(open, id)
		}
	}
	if len(open) > 0 {
		t.Fatalf("never ended: %v", open)
	}
	return out
}

func kind(iv interval) string { k, _, _ := strings.Cut(iv.what, " "); return k }

// peakMemory is the most GiB that the intervals drew at once, a node that
// needs more than the budget drawing the whole budget.
func peakMemory(ivs []interval, mem map[string]int64, budget int64) int64 {
	return peak(ivs, func(iv interval) int64 { return min(mem[kind(iv)], budget) })
}

// runsTogether is the most runs that ran at once while no stage task ran.
func runsTogether(ivs []interval) int64 {
	var runs []interval
	for _, iv := range ivs {
		if kind(iv) == "run" {
			runs = append(runs, iv)
		}
	}
	best := int64(0)
	for _, r := range runs {
		// Count the runs that hold r's start, if no stage task does.
		n := int64(0)
		for _, iv := range ivs {
			if iv.start <= r.start && r.start < iv.end {
				if kind(iv) != "run" {
					n = -1 << 62
				}
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// peak sweeps the intervals' starts and ends, ends first at a tie, and
// returns the largest sum of weight over the intervals open at once.
func peak(ivs []interval, weight func(interval) int64) int64 {
	type event struct {
		at int64
		d  int64
	}
	var evs []event
	for _, iv := range ivs {
		w := weight(iv)
		evs = append(evs, event{iv.start, w}, event{iv.end, -w})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at != evs[j].at {
			return evs[i].at < evs[j].at
		}
		return evs[i].d < evs[j].d
	})
	cur, best := int64(0), int64(0)
	for _, e := range evs {
		cur += e.d
		best = max(best, cur)
	}
	return best
}
