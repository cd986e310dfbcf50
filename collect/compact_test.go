package collect

import (
	"testing"

	"github.com/gridstudy/gridstudy/internal/shard"
)

// Folded into parts (with rows of another study and a metric that is a
// number in some runs and text in others, which go to separate parts),
// the shards give the same tables as the one-row shards did; a copy of
// an attempt left in both (a compaction killed before it removed its
// sources) counts once.
func TestCompactedIdentical(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	run(t, dir, Options{})
	want := dataFiles(t, dir)

	compacted, _ := newStudy(t)
	fillStudy(t, compacted, entries, all)
	c, err := shard.Compact(compacted)
	if err != nil {
		t.Fatal(err)
	}
	if c.Parts < 2 {
		t.Errorf("Compact = %+v: want the runs whose tag is text apart from those where it is a number", c)
	}
	// Some one-row shards again, as a killed compaction leaves them.
	fillStudy(t, compacted, entries, func(i int) bool { return i%3 == 0 })
	run(t, compacted, Options{})
	sameFiles(t, "compacted", dataFiles(t, compacted), want)
}
