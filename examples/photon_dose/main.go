// Command photon_dose stands in for a ptychographic reconstruction network
// in gridstudy's example study. It works in the three steps of a real
// study:
//
//	photon_dose simulate --nphotons 1e4 --n-images 1024 --out dataset.gob
//	photon_dose --model pinn --data dataset.gob --tv-weight 1e-2 --trial 1
//	photon_dose compare --pinn RUN_DIR --baseline RUN_DIR
//
// simulate draws a random object and a scan of n_images Gaussian frames of
// nphotons photons each and writes them to a dataset file: the study's
// simulate stage, once per setting. A run (no subcommand) draws the photon
// noise of its trial, reconstructs the object with one of two models,
// reports image-quality metrics as gridstudy's run protocol asks (JSON
// lines appended to $GRIDSTUDY_METRICS, stdout when unset: one history
// line per solver step and one final line) and leaves its image in
// recon.gob. compare reads the images of two runs of the same dataset and
// trial and reports for pinn what only a comparison can say: its PSNR gain
// over the baseline and the fraction of pixels it gets closer.
//
// Models: "baseline" normalises the counts by the exposure (stitching);
// "pinn" deconvolves the known PSF with a total-variation prior of weight
// tv_weight. Like the real network, pinn beats the baseline when tv_weight
// suits the dose and loses to it when it does not.
//
// A run's tv_weight and trial come from the environment gridstudy sets
// (GRIDSTUDY_PARAM_TV_WEIGHT, GRIDSTUDY_TRIAL) or from flags, which win.
// The noise of a trial depends on the dataset and the trial number only, so
// the two models of a trial see the same counts and compare's figures are
// paired differences.
//
// Exit status: 0 on success, 1 when a file cannot be read or written or
// the metrics cannot be computed, 2 on bad usage or a bad parameter.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/metrics"
)

// Bounds on the parameters. Beyond maxPhotons the log-density test of PTRS
// loses precision; beyond maxImages a simulation would take minutes.
const (
	maxPhotons = 1e10
	maxImages  = 1 << 20
)

// reconFile is the name of a run's image in its folder, where compare
// looks for it.
const reconFile = "recon.gob"

// params is one run's configuration.
type params struct {
	model    string
	data     string // dataset file
	out      string // reconstruction file
	tvWeight float64
	trial    uint64
}

// usageError marks a problem with the command line or the parameters.
type usageError struct{ error }

