package plots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreview draws the PNGs of the synthetic study, of the feature study
// (with SVGs), and of each awkward study in a folder of its own, into
// $PLOTS_PREVIEW for looking at them;
// it is skipped when the variable is unset.
func TestPreview(t *testing.T) {
	dir := os.Getenv("PLOTS_PREVIEW")
	if dir == "" {
		t.Skip("PLOTS_PREVIEW not set")
	}
	if _, err := DrawAll(synthStudy(), Options{Dir: dir, Formats: []string{"png"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := DrawAll(featureStudy(), Options{Dir: filepath.Join(dir, "features"), Formats: []string{"png", "svg"}}); err != nil {
		t.Fatal(err)
	}
	for name, d := range awkward() {
		sub := filepath.Join(dir, "awkward", strings.ReplaceAll(name, " ", "_"))
		if _, err := DrawAll(d, Options{Dir: sub, Formats: []string{"png"}}); err != nil {
			t.Fatal(err)
		}
	}
}
