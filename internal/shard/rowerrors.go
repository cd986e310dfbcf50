package shard

import "github.com/gridstudy/gridstudy/internal/table"

// ReadRowErrors returns the error column of every row of the run shard at
// path (one-row or multi-row) that records one, by its run and attempt:
// ReadRowError for all of a file's rows at once, for a caller that wants
// the errors of many of them (status --json at a million runs). It reads
// those three columns only; nil when the file cannot be read or has no
// such columns.
func ReadRowErrors(path string) map[Key]string {
	cols, err := table.ReadColumns(path, "run_id", "attempt", "error")
	if err != nil {
		return nil
	}
	ids, attempts, errs := cols[0], cols[1], cols[2]
	if ids.Kind != table.String || attempts.Kind != table.Int64 || errs.Kind != table.String {
		return nil
	}
	out := map[Key]string{}
	for i, e := range errs.String {
		if e != "" && (errs.Null == nil || !errs.Null[i]) {
			out[Key{RunID: ids.String[i], Attempt: int(attempts.Int[i])}] = e
		}
	}
	return out
}
