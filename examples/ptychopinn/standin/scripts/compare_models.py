"""Stand-in for scripts/compare_models.py of PtychoPINN (hoidn/PtychoPINN at
712c23f), for gridstudy's tests.

parse_args is copied verbatim, so it accepts exactly the real flags. Like
the real script it loads the PtychoPINN model from <pinn_dir>/wts.h5.zip,
the baseline from the first baseline_model.h5 under <baseline_dir> (else
<baseline_dir>/wts.h5.zip) and the ground truth from the objectGuess of
--test_data, and writes into --output_dir:

- comparison_metrics.csv, as save_metrics_csv writes it with pandas: columns
  model,metric,amplitude,phase,value; one row per model (PtychoPINN,
  Baseline) and metric with an (amplitude, phase) pair (mae, mse, psnr,
  ssim, ms_ssim, frc50, frc1over7), then registration_offset_dy/dx and
  computation_time_s in value; floats as %.6f, a missing value empty;
- reconstructions.npz and reconstructions_metadata.txt (unless --no-save-npz),
  reconstructions_aligned.npz (unless --no-save-npz-aligned), with the real
  array names.

The reconstructions are synthetic (the object plus the noise level the
stand-in model records) and the metrics simple numpy versions of the real
ones; there is no TensorFlow.
"""

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

project_root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
if project_root not in sys.path:
    sys.path.insert(0, project_root)

import numpy as np

from ptycho import standin
from ptycho.cli_args import add_logging_arguments


def parse_args():
    """Parse command line arguments."""
    parser = argparse.ArgumentParser(description="Compare PtychoPINN and Baseline models.")
    parser.add_argument("--pinn_dir", type=Path, required=True,
                        help="Directory of the trained PtychoPINN model.")
    parser.add_argument("--baseline_dir", type=Path, required=True,
                        help="Directory of the trained baseline model.")
    parser.add_argument("--test_data", type=Path, required=True,
                        help="Path to the test data NPZ file.")
    parser.add_argument("--output_dir", type=Path, required=True,
                        help="Directory to save comparison results.")
    parser.add_argument("--p_min", type=float, default=10.0,
                        help="Lower percentile for color scale (default: 10.0).")
    parser.add_argument("--p_max", type=float, default=90.0,
                        help="Upper percentile for color scale (default: 90.0).")
    parser.add_argument("--pinn_phase_vmin", type=float, default=None,
                        help="PtychoPINN phase vmin (default: auto from percentiles).")
    parser.add_argument("--pinn_phase_vmax", type=float, default=None,
                        help="PtychoPINN phase vmax (default: auto from percentiles).")
    parser.add_argument("--baseline_phase_vmin", type=float, default=None,
                        help="Baseline phase vmin (default: auto from percentiles).")
    parser.add_argument("--baseline_phase_vmax", type=float, default=None,
                        help="Baseline phase vmax (default: auto from percentiles).")
    parser.add_argument("--skip-registration", action="store_true",
                        help="Skip automatic registration before evaluation (for debugging).")
    parser.add_argument("--register-ptychi-only", action="store_true",
                        help="Apply registration ONLY to pty-chi/tike, not to PtychoPINN or Baseline.")
    parser.add_argument("--save-npz", action="store_true", default=True,
                        help="Save NPZ files containing amplitude and phase data for all reconstructions and ground truth (default: enabled).")
    parser.add_argument("--no-save-npz", action="store_true",
                        help="Disable NPZ file export to save disk space.")
    parser.add_argument("--save-npz-aligned", action="store_true", default=True,
                        help="Save post-registration aligned NPZ files (default: enabled).")
    parser.add_argument("--no-save-npz-aligned", action="store_true",
                        help="Disable aligned NPZ file export to save disk space.")
    parser.add_argument("--phase-align-method", choices=['plane', 'mean'], default='plane',
                        help="Method for phase alignment: 'plane' (fit and remove planes, default) or 'mean' (subtract mean).")
    parser.add_argument("--frc-sigma", type=float, default=0.0,
                        help="Gaussian smoothing sigma for FRC calculation (0 = no smoothing, default: 0.0).")
    parser.add_argument("--save-debug-images", action="store_true",
                        help="Save debug images for MS-SSIM and FRC preprocessing visualization.")
    parser.add_argument("--ms-ssim-sigma", type=float, default=1.0,
                        help="Gaussian smoothing sigma for MS-SSIM amplitude calculation (default: 1.0).")
    parser.add_argument("--n-test-groups", type=int, default=None,
                        help="Number of test groups to load from the file (default: all).")
    parser.add_argument("--n-test-subsample", type=int, default=None,
                        help="Number of images to subsample from test data for evaluation.")
    parser.add_argument("--test-subsample-seed", type=int, default=None,
                        help="Random seed for reproducible test subsampling")
    # Legacy compatibility
    parser.add_argument("--n-test-images", type=int, default=None,
                        help="DEPRECATED: Use --n-test-groups instead.")
    parser.add_argument("--n-subsample", type=int, default=None,
                        help="DEPRECATED: Use --n-test-subsample instead.")
    parser.add_argument("--subsample-seed", type=int, default=None,
                        help="DEPRECATED: Use --test-subsample-seed instead.")
    parser.add_argument("--tike_recon_path", type=Path, default=None,
                        help="Path to Tike reconstruction NPZ file for three-way comparison (optional).")
    parser.add_argument("--stitch-crop-size", type=int, default=20,
                        help="Crop size M for patch stitching (must be 0 < M <= N, default: 20).")
    parser.add_argument("--fixed-canvas", action="store_true", default=False,
                        help="Use full test-data coordinate bounding box for GT/recon alignment to keep plots consistent across different subsets.")
    parser.add_argument("--baseline-debug-limit", type=int, default=None,
                        help="Limit baseline inference to first N groups for debugging (default: all groups).")
    parser.add_argument("--baseline-debug-dir", type=Path, default=None,
                        help="Directory to save baseline debug artifacts (NPZ with inputs/outputs/offsets, JSON with stats).")
    parser.add_argument("--baseline-chunk-size", type=int, default=None,
                        help="Process baseline inference in chunks of N groups to reduce GPU memory (default: None = all at once).")
    parser.add_argument("--baseline-predict-batch-size", type=int, default=32,
                        help="Batch size for baseline model.predict() within each chunk (default: 32).")
    parser.add_argument("--pinn-chunk-size", type=int, default=None,
                        help="Process PINN inference in chunks of N groups to reduce GPU memory (default: None = all at once).")
    parser.add_argument("--pinn-predict-batch-size", type=int, default=32,
                        help="Batch size for PINN model.predict() within each chunk (default: 32).")

    # Add logging arguments
    add_logging_arguments(parser)
    
    return parser.parse_args()


