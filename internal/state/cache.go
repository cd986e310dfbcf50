package state

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
)

// cacheFile keeps what status read from the shards, each file under its
// name, inode, size and modification time: a file deleted, replaced or
// rewritten by hand never matches its old entry, so the cache can only
// spare reading a file that is still the same file. Entries of files that
// status no longer reads are dropped on each save.
//
// A one-row shard's line is "KEY\tSTATUS". A multi-row file's (a task
// shard's or a part's) is "M\tKEY\tROWS", its rows as runs of manifest
// positions (see encodeRows): a million rows would otherwise take longer
// to read back than the files themselves. Positions are only good for the
// manifest they were taken from, so the line "manifest\tKEY" names it,
// and all multi-row lines go when it changes.
const cacheFile = ".status-cache"

const (
	multiTag    = "M"
	manifestTag = "manifest"
)

// cacheKey identifies one file's content as far as stat can tell.
func cacheKey(name string, fi os.FileInfo) string {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%s %d %d %d", name, ino, fi.Size(), fi.ModTime().UnixNano())
}

// statusCache is the status cache as loaded, or as it is to be saved.
type statusCache struct {
	status   map[string]string // one-row shard key -> its status
	manifest string            // the key of the manifest that multi's positions index
	multi    map[string]string // multi-row file key -> its rows, encoded
}

func newStatusCache() *statusCache {
	return &statusCache{status: map[string]string{}, multi: map[string]string{}}
}

func loadCache(path string) *statusCache {
	c := newStatusCache()
	b, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, "\t")
		switch {
		case !ok:
		case name == manifestTag:
			c.manifest = rest
		case name == multiTag:
			if key, rows, ok := strings.Cut(rest, "\t"); ok {
				c.multi[key] = rows
			}
		default:
			c.status[name] = rest
		}
	}
	return c
}

// same reports whether c holds what other holds.
func (c *statusCache) same(other *statusCache) bool {
	return c.manifest == other.manifest && len(c.status) == len(other.status) && len(c.multi) == len(other.multi)
}

func (c *statusCache) save(path string) error {
	var b strings.Builder
	if c.manifest != "" && len(c.multi) > 0 {
		b.WriteString(manifestTag + "\t" + c.manifest + "\n")
		for _, k := range sortedKeys(c.multi) {
			b.WriteString(multiTag + "\t" + k + "\t" + c.multi[k] + "\n")
		}
	}
	for _, k := range sortedKeys(c.status) {
		b.WriteString(k + "\t" + c.status[k] + "\n")
	}
	return atomicfile.WriteBytes(path, []byte(b.String()), 0o644, false)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// posRow is a row of a multi-row file with its run as a manifest position.
type posRow struct {
	pos, attempt int
	status       string
}

// cacheable reports whether a status can go into a multi-row line as it
// is: a word. Anything else is never cached, so read again each time.
func cacheable(status string) bool {
	if status == "" {
		return false
	}
	for _, c := range []byte(status) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// encodeRows writes rows, sorted by position, as space-separated
// "POS,N,ATTEMPT,STATUS" for N rows of consecutive positions with the same
// attempt and status: a packed task's runs are consecutive in the
// manifest, so a task shard whose runs all ended ok is one item. ok is
// false when a status is not cacheable.
func encodeRows(rows []posRow) (string, bool) {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b posRow) int {
		if a.pos != b.pos {
			return a.pos - b.pos
		}
		return a.attempt - b.attempt
	})
	var b strings.Builder
	for i := 0; i < len(rows); {
		r := rows[i]
		if !cacheable(r.status) {
			return "", false
		}
		n := 1
		for i+n < len(rows) && rows[i+n].pos == r.pos+n && rows[i+n].attempt == r.attempt && rows[i+n].status == r.status {
			n++
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d,%d,%d,%s", r.pos, n, r.attempt, r.status)
		i += n
	}
	return b.String(), true
}

// rowRange is n rows of consecutive positions from pos, with the same
// attempt and status.
type rowRange struct {
	pos, n, attempt int
	status          string
}

// decodeRows reads s, from encodeRows; ok is false unless s is well formed
// with every position below runs.
func decodeRows(s string, runs int) (out []rowRange, ok bool) {
	for s != "" {
		var item string
		item, s, _ = strings.Cut(s, " ")
		f := strings.SplitN(item, ",", 4)
		if len(f) != 4 {
			return nil, false
		}
		pos, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.Atoi(f[1])
		attempt, err3 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || err3 != nil || pos < 0 || n < 1 || pos+n > runs || attempt < 1 || !cacheable(f[3]) {
			return nil, false
		}
		out = append(out, rowRange{pos: pos, n: n, attempt: attempt, status: f[3]})
	}
	return out, true
}
