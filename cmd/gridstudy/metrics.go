package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/metrics"
)

func metricsCmd() *command {
	var (
		truth, recon string
		convention   string
		dataRange    float64
		gaussian     bool
		asJSON       bool
	)
	return &command{
		name:  "metrics",
		usage: "--truth A.npy --recon B.npy [--convention standard|ptychopinn] [--json]",
		short: "image-quality metrics of a reconstruction against its truth",
		long: `Metrics compares a reconstruction with its ground truth, both .npy arrays
(float32/64 or complex64/128, C or Fortran order, 2-D), and prints MSE, MAE,
PSNR, SSIM, MS-SSIM and where the FRC falls below 0.5 (frc50), 1/7
(frc1over7) and the half-bit threshold (frc_halfbit). Complex arrays are
compared by amplitude (amp_*) and phase (phase_*); phase metrics need
complex arrays, since a real array is taken as an amplitude.

Two conventions: "standard" (scikit-image's PSNR and SSIM, TensorFlow's
MS-SSIM, FRC with the real part of the ring sum, FRC50 in cycles/pixel) and
"ptychopinn" (PtychoPINN's ptycho/evaluation.py as of 2026-07: FRC
crossings in rings, interpolated between them). Their values are not
comparable; the convention is printed with them.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&truth, "truth", "", "ground truth `FILE` (.npy)")
			fs.StringVar(&recon, "recon", "", "reconstruction `FILE` (.npy)")
			fs.StringVar(&convention, "convention", "standard", "standard or ptychopinn")
			fs.Float64Var(&dataRange, "data-range", 0, "data range for PSNR/SSIM (0: inferred as scikit-image does)")
			fs.BoolVar(&gaussian, "gaussian-ssim", false, "also report SSIM with an 11x11 Gaussian window (ssim_gaussian)")
			fs.BoolVar(&asJSON, "json", false, "print a JSON object")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if truth == "" || recon == "" || len(args) > 0 {
				return usagef("give --truth and --recon, and nothing else")
			}
			if convention != string(metrics.Standard) && convention != string(metrics.PtychoPINN) {
				return usagef("--convention %q: want standard or ptychopinn", convention)
			}
			m, err := metrics.CompareFiles(truth, recon, metrics.Options{Convention: metrics.Convention(convention), DataRange: dataRange, GaussianSSIM: gaussian})
			if err != nil {
				// Missing files, shapes, dtypes and ranges that do not fit
				// are all bad input.
				return usagef("%v", err)
			}
			names := make([]string, 0, len(m))
			for k := range m {
				names = append(names, k)
			}
			sort.Strings(names)
			if asJSON {
				out := map[string]any{"metrics_convention": convention}
				for _, k := range names {
					out[k] = jsonNumber(m[k])
				}
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			fmt.Fprintf(e.stdout, "%-20s %s\n", "metrics_convention", convention)
			for _, k := range names {
				fmt.Fprintf(e.stdout, "%-20s %.6g\n", k, m[k])
			}
			return nil
		},
	}
}

// jsonNumber keeps NaN and infinities, which JSON has no numbers for, as
// the strings Python's json module reads back with float().
func jsonNumber(v float64) any {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return v
}