func main() {
	os.Exit(mainErr(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// mainErr runs the command and returns its exit status.
func mainErr(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "simulate":
		err = simulateCmd(args[1:], stdout)
	case len(args) > 0 && args[0] == "compare":
		err = compareCmd(args[1:], getenv, stdout)
	default:
		err = runCmd(args, getenv, stdout)
	}
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "photon_dose: %v\n", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// parseFlags parses args into fs, printing the usage on --help.
func parseFlags(fs *pflag.FlagSet, args []string, usage string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: %s\n%s", usage, fs.FlagUsages())
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// runCmd reconstructs one run.
func runCmd(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlagSet()
	if err := parseFlags(fs, args, "photon_dose --model pinn|baseline --data DATASET [flags]\n       (photon_dose simulate --help, photon_dose compare --help: the other steps)", stdout); err != nil {
		return err
	}
	p, err := parseParams(fs, getenv)
	if err != nil {
		return err
	}
	return withMetrics(getenv("GRIDSTUDY_METRICS"), stdout, func(w io.Writer) error { return run(p, w) })
}

// newFlagSet declares the flags of a run. tv-weight and trial are
// strings so that a flag given by hand can be told from one left to the
// environment.
func newFlagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("photon_dose", pflag.ContinueOnError)
	fs.String("model", "", `model: "pinn" or "baseline" (required)`)
	fs.String("data", "", "dataset file written by photon_dose simulate (required)")
	fs.String("out", reconFile, "file to write the reconstruction to, for photon_dose compare")
	fs.String("tv-weight", "", "TV prior weight of pinn (default $GRIDSTUDY_PARAM_TV_WEIGHT)")
	fs.String("trial", "", "trial number, which picks the photon noise (default $GRIDSTUDY_TRIAL, else 1)")
	return fs
}

// parseParams reads a run's parameters from the parsed flags, falling back
// on the environment gridstudy sets for a run.
func parseParams(fs *pflag.FlagSet, getenv func(string) string) (params, error) {
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
	if p.data, _ = fs.GetString("data"); p.data == "" {
		return p, usageError{errors.New("--data is required (a file of photon_dose simulate)")}
	}
	if p.out, _ = fs.GetString("out"); p.out == "" {
		return p, usageError{errors.New("--out must not be empty")}
	}
	if p.model == "pinn" {
		if p.tvWeight, err = nonNegative(value("tv-weight", "GRIDSTUDY_PARAM_TV_WEIGHT")); err != nil {
			return p, err
		}
	}
	p.trial = 1
	if s, name := value("trial", "GRIDSTUDY_TRIAL"); s != "" {
		if p.trial, err = strconv.ParseUint(s, 10, 64); err != nil {
			return p, usageError{fmt.Errorf("%s=%q: want a trial number of at least 0", name, s)}
		}
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

// withMetrics calls fn with the file at path opened for appending, or with
// stdout when path is empty.
func withMetrics(path string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "" {
		return fn(stdout)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open metrics file: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write metrics file: %w", err)
	}
	return nil
}

// run reconstructs one run from its dataset, writing its history and final
// metrics to w as JSON lines and its image to p.out.
func run(p params, w io.Writer) error {
	d, err := readDataset(p.data)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	data, err := filepath.Abs(p.data)
	if err != nil {
		return err
	}
	// The noise depends on the dataset and the trial alone, so every model
	// of a trial sees the same counts. (The second PCG word, "photon" in
	// ASCII, only picks a stream.)
	rng := rand.New(rand.NewPCG(p.trial, d.Seed^0x70686f746f6e))
	ex := acquire(rng, d.Object, d.Exposure, d.NPhotons)

	var recon grid
	var werr error
	emit := func(m map[string]float64) {
		if werr == nil {
			werr = writeLine(w, "", m)
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
	r := reconstruction{Format: reconFormat, Model: p.model, Dataset: data, Trial: int(p.trial), Recon: make([]float32, len(recon))}
	for i, v := range recon {
		r.Recon[i] = float32(v)
	}
	return writeGob(p.out, r)
}

// psnr is the standard-convention PSNR of the metrics package for data range
// 1, 10·log10(1/MSE), for the history lines and compare: the full
// metrics.Compare costs about 10 ms, as much as eight solver steps.
func psnr[T float32 | float64](truth grid, recon []T) float64 {
	var mse float64
	for i, t := range truth {
		d := t - float64(recon[i])
		mse += d * d
	}
	return -10 * math.Log10(mse/float64(len(truth)))
}

func image(g grid) metrics.Image { return metrics.Image{Rows: size, Cols: size, Data: g} }

// writeLine writes m as one JSON object, with "model": model unless model
// is empty. Non-finite values, which JSON cannot hold, are left out: a
// missing metric is honest, a made-up one not (a perfect image has no
// finite PSNR).
func writeLine(w io.Writer, model string, m map[string]float64) error {
	line := map[string]any{}
	if model != "" {
		line["model"] = model
	}
	for k, v := range m {
		if finite(v) {
			line[k] = v
		}
	}
	return writeJSON(w, line)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// simulateCmd writes the dataset of one (nphotons, n_images) setting.
func simulateCmd(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("photon_dose simulate", pflag.ContinueOnError)
	fs.String("nphotons", "", "photons per frame (required)")
	fs.String("n-images", "", "number of frames (required)")
	fs.String("seed", "1", "seed of the object and scan positions; the default gives every setting the same object")
	out := fs.String("out", "", "dataset file to write (required)")
	if err := parseFlags(fs, args, "photon_dose simulate --nphotons N --n-images N --out FILE [--seed S]", stdout); err != nil {
		return err
	}
	flag := func(name string) (string, string) { return fs.Lookup(name).Value.String(), "--" + name }
	d := dataset{Format: datasetFormat}
	var err error
	if d.NPhotons, err = positive(flag("nphotons")); err != nil {
		return err
	}
	if d.NPhotons > maxPhotons {
		return usageError{fmt.Errorf("--nphotons %g is above the supported %g", d.NPhotons, maxPhotons)}
	}
	if d.NImages, err = count(flag("n-images")); err != nil {
		return err
	}
	if d.Seed, err = parseSeed(flag("seed")); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("--out is required")}
	}
	// The object comes first from the stream, so one seed gives every
	// setting the same object, as a real study simulates each dose from
	// one object and probe.
	object, exposure := scan(rand.New(rand.NewPCG(d.Seed, 0)), d.NImages)
	d.Object, d.Exposure = object, exposure
	return writeGob(*out, d)
}

// compareCmd compares the images of a pinn run and a baseline run of the
// same dataset and trial.
func compareCmd(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("photon_dose compare", pflag.ContinueOnError)
	dirs := map[string]*string{
		"pinn":     fs.String("pinn", "", "folder of the pinn run (required)"),
		"baseline": fs.String("baseline", "", "folder of the baseline run (required)"),
	}
	if err := parseFlags(fs, args, "photon_dose compare --pinn DIR --baseline DIR", stdout); err != nil {
		return err
	}
	models := []string{"pinn", "baseline"}
	for _, model := range models {
		if *dirs[model] == "" {
			return usageError{fmt.Errorf("--%s is required", model)}
		}
	}
	recons := map[string]*reconstruction{}
	for _, model := range models {
		r, err := readReconstruction(filepath.Join(*dirs[model], reconFile))
		if err != nil {
			return fmt.Errorf("--%s: %w", model, err)
		}
		if r.Model != model {
			return fmt.Errorf("--%s: %s holds a %s run", model, *dirs[model], r.Model)
		}
		recons[model] = r
	}
	pn, bl := recons["pinn"], recons["baseline"]
	if pn.Dataset != bl.Dataset || pn.Trial != bl.Trial {
		return fmt.Errorf("the runs saw different data: pinn %s trial %d, baseline %s trial %d",
			pn.Dataset, pn.Trial, bl.Dataset, bl.Trial)
	}
	d, err := readDataset(pn.Dataset)
	if err != nil {
		return err
	}
	truth := grid(d.Object)
	// closer counts the pixels where pinn's error is strictly the smaller.
	closer := 0
	for i, t := range truth {
		if math.Abs(float64(pn.Recon[i])-t) < math.Abs(float64(bl.Recon[i])-t) {
			closer++
		}
	}
	// The line goes to pinn's run only: the baseline's run of a setting and
	// trial is compared with each tv_weight's pinn, so it would get five
	// values of one metric.
	line := map[string]float64{
		"psnr_gain":   psnr(truth, pn.Recon) - psnr(truth, bl.Recon),
		"closer_frac": float64(closer) / float64(len(truth)),
	}
	return withMetrics(getenv("GRIDSTUDY_METRICS"), stdout, func(w io.Writer) error {
		if err := writeLine(w, "pinn", line); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
		return nil
	})
}
