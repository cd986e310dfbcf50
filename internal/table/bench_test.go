package table

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkWriteManifest1M writes a manifest of 1.1 million runs, the size of
// a large study, to a file: the cost that `plan` pays once.
func BenchmarkWriteManifest1M(b *testing.B) {
	const n, trials = 1_100_000, 5
	schema := Schema{
		{"index", Int64}, {"run_id", String}, {"cell_id", String},
		{"nphotons", Double}, {"n_images", Int64}, {"model.nll_weight", Double}, {"probe", String},
		{"model", String}, {"trial", Int64}, {"seed", Int64}, {"dir", String},
	}
	// Strings are made up front, as plan has them from the grid, so that the
	// benchmark times the writer; rows are built on the fly, as plan does.
	cells := make([]string, n/trials)
	dirs := make([]string, n)
	runs := make([]string, n)
	for i := range runs {
		cells[i/trials] = fmt.Sprintf("c%07x", i/trials)
		runs[i] = fmt.Sprintf("%s-t%d", cells[i/trials], i%trials)
		dirs[i] = "experiments/" + cells[i/trials] + "/trial_" + strconv.Itoa(i%trials)
	}
	models := []string{"pinn", "baseline"}
	probes := []string{"probe0", "probe1", "probe2"}
	path := filepath.Join(b.TempDir(), "manifest.parquet")
	row := make([]any, len(schema))
	for b.Loop() {
		err := WriteFile(path, schema, func(w *Writer) error {
			for i := range n {
				row[0], row[1], row[2] = i, runs[i], cells[i/trials]
				row[3], row[4], row[5], row[6] = float64(int64(1)<<(i%20)), 128<<(i%4), float64(i%7)/10, probes[i%3]
				row[7], row[8], row[9], row[10] = models[i%2], i%trials, int64(i)*2654435761, dirs[i]
				if err := w.Write(row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
	}
}

// BenchmarkWriteShard writes a one-row file shaped like a run shard: the
// cost that every run pays.
func BenchmarkWriteShard(b *testing.B) {
	path := filepath.Join(b.TempDir(), "shard.parquet")
	for b.Loop() {
		shardLike(b, path)
	}
}

// BenchmarkReadShard opens and reads a one-row shard: collect reads
// thousands of them.
func BenchmarkReadShard(b *testing.B) {
	path := filepath.Join(b.TempDir(), "shard.parquet")
	shardLike(b, path)
	for b.Loop() {
		if _, _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadManifest reads 100,000 rows of a manifest-like table.
func BenchmarkReadManifest(b *testing.B) {
	const n = 100_000
	schema := Schema{{"index", Int64}, {"run_id", String}, {"nphotons", Double}, {"started_at", Timestamp}}
	path := filepath.Join(b.TempDir(), "manifest.parquet")
	t0 := time.Now()
	err := WriteFile(path, schema, func(w *Writer) error {
		for i := range n {
			if err := w.Write([]any{i, "run" + strconv.Itoa(i), float64(i), t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, rows, err := ReadFile(path)
		if err != nil || len(rows) != n {
			b.Fatal(len(rows), err)
		}
	}
}
