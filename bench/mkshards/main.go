// Command mkshards plans a benchmark study of N runs (2 models x 10 x N/1000
// x 10 cells x 5 trials; 10,000 by default) into DIR and writes one ok run
// shard per run, as the runner would, with three metrics; with -shards K,
// only the first K runs have one, as in a study part-way through. With
// -failed F, every F-th run failed instead, with an error and no metrics.
//
// With -task T, every T runs' rows are made in memory and written as one
// task shard by shard.WriteTask, as a packed task of T runs writes them:
// no one-row shard is made. With -compact, the task shards (or one-row
// shards) are compacted by shard.Compact into parts of shard.PartRows runs
// each, as collect --compact does, a part's worth at a time, so the
// one-row shards of a million runs never all sit on disk together.
//
// It feeds bench/collect_vs_duckdb.sh, bench/collect_scale.sh and
// bench/status_scale.sh, and prints how long planning took.
//
// Usage: mkshards [-n N] [-shards K] [-failed F] [-task T] [-compact] DIR
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

// runsPerImageSize is the runs of one value of n_images: 2 models x 10
// nphotons x 10 nll_weight x 5 trials. N grows the study along n_images
// only, so that every N has the same cells per heat map panel.
const runsPerImageSize = 1000

// benchStudy is the study file of N runs.
func benchStudy(n int) string {
	sizes := make([]string, n/runsPerImageSize)
	for i := range sizes {
		sizes[i] = strconv.Itoa(128 * (i + 1))
	}
	return `name = "bench"
trials = 5
seed = 3
[run]
command = "true"
[params.nphotons]
range = {start = 1e4, stop = 1e9, num = 10, scale = "log"}
[params.n_images]
values = [` + strings.Join(sizes, ", ") + `]
[params.nll_weight]
range = {start = 0.1, stop = 1.0, num = 10}
[models.pinn]
[models.baseline]
[collect]
maximize = ["psnr", "ms_ssim"]
minimize = ["mae"]
[plots]
heatmaps = [["nphotons", "n_images"]]
formats = ["png"]
`
}

func main() {
	fs := flag.NewFlagSet("mkshards", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("n", 10000, "runs to plan: a positive multiple of 1000")
	shards := fs.Int("shards", -1, "shards to write, for the first runs (default: one per run)")
	failed := fs.Int("failed", 0, "make every F-th run a failed one (0: none)")
	task := fs.Int("task", 0, "write every T runs' rows as a task shard (0: one-row shards)")
	compact := fs.Bool("compact", false, "compact the shards into parts of 10,000 runs, as collect --compact does")
	err := fs.Parse(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Println(usageLine)
		return
	case err != nil:
		usage(err.Error())
	case fs.NArg() != 1:
		usage(fmt.Sprintf("want one study directory, got %d arguments", fs.NArg()))
	case *n <= 0 || *n%runsPerImageSize != 0:
		usage(fmt.Sprintf("-n %d: want a positive multiple of %d", *n, runsPerImageSize))
	case *shards > *n:
		usage(fmt.Sprintf("-shards %d: more than the %d runs", *shards, *n))
	case *failed < 0:
		usage(fmt.Sprintf("-failed %d: want 0 or more", *failed))
	case *task < 0:
		usage(fmt.Sprintf("-task %d: want 0 or more", *task))
	case *shards < 0:
		*shards = *n
	}
	if err := run(fs.Arg(0), *n, options{shards: *shards, failed: *failed, task: *task, compact: *compact}); err != nil {
		fmt.Fprintln(os.Stderr, "mkshards:", err)
		os.Exit(1)
	}
}

const usageLine = "usage: mkshards [-n N] [-shards K] [-failed F] [-task T] [-compact] DIR"

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "mkshards: %s\n%s\n", msg, usageLine)
	os.Exit(2)
}

// options says which runs get a row, which of them failed, and which
// files hold the rows.
type options struct {
	shards  int  // runs with a row: the first ones
	failed  int  // every failed-th run failed; 0 for none
	task    int  // runs per task shard; 0 for one-row shards
	compact bool // compact into parts
}

