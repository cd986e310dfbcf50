// Command mkshards plans a benchmark study of N runs (2 models x 10 x N/1000
// x 10 cells x 5 trials; 10,000 by default) into DIR and writes one ok run
// shard per run, as the runner would, with three metrics; with -shards K,
// only the first K runs have one, as in a study part-way through. It feeds
// bench/collect_vs_duckdb.sh, bench/collect_scale.sh and
// bench/status_scale.sh, and prints how long planning took.
//
// Usage: mkshards [-n N] [-shards K] DIR
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
	err := fs.Parse(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Println("usage: mkshards [-n N] [-shards K] DIR")
		return
	case err != nil:
		usage(err.Error())
	case fs.NArg() != 1:
		usage(fmt.Sprintf("want one study directory, got %d arguments", fs.NArg()))
	case *n <= 0 || *n%runsPerImageSize != 0:
		usage(fmt.Sprintf("-n %d: want a positive multiple of %d", *n, runsPerImageSize))
	case *shards > *n:
		usage(fmt.Sprintf("-shards %d: more than the %d runs", *shards, *n))
	case *shards < 0:
		*shards = *n
	}
	if err := run(fs.Arg(0), *n, *shards); err != nil {
		fmt.Fprintln(os.Stderr, "mkshards:", err)
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "mkshards: %s\nusage: mkshards [-n N] [-shards K] DIR\n", msg)
	os.Exit(2)
}

func run(dir string, n, shards int) error {
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
		psnr := 10 + 2.5*math.Log10(nph) + nim/400 - 3*(w-0.5)*(w-0.5) + 0.3*math.Sin(float64(r.Seed))
		return []any{r.ID, c.ID, c.Model, int64(r.Trial), r.Seed, int64(1), shard.StatusOK, int64(0), nil,
			60 + nim/10, 55 + nim/10, 900.0, 4000.0, "node01", "123", "123", fmt.Sprint(r.Index), t0, t0.Add(time.Minute), nil, int64(0), "bench", nil,
			nph, int64(nim), w, psnr, 1 - math.Exp(-(psnr-8)/9), 0.6 * math.Exp(-psnr/12)}
	}
	// Shards are written in parallel and without the runner's fsyncs: a
	// benchmark's input needs the files' bytes, not their durability, and
	// 100,000 fsyncs would take longer than the collect they feed.
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
	for _, r := range p.Runs[:shards] {
		next <- r
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("wrote %d shards under %s\n", shards, shard.Dir(dir))
	return nil
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
