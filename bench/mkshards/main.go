// Command mkshards plans a benchmark study of 10,000 runs (2 models x 10 x
// 10 x 10 cells x 5 trials) into DIR and writes one ok run shard per run,
// as the runner would, with three metrics. It feeds
// bench/collect_vs_duckdb.sh.
package main

import (
	"fmt"
	"math"
	"os"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

const benchStudy = `name = "bench"
trials = 5
seed = 3
[run]
command = "true"
[params.nphotons]
range = {start = 1e4, stop = 1e9, num = 10, scale = "log"}
[params.n_images]
values = [128, 256, 384, 512, 640, 768, 896, 1024, 1152, 1280]
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

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkshards DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkshards:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	st, err := study.Parse("bench.toml", benchStudy, ".", study.Overrides{})
	if err != nil {
		return err
	}
	p, err := plan.New(st, dir, slurm.Limits{MaxArraySize: 100001})
	if err != nil {
		return err
	}
	if err := p.Write(dir, "bench", ""); err != nil {
		return err
	}
	schema := append(shard.RunColumns(), manifest.ParamColumns(st)...)
	schema = append(schema, table.Column{Name: "psnr", Kind: table.Double}, table.Column{Name: "ms_ssim", Kind: table.Double}, table.Column{Name: "mae", Kind: table.Double})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range p.Runs {
		c := r.Cell
		nph, _ := c.Values[0].Number()
		nim, _ := c.Values[1].Number()
		w, _ := c.Values[2].Number()
		psnr := 10 + 2.5*math.Log10(nph) + nim/400 - 3*(w-0.5)*(w-0.5) + 0.3*math.Sin(float64(r.Seed))
		row := []any{r.ID, c.ID, c.Model, int64(r.Trial), r.Seed, int64(1), shard.StatusOK, int64(0), nil,
			60 + nim/10, 55 + nim/10, 900.0, 4000.0, "node01", "123", "123", fmt.Sprint(r.Index), t0, t0.Add(time.Minute), nil, int64(0), "bench",
			nph, int64(nim), w, psnr, 1 - math.Exp(-(psnr-8)/9), 0.6 * math.Exp(-psnr/12)}
		if err := table.WriteFile(shard.Path(dir, r.ID, 1), schema, func(w *table.Writer) error { return w.Write(row) }); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d shards under %s\n", len(p.Runs), shard.Dir(dir))
	return nil
}
