package collect

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// duckScript runs one query through DuckDB's node bindings (npm
// @duckdb/node-api, found through NODE_PATH) and prints its rows as JSON.
const duckScript = `const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const r = await c.runAndReadAll(process.argv[2]);
  console.log(JSON.stringify(r.getRowsJS(), (k, v) => typeof v === 'bigint' ? String(v) : v));
})().catch(e => { console.error(String(e)); process.exit(1); });`

// TestDuckDB checks the tables with an independent reader: the Parquet and
// CSV files hold the same values, and DuckDB's own aggregates of the raw
// table (quantile_cont is type 7, as ours) equal aggregated_results.
func TestDuckDB(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: no DuckDB")
	}
	node, err := exec.LookPath("node")
	if err != nil || exec.Command(node, "-e", "require.resolve('@duckdb/node-api')").Run() != nil {
		t.Skip("DuckDB not available (npm install @duckdb/node-api; NODE_PATH=…/node_modules)")
	}
	script := filepath.Join(t.TempDir(), "duck.cjs")
	if err := os.WriteFile(script, []byte(duckScript), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	run(t, dir, Options{})
	data := filepath.Join(dir, "data")
	query := func(q string) [][]any {
		t.Helper()
		q = strings.ReplaceAll(q, "DATA", data)
		out, err := exec.Command(node, script, q).Output()
		if err != nil {
			t.Fatalf("duckdb %s: %v", q, err)
		}
		var rows [][]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	// The CSV holds the Parquet file's values exactly: numbers written the
	// shortest way that reads back to the same double. (Columns that are
	// all NULL, like gpu_mem_mb here, are typed VARCHAR by CSV detection
	// and left out.)
	for tbl, cols := range map[string]string{
		"aggregated_results":     aggColumns(),
		"raw_results_all_trials": "run_id, model, x, y, trial, seed, attempt, status, exit_code, wall_s, psnr, mae, outlier_metrics",
	} {
		q := `SELECT count(*) FROM (SELECT ` + cols + ` FROM read_parquet('DATA/` + tbl + `.parquet') EXCEPT ALL SELECT ` + cols + ` FROM read_csv('DATA/` + tbl + `.csv'))`
		if got := query(q); got[0][0] != "0" {
			t.Errorf("%s: %v rows of the Parquet file differ in the CSV", tbl, got[0][0])
		}
		if got := query(`SELECT count(*) FROM read_csv('DATA/` + tbl + `.csv')`); got[0][0] != query(`SELECT count(*) FROM read_parquet('DATA/` + tbl + `.parquet')`)[0][0] {
			t.Errorf("%s: row counts differ: %v", tbl, got)
		}
	}
	got := query(`SELECT count(*) FROM read_parquet('DATA/aggregated_results.parquet') a JOIN (
		SELECT cell_id, avg(psnr) m, stddev_samp(psnr) s, quantile_cont(psnr, 0.25) q1, median(psnr) q2, quantile_cont(psnr, 0.75) q3
		FROM read_parquet('DATA/raw_results_all_trials.parquet') WHERE status = 'ok' GROUP BY cell_id) d USING (cell_id)
		WHERE abs(a.psnr_mean - d.m) > 1e-12 * abs(d.m) OR abs(a.psnr_std - d.s) > 1e-12 * d.s
		   OR abs(a.psnr_p25 - d.q1) > 1e-12 * abs(d.q1) OR abs(a.psnr_median - d.q2) > 1e-12 * abs(d.q2) OR abs(a.psnr_p75 - d.q3) > 1e-12 * abs(d.q3)`)
	if got[0][0] != "0" {
		t.Errorf("%v cells where DuckDB's aggregates differ from aggregated_results", got[0][0])
	}
}

// aggColumns names the columns to compare: EXCEPT pairs columns by
// position, and the all-NULL ones must be left out.
func aggColumns() string {
	cols := []string{"cell_id", "model", "x", "y", "n_ok", "n_failed", "n_lost"}
	for _, m := range []string{"psnr", "mae", "wall_s", "cpu_s"} {
		for _, s := range statNames {
			cols = append(cols, m+"_"+s)
		}
	}
	return strings.Join(cols, ", ")
}
