package main

import (
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
)

// File formats, checked on reading so that a file of another kind or of an
// older layout is refused with a clear message rather than misread.
const (
	datasetFormat = "photon_dose dataset v1"
	reconFormat   = "photon_dose reconstruction v1"
)

// dataset is what `photon_dose simulate` writes for one (nphotons,
// n_images) setting: the object and the scan, without the photon noise,
// which each trial draws itself (see acquire).
type dataset struct {
	Format   string
	NPhotons float64
	NImages  int
	Seed     uint64 // the seed of the object and scan positions
	Object   []float64
	Exposure []float64
}

// reconstruction is what a run leaves in its folder for the compare stage:
// its image and what it was made from, so that compare can check that the
// two models it compares saw the same data.
type reconstruction struct {
	Format  string
	Model   string
	Dataset string // absolute path of the dataset file
	Trial   int
	Recon   []float32 // float32 halves the 450 files of the demo; PSNR moves by < 1e-5 dB
}

// writeGob writes v to path atomically: a stage or run killed mid-write
// leaves no half file that a later step could read.
func writeGob(path string, v any) error {
	return atomicfile.Write(path, 0o644, false, func(w io.Writer) error {
		return gob.NewEncoder(w).Encode(v)
	})
}

// readGob decodes the file at path into v.
func readGob(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := gob.NewDecoder(f).Decode(v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// readDataset reads and checks a dataset file.
func readDataset(path string) (*dataset, error) {
	var d dataset
	if err := readGob(path, &d); err != nil {
		return nil, err
	}
	switch {
	case d.Format != datasetFormat:
		return nil, fmt.Errorf("%s: format %q, want %q", path, d.Format, datasetFormat)
	case len(d.Object) != size*size || len(d.Exposure) != size*size:
		return nil, fmt.Errorf("%s: images of %d and %d pixels, want %d", path, len(d.Object), len(d.Exposure), size*size)
	case !(d.NPhotons > 0) || d.NPhotons > maxPhotons || d.NImages < 1 || d.NImages > maxImages:
		return nil, fmt.Errorf("%s: nphotons %g, n_images %d out of range", path, d.NPhotons, d.NImages)
	}
	for i := range d.Object {
		if !finite(d.Object[i]) || !finite(d.Exposure[i]) || d.Exposure[i] < 0 {
			return nil, fmt.Errorf("%s: bad value at pixel %d", path, i)
		}
	}
	return &d, nil
}

// readReconstruction reads and checks a run's reconstruction file.
func readReconstruction(path string) (*reconstruction, error) {
	var r reconstruction
	if err := readGob(path, &r); err != nil {
		return nil, err
	}
	if r.Format != reconFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", path, r.Format, reconFormat)
	}
	if len(r.Recon) != size*size {
		return nil, fmt.Errorf("%s: image of %d pixels, want %d", path, len(r.Recon), size*size)
	}
	return &r, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
