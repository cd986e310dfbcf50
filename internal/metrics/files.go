package metrics

import (
	"fmt"
)

// CompareFiles reads a truth and a reconstruction from .npy files and
// compares them: real arrays give the plain metric names, complex arrays
// amp_ and phase_ ones. Both must be real or both complex, of one shape.
func CompareFiles(truthPath, reconPath string, opts Options) (map[string]float64, error) {
	truth, err := ReadNPY(truthPath)
	if err != nil {
		return nil, err
	}
	recon, err := ReadNPY(reconPath)
	if err != nil {
		return nil, err
	}
	switch t := truth.(type) {
	case Image:
		r, ok := recon.(Image)
		if !ok {
			return nil, fmt.Errorf("compare %s with %s: the truth is real but the reconstruction is complex", truthPath, reconPath)
		}
		res, err := Compare(t, r, opts)
		if err != nil {
			return nil, fmt.Errorf("compare %s with %s: %w", truthPath, reconPath, err)
		}
		return res.Map(), nil
	case ComplexImage:
		r, ok := recon.(ComplexImage)
		if !ok {
			return nil, fmt.Errorf("compare %s with %s: the truth is complex but the reconstruction is real", truthPath, reconPath)
		}
		amp, phase, err := CompareComplex(t, r, opts)
		if err != nil {
			return nil, fmt.Errorf("compare %s with %s: %w", truthPath, reconPath, err)
		}
		m := amp.Map()
		for k, v := range phase.Map() {
			m[k] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("read %s: unsupported array", truthPath)
}
