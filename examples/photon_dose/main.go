// Command photon_dose stands in for a ptychographic reconstruction network
// in gridstudy's example study. It simulates a scan of a random object at a
// given photon dose and number of frames, reconstructs it with one of two
// models and reports image-quality metrics as gridstudy's run protocol asks:
// JSON lines appended to $GRIDSTUDY_METRICS (stdout when unset), one
// history line per solver step and one final line.
//
// Models: "baseline" normalises the counts by the exposure (stitching);
// "pinn" deconvolves the known PSF with a total-variation prior of weight
// tv_weight. Like the real network, pinn beats the baseline when tv_weight
// suits the dose and loses to it when it does not.
//
// Parameters come from the environment gridstudy sets
// (GRIDSTUDY_PARAM_NPHOTONS, GRIDSTUDY_PARAM_N_IMAGES,
// GRIDSTUDY_PARAM_TV_WEIGHT, GRIDSTUDY_SEED) or from flags, which win:
//
//	photon_dose --model pinn --nphotons 1e4 --n-images 1024 --tv-weight 1e-2 --seed 1
//
// Exit status: 0 on success, 1 when the metrics cannot be computed or
// written, 2 on bad usage or a bad parameter.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/metrics"
)

// Bounds on the parameters. Beyond maxPhotons the log-density test of PTRS
// loses precision; beyond maxImages a run would take minutes.
const (
	maxPhotons = 1e10
	maxImages  = 1 << 20
)

// params is one run's configuration.
type params struct {
	model    string
	nphotons float64
	nImages  int
	tvWeight float64
	seed     uint64
}

// usageError marks a problem with the command line or the parameters.
type usageError struct{ error }