def load_pinn_model(model_dir: Path):
    archive = model_dir / "wts.h5.zip"
    if not archive.exists():
        raise FileNotFoundError(f"Model archive not found: {archive}")
    return standin.read_model(archive)


def load_baseline_model(baseline_dir: Path):
    for root, _, files in os.walk(baseline_dir):
        if "baseline_model.h5" in files:
            return standin.read_model(Path(root) / "baseline_model.h5")
    return load_pinn_model(baseline_dir)


def reconstruct(gt, info, seed):
    """The synthetic reconstruction of a model: gt with its noise level."""
    rng = np.random.default_rng(seed)
    level = info['noise_level']
    amp = np.abs(gt) * (1 + level * rng.standard_normal(gt.shape))
    phase = np.angle(gt) + level * rng.standard_normal(gt.shape)
    return amp * np.exp(1j * phase)


def ssim(a, b):
    """Global SSIM (one window over the whole image), data range of a."""
    r = max(float(a.max() - a.min()), 1e-12)
    c1, c2 = (0.01 * r) ** 2, (0.03 * r) ** 2
    ma, mb = a.mean(), b.mean()
    cov = ((a - ma) * (b - mb)).mean()
    return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (a.var() + b.var() + c2))


def frc_cutoffs(a, b):
    """FRC curve over rings, and where it first falls below 0.5 and 1/7,
    interpolated between rings (as ptycho/evaluation.py since 898b42e)."""
    fa, fb = np.fft.fftshift(np.fft.fft2(a)), np.fft.fftshift(np.fft.fft2(b))
    h, w = a.shape
    y, x = np.indices(a.shape)
    rings = np.round(np.hypot(y - h // 2, x - w // 2)).astype(int)
    num = np.bincount(rings.ravel(), (fa * fb.conj()).real.ravel())
    den = np.sqrt(np.bincount(rings.ravel(), (np.abs(fa) ** 2).ravel()) *
                  np.bincount(rings.ravel(), (np.abs(fb) ** 2).ravel()))
    curve = num / np.maximum(den, 1e-30)

    def crossing(t):
        for i in range(1, len(curve)):
            if curve[i] < t:
                return i - 1 + (curve[i - 1] - t) / (curve[i - 1] - curve[i])
        return float(len(curve) - 1)
    return curve, crossing(0.5), crossing(1 / 7)


def eval_reconstruction(recon, gt):
    """(amplitude, phase) pairs of each metric, as eval_reconstruction returns."""
    out = {}
    pairs = [(np.abs(recon), np.abs(gt)), (np.angle(recon), np.angle(gt))]
    vals = {k: [] for k in ('mae', 'mse', 'psnr', 'ssim', 'ms_ssim', 'frc50', 'frc1over7')}
    for pred, target in pairs:
        err = pred - target
        mse = float((err ** 2).mean())
        vals['mae'].append(float(np.abs(err).mean()))
        vals['mse'].append(mse)
        r = float(target.max() - target.min()) or 1.0
        vals['psnr'].append(10 * math.log10(r * r / mse) if mse > 0 else math.inf)
        vals['ssim'].append(float(ssim(target, pred)))
        scales, p, t = [], pred, target
        while min(p.shape) >= 7 and len(scales) < 5:
            scales.append(float(ssim(t, p)))
            p, t = p[::2, ::2], t[::2, ::2]
        vals['ms_ssim'].append(float(np.prod(np.clip(scales, 0, None)) ** (1 / len(scales))))
        _, f50, f7 = frc_cutoffs(target, pred)
        vals['frc50'].append(f50)
        vals['frc1over7'].append(f7)
    for k, v in vals.items():
        out[k] = tuple(v)
    return out


def _fmt(v):
    # pandas' to_csv(float_format='%.6f'): NaN as an empty field.
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ''
    return '%.6f' % v


def save_metrics_csv(pinn_metrics, baseline_metrics, output_path, pinn_offset, baseline_offset, pinn_time, baseline_time):
    """comparison_metrics.csv in save_metrics_csv's tidy format."""
    rows = []
    for model, metrics in (('PtychoPINN', pinn_metrics), ('Baseline', baseline_metrics)):
        for name, value in metrics.items():
            rows.append([model, name, _fmt(value[0]), _fmt(value[1]), ''])
    for model, offset in (('PtychoPINN', pinn_offset), ('Baseline', baseline_offset)):
        if offset is not None:
            rows.append([model, 'registration_offset_dy', '', '', _fmt(float(offset[0]))])
            rows.append([model, 'registration_offset_dx', '', '', _fmt(float(offset[1]))])
    for model, t in (('PtychoPINN', pinn_time), ('Baseline', baseline_time)):
        rows.append([model, 'computation_time_s', '', '', _fmt(float(t))])
    with open(output_path, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['model', 'metric', 'amplitude', 'phase', 'value'])
        w.writerows(rows)
    print("\n--- Comparison Metrics ---")
    for r in rows:
        print(" ".join(x or "NaN" for x in r))


def save_npz(path, recons, gt):
    data = {}
    for prefix, c in (('ptychopinn', recons[0]), ('baseline', recons[1]), ('ground_truth', gt)):
        data[prefix + '_amplitude'] = np.abs(c)
        data[prefix + '_phase'] = np.angle(c)
        data[prefix + '_complex'] = c
    np.savez_compressed(path, **data)
    return data


def main():
    args = parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    pinn = load_pinn_model(args.pinn_dir)
    baseline = load_baseline_model(args.baseline_dir)
    with np.load(args.test_data, allow_pickle=True) as test:
        gt = np.squeeze(test['objectGuess'])

    t0 = time.time()
    pinn_recon = reconstruct(gt, pinn, 1)
    pinn_time = time.time() - t0
    t0 = time.time()
    baseline_recon = reconstruct(gt, baseline, 2)
    baseline_time = time.time() - t0

    offsets = (None, None) if args.skip_registration else ((0.0, 0.0), (0.0, 0.0))
    save_metrics_csv(eval_reconstruction(pinn_recon, gt), eval_reconstruction(baseline_recon, gt),
                     args.output_dir / "comparison_metrics.csv", offsets[0], offsets[1], pinn_time, baseline_time)
    if args.save_npz and not args.no_save_npz:
        data = save_npz(args.output_dir / "reconstructions.npz", (pinn_recon, baseline_recon), gt)
        with open(args.output_dir / "reconstructions_metadata.txt", 'w') as f:
            f.write("NPZ File Contents:\n==================\n\nArrays saved in reconstructions.npz:\n")
            for key, v in data.items():
                f.write(f"- {key}: {v.shape} {v.dtype}\n")
    if args.save_npz_aligned and not args.no_save_npz_aligned:
        save_npz(args.output_dir / "reconstructions_aligned.npz", (pinn_recon, baseline_recon), gt)


if __name__ == "__main__":
    main()
