package collect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// touch writes each file (slash paths under dir), making its folder.
func touch(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func listed(t *testing.T, dir string) []string {
	t.Helper()
	l, err := readFigureList(filepath.Join(dir, "visualizations", figureList))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPruneFigures: the figures the last collect listed and this one did
// not write are removed; what it wrote stays and is listed; no file that
// is not a figure right in a figure folder is removed, whatever the list
// says.
func TestPruneFigures(t *testing.T) {
	dir := t.TempDir()
	stale := []string{"visualizations/heatmap_x_vs_y_mse.png", "visualizations/surface_x_y_mse.html",
		"reports/latex_figures/heatmap_x_vs_y_mse.pdf"}
	kept := []string{"visualizations/heatmap_x_vs_y_psnr.png", "reports/latex_figures/heatmap_x_vs_y_psnr.pdf"}
	// Files the list names that are not collect's figures: the study's
	// own files, a figure folder's subfolder, a hidden file, another
	// extension, a path that climbs out.
	notOurs := []string{"study.toml", "data/raw_results_all_trials.csv", "visualizations/mine/plot.png",
		"visualizations/.hidden.png", "visualizations/notes.txt", "reports/executive_summary.md",
		"reports/latex_figures/aggregated_results.tex"}
	climbing := []string{"visualizations/../study.toml", "../outside.png", "/etc/x.png"}
	unlisted := "visualizations/my_plot.png"
	touch(t, dir, append(append(append(slices.Clone(stale), kept...), notOurs...), unlisted)...)
	var list []string
	list = append(append(append(append(list, stale...), kept...), notOurs...), climbing...)
	if err := writeFigureList(filepath.Join(dir, "visualizations", figureList), list); err != nil {
		t.Fatal(err)
	}
	// This collect writes the kept figures and a new one; paths as the
	// writers return them, under the study folder.
	fresh := "visualizations/lines_x_psnr.png"
	touch(t, dir, fresh)
	var written []string
	for _, f := range append(slices.Clone(kept), fresh, kept[0]) {
		written = append(written, filepath.Join(dir, filepath.FromSlash(f)))
	}
	if err := pruneFigures(dir, written); err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("stale %s: %v, want it removed", f, err)
		}
	}
	for _, f := range append(append(append(slices.Clone(kept), notOurs...), unlisted), fresh) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s removed: %v", f, err)
		}
	}
	want := append(slices.Clone(kept), fresh)
	slices.Sort(want)
	if got := listed(t, dir); !slices.Equal(got, want) {
		t.Errorf("figure list %v, want %v", got, want)
	}
}

// TestPruneFiguresKeepsListingLeft: a stale figure that cannot be removed
// stays listed, and a later collect removes it.
func TestPruneFiguresKeepsListingLeft(t *testing.T) {
	dir := t.TempDir()
	// A folder with a file in it cannot be removed by os.Remove.
	stuck := "visualizations/stuck.png"
	touch(t, dir, stuck+"/inner")
	if err := writeFigureList(filepath.Join(dir, "visualizations", figureList), []string{stuck}); err != nil {
		t.Fatal(err)
	}
	if err := pruneFigures(dir, nil); err == nil || !strings.Contains(err.Error(), "stuck.png") {
		t.Errorf("pruneFigures = %v, want an error naming stuck.png", err)
	}
	if got := listed(t, dir); !slices.Equal(got, []string{stuck}) {
		t.Errorf("figure list %v, want the stuck figure still listed", got)
	}
	if err := os.Remove(filepath.Join(dir, stuck, "inner")); err != nil {
		t.Fatal(err)
	}
	if err := pruneFigures(dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, stuck)); !os.IsNotExist(err) {
		t.Errorf("stuck figure: %v, want it removed", err)
	}
	if got := listed(t, dir); len(got) != 0 {
		t.Errorf("figure list %v, want none", got)
	}
}

// TestCollectRemovesStaleFigures: a collect stopped before its figures are
// drawn removes nothing; a whole one removes the figures the last collect
// listed and did not draw again, keeps the user's files, and lists what
// it drew.
func TestCollectRemovesStaleFigures(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	first := run(t, dir, Options{})
	gone := []string{"visualizations/heatmap_x_vs_y_removed_metric_a.png", "reports/latex_figures/heatmap_x_vs_y_removed_metric_a.pdf"}
	mine := "visualizations/my_figure.png"
	touch(t, dir, append(slices.Clone(gone), mine)...)
	l := append(listed(t, dir), gone...)
	if err := writeFigureList(filepath.Join(dir, "visualizations", figureList), l); err != nil {
		t.Fatal(err)
	}
	for _, f := range first.Figures {
		if !slices.Contains(l, filepath.ToSlash(strings.TrimPrefix(f, dir+string(filepath.Separator)))) {
			t.Errorf("figure %s is not listed", f)
		}
	}

	// Stopped while drawing: the figures are drawn after the tables are
	// read, and --report-only reads them without the context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Collect(ctx, dir, Options{ReportOnly: true}); !errors.Is(err, context.Canceled) {
		t.Fatalf("collect with a cancelled context: %v, want it cancelled", err)
	}
	for _, f := range append(slices.Clone(gone), mine) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("stopped collect: %s: %v, want it kept", f, err)
		}
	}

	res := run(t, dir, Options{ReportOnly: true})
	for _, f := range gone {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("stale %s: %v, want it removed", f, err)
		}
	}
	for _, f := range append(slices.Clone(res.Figures), filepath.Join(dir, mine)) {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after the collect: %v", err)
		}
	}
	if len(res.Figures) == 0 || len(res.Figures) != len(first.Figures) {
		t.Errorf("%d figures, want %d as before", len(res.Figures), len(first.Figures))
	}
	if got := listed(t, dir); slices.ContainsFunc(got, func(f string) bool { return slices.Contains(gone, f) || f == mine }) {
		t.Errorf("figure list %v still names a removed figure or the user's file", got)
	}
}