func run(dir string, n int, o options) error {
	st, err := study.Parse("bench.toml", benchStudy(n), ".", study.Overrides{})
	if err != nil {
		return err
	}
	start := time.Now()
	p, err := plan.New(st, dir, slurm.Limits{MaxArraySize: 100001})
	if err != nil {
		return err
	}
	if err := p.Write(dir, "bench", ""); err != nil {
		return err
	}
	fmt.Printf("planned %d runs in %.2f s\n", len(p.Runs), time.Since(start).Seconds())
	schema := append(shard.RunColumns(), manifest.ParamColumns(st)...)
	schema = append(schema, table.Column{Name: "psnr", Kind: table.Double}, table.Column{Name: "ms_ssim", Kind: table.Double}, table.Column{Name: "mae", Kind: table.Double})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	row := func(r study.RunSpec) []any {
		c := r.Cell
		nph, _ := c.Values[0].Number()
		nim, _ := c.Values[1].Number()
		w, _ := c.Values[2].Number()
		if o.failed > 0 && r.Index%o.failed == 0 {
			return []any{r.ID, c.ID, c.Model, int64(r.Trial), r.Seed, int64(1), shard.StatusFailed, int64(1), nil,
				3.0, 2.5, 900.0, 4000.0, "node01", "123", "123", fmt.Sprint(r.Index), t0, t0.Add(3 * time.Second), "command exited with status 1", int64(0), "bench",
				"Traceback (most recent call last):\nValueError: nll_weight " + fmt.Sprint(w) + " diverged",
				nph, int64(nim), w, nil, nil, nil}
		}
		psnr := 10 + 2.5*math.Log10(nph) + nim/400 - 3*(w-0.5)*(w-0.5) + 0.3*math.Sin(float64(r.Seed))
		return []any{r.ID, c.ID, c.Model, int64(r.Trial), r.Seed, int64(1), shard.StatusOK, int64(0), nil,
			60 + nim/10, 55 + nim/10, 900.0, 4000.0, "node01", "123", "123", fmt.Sprint(r.Index), t0, t0.Add(time.Minute), nil, int64(0), "bench", nil,
			nph, int64(nim), w, psnr, 1 - math.Exp(-(psnr-8)/9), 0.6 * math.Exp(-psnr/12)}
	}
	// The rows go a task at a time (a part at a time without tasks, all
	// at once without either), each batch written, and compacted when a
	// part's worth is, before the next is made.
	batch := o.shards
	switch {
	case o.task > 0:
		batch = o.task
	case o.compact:
		batch = shard.PartRows
	}
	tasks, parts, uncompacted := 0, 0, 0
	for lo := 0; lo < o.shards; lo += batch {
		runs := p.Runs[lo:min(lo+batch, o.shards)]
		if o.task > 0 {
			paths, err := writeTask(dir, schema, runs, row)
			if err != nil {
				return fmt.Errorf("task of runs %d-%d: %w", lo, lo+len(runs)-1, err)
			}
			tasks += len(paths)
		} else if err := writeShards(dir, schema, runs, row); err != nil {
			return err
		}
		uncompacted += len(runs)
		if o.compact && (uncompacted >= shard.PartRows || lo+batch >= o.shards) {
			c, err := shard.Compact(dir)
			if err != nil {
				return err
			}
			parts += c.Parts
			uncompacted = 0
		}
	}
	switch {
	case o.compact:
		fmt.Printf("wrote %d runs' rows, compacted into %d parts under %s\n", o.shards, parts, shard.Dir(dir))
	case o.task > 0:
		fmt.Printf("wrote %d runs' rows as %d task shards under %s\n", o.shards, tasks, shard.Dir(dir))
	default:
		fmt.Printf("wrote %d shards under %s\n", o.shards, shard.Dir(dir))
	}
	return nil
}

// writeTask writes the rows of runs, attempt 1 of each, as the task shard
// of one packed task by shard.WriteTask, and returns its paths.
func writeTask(dir string, schema table.Schema, runs []study.RunSpec, row func(study.RunSpec) []any) ([]string, error) {
	rows := make([]shard.TaskRow, len(runs))
	for i, r := range runs {
		rows[i] = shard.TaskRow{Key: shard.Key{RunID: r.ID, Attempt: 1}, Schema: schema, Row: row(r)}
	}
	return shard.WriteTask(dir, rows)
}

// writeShards writes the one-row shard of each of runs, in parallel and
// without the runner's fsyncs: a benchmark's input needs the files' bytes,
// not their durability, and 100,000 fsyncs would take longer than the
// collect they feed.
func writeShards(dir string, schema table.Schema, runs []study.RunSpec, row func(study.RunSpec) []any) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan study.RunSpec)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var buf bytes.Buffer
			for r := range next {
				buf.Reset()
				err := writeShard(&buf, schema, row(r))
				if err == nil {
					err = os.WriteFile(shard.Path(dir, r.ID, 1), buf.Bytes(), 0o644)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, r := range runs {
		next <- r
	}
	close(next)
	wg.Wait()
	return firstErr
}

func writeShard(w io.Writer, schema table.Schema, row []any) error {
	tw, err := table.NewWriter(w, schema)
	if err != nil {
		return err
	}
	if err := tw.Write(row); err != nil {
		return err
	}
	return tw.Close()
}
