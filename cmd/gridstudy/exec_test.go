package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// volatile are the shard columns that change from run to run; cmdShards
// prints them as * (or NULL), so that scripts can cmp the rest.
var volatile = map[string]bool{"wall_s": true, "cpu_s": true, "max_rss_mb": true, "gpu_mem_mb": true, "host": true,
	"started_at": true, "finished_at": true, "gridstudy_version": true}

// cmdShards prints the shards of a study, one file per line in name
// order: "shards DIR [COL...]" prints the given columns of every run shard
// (all but run_id and the volatile ones by default); "shards -history DIR"
// prints the rows of the history shards. Values print as %q strings,
// shortest floats (NaN, +Inf), NULL for NULL.
func cmdShards(ts *testscript.TestScript, neg bool, args []string) {
	history := len(args) > 0 && args[0] == "-history"
	if history {
		args = args[1:]
	}
	if neg || len(args) < 1 {
		ts.Fatalf("usage: shards [-history] DIR [COL...]")
	}
	entries, err := shard.Scan(ts.MkAbs(args[0]))
	ts.Check(err)
	// A row is labelled <run_id>.a<attempt>, as the name of a one-row
	// shard says, wherever it lies: scripts read the same lines before
	// and after runs are folded into task shards or parts.
	type line struct {
		key  shard.Key
		text string
	}
	var lines []line
	for _, e := range entries {
		if e.History != history {
			continue
		}
		s, rows, err := table.ReadFile(filepath.Join(shard.Dir(ts.MkAbs(args[0])), e.Name))
		ts.Check(err)
		cols := args[1:]
		if len(cols) == 0 {
			for _, c := range s {
				// A multi-row history file's attempt column is in the label.
				if c.Name != "run_id" && !volatile[c.Name] && !(history && c.Name == "attempt") {
					cols = append(cols, c.Name)
				}
			}
		}
		for _, row := range rows {
			k := shard.Key{RunID: e.RunID, Attempt: e.Attempt}
			if e.Multi {
				k.RunID, _ = row[s.Index("run_id")].(string)
				a, _ := row[s.Index("attempt")].(int64)
				k.Attempt = int(a)
			}
			parts := []string{strings.TrimSuffix(shard.Name(k.RunID, k.Attempt, history), ".parquet") + ":"}
			for _, c := range cols {
				i := s.Index(c)
				if i < 0 {
					parts = append(parts, c+"=ABSENT")
					continue
				}
				v := show(row[i])
				if volatile[c] && row[i] != nil {
					v = "*"
				}
				parts = append(parts, c+"="+v)
			}
			lines = append(lines, line{k, strings.Join(parts, " ")})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		if c := strings.Compare(a.key.RunID, b.key.RunID); c != 0 {
			return c
		}
		return a.key.Attempt - b.key.Attempt
	})
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l.text)
	}
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return strconv.Quote(x)
	case float64:
		if math.IsInf(x, 1) {
			return "+Inf"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
