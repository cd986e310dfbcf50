#!/usr/bin/env bash
# collect_vs_duckdb.sh: make 10,000 one-row shards of one study, then time
# `gridstudy collect` and DuckDB aggregating the same shards by cell, back
# to back, and print the ratio and collect's peak memory.
#
# Needs: go, GNU time (/usr/bin/time), node with @duckdb/node-api
# (npm install @duckdb/node-api; set NODE_PATH to its node_modules).
# Usage: bench/collect_vs_duckdb.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
dir=$work/study
go build -o "$work/gridstudy" ./cmd/gridstudy
go build -o "$work/mkshards" ./bench/mkshards
rm -rf "$dir"
"$work/mkshards" "$dir"

cat > "$work/duckdb.cjs" <<'JS'
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const t0 = process.hrtime.bigint();
  const r = await c.runAndReadAll(`
    SELECT cell_id, model, nphotons, n_images, nll_weight, count(*) AS n_ok,
      avg(psnr), stddev_samp(psnr), min(psnr), quantile_cont(psnr, [0.25, 0.5, 0.75]), max(psnr),
      avg(ms_ssim), stddev_samp(ms_ssim), avg(mae), stddev_samp(mae), avg(wall_s), stddev_samp(wall_s)
    FROM read_parquet('${process.argv[2]}/shards/*.parquet', union_by_name = true)
    WHERE status = 'ok' GROUP BY ALL`);
  const rows = r.getRowsJS().length;
  console.log(`duckdb ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3)} s (${rows} cells)`);
})().catch(e => { console.error(String(e)); process.exit(1); });
JS

sync
# Collect from scratch each time: data/ would make a second collect skip
# every shard.
rm -rf "$dir/data"
/usr/bin/time -f "collect_total %e s peak %M KB" -o "$work/time.txt" "$work/gridstudy" collect "$dir" | tee "$work/collect.txt"
node "$work/duckdb.cjs" "$dir" | tee "$work/duckdb.txt"

tables=$(sed -n 's/^tables \([0-9.]*\)\(m\?s\).*/\1 \2/p' "$work/collect.txt" | awk '{ print ($2 == "ms") ? $1 / 1000 : $1 }')
total=$(awk '{ print $2 }' "$work/time.txt")
peak=$(awk '{ print $5 }' "$work/time.txt")
duck=$(awk '{ print $2 }' "$work/duckdb.txt")
awk -v t="$tables" -v a="$total" -v d="$duck" -v p="$peak" 'BEGIN {
  printf "collect: %.2f s reading and aggregating (%.2f s with figures and reports), peak %.0f MB\n", t, a, p / 1024
  printf "duckdb:  %.2f s\n", d
  printf "ratio collect/duckdb: %.2f (tables), %.2f (everything)\n", t / d, a / d
}'
