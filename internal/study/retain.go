package study

import (
	"path"
	"strings"
)

// The values of [run] retain: which run folders stay once the run's shard
// is written.
const (
	// RetainAll keeps every run folder (the default).
	RetainAll = "all"
	// RetainFailed removes the folder of a run whose attempt ended ok.
	RetainFailed = "failed"
	// RetainNone removes every run's folder.
	RetainNone = "none"
)

// resolveRetain checks [run] retain and keep. Retention is refused with
// after-runs stages: such a stage reads its runs' folders ({{.Runs}}) after
// they ended, so removing them once their shard is written would take its
// input away; waiting for the stage instead would make a run folder's
// removal depend on another task's outcome.
func resolveRetain(ps *problems, st *Study, rf *runFile) {
	switch rf.Retain {
	case "", RetainAll, RetainFailed, RetainNone:
		st.Run.Retain = rf.Retain
	default:
		ps.add("run.retain", "%q: want %q, %q or %q", rf.Retain, RetainAll, RetainFailed, RetainNone)
	}
	for _, pat := range rf.Keep {
		if msg := checkKeep(pat); msg != "" {
			ps.add("run.keep", "%q: %s", pat, msg)
		}
	}
	st.Run.Keep = rf.Keep
	if !st.Run.Removes() {
		if len(rf.Keep) > 0 {
			ps.add("run.keep", "keep names files that survive retention: set retain = %q or %q, or drop keep", RetainFailed, RetainNone)
		}
		return
	}
	for _, s := range st.Stages {
		if s.After == AfterRuns {
			ps.add("run.retain", "%q: stage %q runs after the runs and reads their folders; retention needs retain = %q with after-runs stages", rf.Retain, s.Name, RetainAll)
			return
		}
	}
}

// checkKeep says what is wrong with a keep pattern, or "".
func checkKeep(pat string) string {
	switch {
	case pat == "":
		return "an empty pattern"
	case path.IsAbs(pat) || strings.HasPrefix(pat, "\\"):
		return "patterns are relative to the run folder"
	}
	for _, seg := range strings.Split(pat, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return "a pattern's parts may not be empty, . or .."
		}
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return "not a glob pattern: " + err.Error()
		}
	}
	return ""
}

// Removes reports whether retention removes some run folders.
func (r Run) Removes() bool { return r.Retain == RetainFailed || r.Retain == RetainNone }

// Removable reports whether retention removes the folder of a run whose
// attempt ended with status ok (true) or another status (false).
func (r Run) Removable(ok bool) bool {
	return r.Retain == RetainNone || r.Retain == RetainFailed && ok
}

// Keeps reports whether the file at rel, a slash-separated path relative
// to the run folder, matches a keep pattern. A pattern's * matches within
// one path part, as in path.Match; a part ** matches any number of parts,
// none included.
func (r Run) Keeps(rel string) bool {
	parts := strings.Split(rel, "/")
	for _, pat := range r.Keep {
		if matchParts(strings.Split(pat, "/"), parts) {
			return true
		}
	}
	return false
}

func matchParts(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchParts(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