func main() {
	os.Exit(mainErr(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// mainErr runs the command and returns its exit status.
func mainErr(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := newFlagSet()
	p, err := parseParams(fs, args, getenv)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: photon_dose --model pinn|baseline [flags]\n%s", fs.FlagUsages())
		return 0
	}
	if err == nil {
		err = runTo(p, getenv("GRIDSTUDY_METRICS"), stdout)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "photon_dose: %v\n", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// newFlagSet declares the flags. They are strings so that a flag given
// by hand can be told from one left to the environment.
func newFlagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("photon_dose", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("model", "", `model: "pinn" or "baseline" (required)`)
	fs.String("nphotons", "", "photons per frame (default $GRIDSTUDY_PARAM_NPHOTONS)")
	fs.String("n-images", "", "number of frames (default $GRIDSTUDY_PARAM_N_IMAGES)")
	fs.String("tv-weight", "", "TV prior weight of pinn (default $GRIDSTUDY_PARAM_TV_WEIGHT)")
	fs.String("seed", "", "random seed (default $GRIDSTUDY_SEED, else 0)")
	return fs
}

// parseParams reads the parameters from the flags in args, falling back on
// the environment gridstudy sets for a run.
func parseParams(fs *pflag.FlagSet, args []string, getenv func(string) string) (params, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return params{}, err
		}
		return params{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return params{}, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	// value returns the flag when given, else the environment variable.
	value := func(flag, env string) (string, string) {
		if fs.Changed(flag) {
			return fs.Lookup(flag).Value.String(), "--" + flag
		}
		return strings.TrimSpace(getenv(env)), env
	}

	var p params
	var err error
	switch p.model, _ = fs.GetString("model"); p.model {
	case "pinn", "baseline":
	case "":
		return p, usageError{errors.New(`--model is required ("pinn" or "baseline")`)}
	default:
		return p, usageError{fmt.Errorf(`--model %q: want "pinn" or "baseline"`, p.model)}
	}
	if p.nphotons, err = positive(value("nphotons", "GRIDSTUDY_PARAM_NPHOTONS")); err != nil {
		return p, err
	}
	if p.nphotons > maxPhotons {
		return p, usageError{fmt.Errorf("nphotons %g is above the supported %g", p.nphotons, maxPhotons)}
	}
	if p.nImages, err = count(value("n-images", "GRIDSTUDY_PARAM_N_IMAGES")); err != nil {
		return p, err
	}
	if p.model == "pinn" {
		if p.tvWeight, err = nonNegative(value("tv-weight", "GRIDSTUDY_PARAM_TV_WEIGHT")); err != nil {
			return p, err
		}
	}
	if p.seed, err = parseSeed(value("seed", "GRIDSTUDY_SEED")); err != nil {
		return p, err
	}
	return p, nil
}

// number parses a finite number from a flag or variable named name.
func number(s, name string) (float64, error) {
	if s == "" {
		return 0, usageError{fmt.Errorf("%s is not set", name)}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, usageError{fmt.Errorf("%s=%q: want a finite number", name, s)}
	}
	return x, nil
}

// positive parses a number above 0.
func positive(s, name string) (float64, error) {
	x, err := number(s, name)
	if err == nil && x <= 0 {
		err = usageError{fmt.Errorf("%s=%s: want a number above 0", name, s)}
	}
	return x, err
}

// nonNegative parses a number of at least 0.
func nonNegative(s, name string) (float64, error) {
	x, err := number(s, name)
	if err == nil && x < 0 {
		err = usageError{fmt.Errorf("%s=%s: want a number of at least 0", name, s)}
	}
	return x, err
}

// count parses a whole number of frames; 1e3 and 256.0 are accepted
// because a study may write integers as floats.
func count(s, name string) (int, error) {
	x, err := number(s, name)
	if err != nil {
		return 0, err
	}
	if x < 1 || x > maxImages || x != math.Trunc(x) {
		return 0, usageError{fmt.Errorf("%s=%s: want a whole number from 1 to %d", name, s, maxImages)}
	}
	return int(x), nil
}

// parseSeed accepts any 64-bit integer, signed or not; an unset seed is 0.
func parseSeed(s, name string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, usageError{fmt.Errorf("%s=%q: want an integer", name, s)}
	}
	return uint64(i), nil
}

// runTo runs p and appends its metrics to the file at path, or writes them
// to stdout when path is empty.
func runTo(p params, path string, stdout io.Writer) error {
	if path == "" {
		return run(p, stdout)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open metrics file: %w", err)
	}
	if err := run(p, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write metrics file: %w", err)
	}
	return nil
}

// run simulates and reconstructs one run, writing its history and final
// metrics to w as JSON lines.
func run(p params, w io.Writer) error {
	// The stream depends on the seed alone, so a trial is reproducible and
	// the two models of a trial see the same object, scan and counts.
	// (The second PCG word, "photon" in ASCII, only picks a stream.)
	rng := rand.New(rand.NewPCG(p.seed, 0x70686f746f6e))
	ex := simulate(rng, p.nphotons, p.nImages)

	var recon grid
	var werr error
	emit := func(m map[string]float64) {
		if werr == nil {
			werr = writeLine(w, m)
		}
	}
	switch p.model {
	case "baseline":
		recon = baseline(ex)
	case "pinn":
		k := 0
		recon = pinn(ex, p.tvWeight, func(s step) {
			k++
			emit(map[string]float64{"step": float64(k), "loss": s.loss, "psnr": psnr(ex.object, s.recon)})
		})
	}
	res, err := metrics.Compare(image(ex.object), image(recon), metrics.Options{Convention: metrics.Standard, DataRange: 1})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	// The six metrics the study collects; the package reports more.
	all, final := res.Map(), map[string]float64{}
	for _, name := range []string{"psnr", "ssim", "ms_ssim", "frc50", "mae", "mse"} {
		final[name] = all[name]
	}
	emit(final)
	if werr != nil {
		return fmt.Errorf("write metrics: %w", werr)
	}
	return nil
}

// psnr is the standard-convention PSNR of the metrics package for data range
// 1, 10·log10(1/MSE), for the history lines: the full metrics.Compare
// costs about 10 ms, as much as eight solver steps.
func psnr(truth, recon grid) float64 {
	var mse float64
	for i, t := range truth {
		d := t - recon[i]
		mse += d * d
	}
	return -10 * math.Log10(mse/float64(len(truth)))
}

func image(g grid) metrics.Image { return metrics.Image{Rows: size, Cols: size, Data: g} }

// writeLine writes m as one JSON object. Non-finite values, which JSON
// cannot hold, are left out: a missing metric is honest, a made-up one not.
func writeLine(w io.Writer, m map[string]float64) error {
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(m, k)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
