package plots

import (
	"testing"
)

// BenchmarkDrawAll10k draws every figure of a 10,000-cell study (50 × 20 ×
// 5 levels × 2 models, 3 metrics) as PNG at 300 dpi, the format the
// collector always writes.
func BenchmarkDrawAll10k(b *testing.B) {
	d := bigStudy(50, 20, 5)
	if len(d.Cells) != 10000 {
		b.Fatalf("%d cells", len(d.Cells))
	}
	dir := b.TempDir()
	var files []string
	for b.Loop() {
		var err error
		files, err = DrawAll(d, Options{Dir: dir, Formats: []string{"png"}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(files)), "figures")
}
