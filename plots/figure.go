package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
)

// How the parameters a figure does not show are combined (Options.Marginal).
const (
	// MarginalMean averages the cell means over the levels of the hidden
	// parameters, every level combination weighing the same; failed
	// cells are left out of the average.
	MarginalMean = "mean"
	// MarginalBest shows the best level combination of the hidden
	// parameters (what tuning them could reach).
	MarginalBest = "best"
)

// Error measures for bars and bands (Options.Error).
const (
	ErrorStd  = "std"  // ±1 standard deviation over trials
	ErrorSEM  = "sem"  // ±1 standard error of the mean
	ErrorCI95 = "ci95" // 95% confidence interval of the mean
)

// DPI is the resolution of PNG output.
const DPI = 300

// Options control which figures DrawAll draws and how.
type Options struct {
	Dir      string   // output folder (created if missing)
	Formats  []string // any of "png", "pdf", "svg"; nil = all three
	Width    float64  // printed width in inches (3.5 column, 7 page); 0 = 3.5, or 7 for small multiples
	ShowStd  bool     // annotate heatmap cells "mean ± std" rather than the mean alone
	Marginal string   // MarginalMean (default) or MarginalBest
	Error    string   // ErrorStd (default), ErrorSEM or ErrorCI95

	// Metrics chooses the metrics to draw (see Selection); nil = the
	// declared ones, else the first DefaultMetrics.
	Metrics []string
	// Kinds chooses the figure kinds to draw, of Kinds; nil = all.
	Kinds []string

	Heatmaps [][2]string // (x, y) parameter pairs; nil = every pair of swept parameters
	Lines    []LinesSpec // extra line plots (e.g. with By); every parameter × metric is drawn anyway
	Pareto   [][2]string // (x, y) metric pairs; nil = wall_s vs the first declared metric (see Figures)
	// Difference names the models a and b of the a − b heatmaps; zero =
	// the first two models; none are drawn for a study with one model.
	Difference [2]string
}

func (o Options) marginal() string {
	if o.Marginal == MarginalBest {
		return MarginalBest
	}
	return MarginalMean
}

func (o Options) errorKind() string {
	switch o.Error {
	case ErrorSEM, ErrorCI95:
		return o.Error
	}
	return ErrorStd
}

// width returns the figure width: Options.Width, else def inches.
func (o Options) width(def float64) vg.Length {
	if o.Width > 0 {
		return vg.Length(o.Width) * vg.Inch
	}
	return vg.Length(def) * vg.Inch
}

// ErrNoData is returned for a figure that would be empty, e.g. a heatmap
// of a parameter that does not apply to the model. DrawAll skips those.
var ErrNoData = errors.New("plots: no data for this figure")

// Figure is one laid-out figure, ready to be written in any format.
type Figure struct {
	Name          string    // file name without extension, e.g. "heatmap_nphotons_vs_n_images_psnr_pinn"
	Width, Height vg.Length // printed size
	draw          func(c draw.Canvas)
}

// pinPDF fixes the dates fpdf stamps into every PDF (SOURCE_DATE_EPOCH
// when set, else 2000-01-01 UTC) and sorts its catalogues, so that the
// same figure always gives the same bytes.
var pinPDF = sync.OnceFunc(func() {
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		t = time.Unix(s, 0).UTC()
	}
	fpdf.SetDefaultCreationDate(t)
	fpdf.SetDefaultModificationDate(t)
	fpdf.SetDefaultCatalogSort(true)
})

// Render writes f in format "png" (300 dpi), "pdf" (fonts embedded) or
// "svg" (fonts referenced by name). A drawing that panics is returned as
// an error.
func (f *Figure) Render(w io.Writer, format string) error {
	if format == "png" {
		return f.RenderPNG(w, DPI)
	}
	return f.render(w, format, DPI)
}

// RenderPNG writes f as a PNG at dpi dots per inch: a screen rendition for
// reports that embed their figures, where 300 dpi would only add weight.
func (f *Figure) RenderPNG(w io.Writer, dpi int) error {
	return f.render(w, "png", dpi)
}

func (f *Figure) render(w io.Writer, format string, dpi int) (err error) {
	var cw vg.CanvasWriterTo
	switch format {
	case "png":
		cw = pngCanvas{vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi))}
	case "svg":
		cw = svgCanvas{vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height))}
	case "pdf":
		pinPDF()
		cw = vgpdf.New(f.Width, f.Height)
	default:
		return fmt.Errorf("plots: unknown format %q (want png, pdf or svg)", format)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing %s.%s: %v", f.Name, format, r)
		}
	}()
	f.draw(draw.New(cw))
	_, err = cw.WriteTo(w)
	return err
}

// svgCanvas writes an SVG that references its font rather than embedding
// it: an embedded Liberation Sans weighs about 560 KB per file, the
// drawing itself tens of KB. Liberation Sans is metric-compatible with
// Arial and Helvetica, which the font-family list falls back to, so text
// keeps its measured width where Liberation is not installed.
type svgCanvas struct{ *vgsvg.Canvas }

// svgFamily is the font-family vgsvg writes, and what replaces it.
var svgFamily = strings.NewReplacer("font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")

// WriteTo implements io.WriterTo.
func (c svgCanvas) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	if _, err := c.Canvas.WriteTo(&b); err != nil {
		return 0, err
	}
	n, err := svgFamily.WriteString(w, b.String())
	return int64(n), err
}

// pngCanvas encodes with the fastest compression: encoding dominates the
// time to draw a study's figures, and the files stay small (flat colours).
type pngCanvas struct{ *vgimg.Canvas }

// WriteTo implements io.WriterTo.
func (c pngCanvas) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(cw, c.Image())
	return cw.n, err
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Save writes f into dir once per format, each file written under a
// temporary name and renamed, and returns the paths written.
func (f *Figure) Save(dir string, formats []string) ([]string, error) {
	if len(formats) == 0 {
		formats = []string{"png", "pdf", "svg"}
	}
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, format := range formats {
		path := filepath.Join(dir, f.Name+"."+format)
		if err := atomicfile.Write(path, 0o644, false, func(w io.Writer) error { return f.Render(w, format) }); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// background fills c white (PNG canvases start white) and returns it
// shrunk by the figure margin.
func background(c draw.Canvas) draw.Canvas {
	if _, ok := c.Canvas.(pngCanvas); !ok {
		c.SetColor(white)
		c.Fill(c.Rectangle.Path())
	}
	return draw.Crop(c, margin, -margin, margin, -margin)
}
