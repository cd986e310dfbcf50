#!/usr/bin/python3
"""Generate the .npy fixtures and expected metric values for internal/metrics.

Run from this directory with Debian's python3-skimage and python3-numpy
(scikit-image 0.19.3, numpy 1.24, scipy 1.10 when these files were made):

    /usr/bin/python3 gen_fixtures.py

It writes small image pairs (*.npy) and expected.json. The Go tests read both
and need no Python. Expected values come from:

  * scikit-image: peak_signal_noise_ratio and structural_similarity with their
    defaults, and structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False);
  * tf_ms_ssim below: a numpy transcription of TensorFlow's
    tf.image.ssim_multiscale (float64 instead of TF's float32);
  * ptychopinn_* below: a numpy transcription of the formulas in PtychoPINN's
    ptycho/evaluation.py (eval_reconstruction, ms_ssim, frc_cutoffs with
    _first_below_threshold_interpolated as of hoidn/PtychoPINN 712c23f,
    psnr via cv2) and ptycho/FRC/fourier_ring_corr.py, computed in float64
    throughout.

Float32 fixtures are up-cast to float64 before computing expected values,
because the Go package computes in float64 after reading them.
"""

import json
import math

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

RNG = np.random.default_rng(20240611)

# ---------------------------------------------------------------- TF MS-SSIM

TF_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def tf_kernel(size=11, sigma=1.5):
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-0.5 * coords**2 / sigma**2)
    g /= g.sum()
    return np.outer(g, g)


def valid_filter(x, k):
    n = k.shape[0]
    h, w = x.shape[0] - n + 1, x.shape[1] - n + 1
    out = np.zeros((h, w))
    for i in range(n):
        for j in range(n):
            out += k[i, j] * x[i:i + h, j:j + w]
    return out


def tf_ssim_per_scale(x, y, max_val, k1=0.01, k2=0.03):
    k = tf_kernel()
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    m0 = valid_filter(x, k)
    m1 = valid_filter(y, k)
    num0 = m0 * m1 * 2.0
    den0 = m0**2 + m1**2
    lum = (num0 + c1) / (den0 + c1)
    num1 = valid_filter(x * y, k) * 2.0
    den1 = valid_filter(x * x + y * y, k)
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    return float(np.mean(lum * cs)), float(np.mean(cs))


def tf_downscale(x):
    # SYMMETRIC padding of odd dimensions at the end, then 2x2 VALID average pooling.
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    x = np.pad(x, ((0, ph), (0, pw)), mode="symmetric")
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def tf_ms_ssim(x, y, max_val):
    """tf.image.ssim_multiscale; fewer scales (renormalised weights) below 176 px."""
    scales = 0
    h, w = x.shape
    while scales < 5 and min(h, w) >= 11:
        scales += 1
        h, w = (h + 1) // 2, (w + 1) // 2
    if scales == 0:
        return float("nan"), 0
    weights = TF_WEIGHTS[:scales]
    if scales < 5:
        weights = weights / weights.sum()
    vals = []
    for s in range(scales):
        if s > 0:
            x, y = tf_downscale(x), tf_downscale(y)
        ssim, cs = tf_ssim_per_scale(x, y, max_val)
        vals.append(max(cs, 0.0))
    vals[-1] = max(ssim, 0.0)
    return float(np.prod(np.power(vals, weights))), scales


# ---------------------------------------------------------------- standard FRC


def standard_frc(a, b):
    h, w = a.shape
    n = min(h, w)
    fa, fb = np.fft.fft2(a), np.fft.fft2(b)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    ring = np.rint(np.sqrt(fy**2 + fx**2) * n).astype(int)
    keep = ring <= n // 2
    nr = n // 2 + 1
    num = np.bincount(ring[keep], (fa * np.conj(fb)).real[keep], nr)
    pa = np.bincount(ring[keep], (np.abs(fa) ** 2)[keep], nr)
    pb = np.bincount(ring[keep], (np.abs(fb) ** 2)[keep], nr)
    counts = np.bincount(ring[keep], minlength=nr)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = num / np.sqrt(pa * pb)
    return curve, counts, n


def crossing(curve, thresh, n):
    d = curve - thresh
    for i in range(len(d)):
        if d[i] < 0:
            if i > 0 and np.isfinite(d[i - 1]):
                return ((i - 1) + d[i - 1] / (d[i - 1] - d[i])) / n
            return i / n
    return (len(d) - 1) / n


def standard_frc_cutoffs(a, b):
    curve, counts, n = standard_frc(a, b)
    halfbit = (0.2071 + 1.9102 / np.sqrt(counts)) / (1.2071 + 0.9102 / np.sqrt(counts))
    return crossing(curve, 0.5, n), crossing(curve, 1.0 / 7.0, n), crossing(curve, halfbit, n)


# ---------------------------------------------------------------- standard metrics


def psnr_range(truth):
    lo, hi = truth.min(), truth.max()
    if lo < -1 or hi > 1:
        return None
    return 1.0 if lo >= 0 else 2.0


def standard_real(truth, recon, data_range=None, ssim_range=None):
    """Metrics of the standard convention; data_range None = infer like skimage."""
    r = data_range if data_range is not None else psnr_range(truth)
    out = {
        "mse": float(np.mean((truth - recon) ** 2)),
        "mae": float(np.mean(np.abs(truth - recon))),
        "psnr": float(peak_signal_noise_ratio(truth, recon, data_range=data_range)),
        # data_range=None: skimage 0.19 uses the float dtype range, 2.
        "ssim": float(structural_similarity(truth, recon, data_range=ssim_range)),
        "ssim_gaussian": float(structural_similarity(
            truth, recon, data_range=ssim_range, gaussian_weights=True,
            sigma=1.5, use_sample_covariance=False)),
    }
    out["ms_ssim"], out["ms_ssim_scales"] = tf_ms_ssim(truth, recon, r)
    out["frc50"], out["frc1over7"], out["frc_halfbit"] = standard_frc_cutoffs(truth, recon)
    out["data_range"] = r
    return out


def standard_complex(truth, recon, data_range=None):
    amp = standard_real(np.abs(truth), np.abs(recon), data_range, data_range)
    c = np.sum(recon * np.conj(truth))
    if c != 0:
        recon = recon * np.conj(c) / abs(c)
    two_pi = 2 * math.pi
    phase = standard_real(np.angle(truth), np.angle(recon), two_pi, two_pi)
    return amp, phase


# ---------------------------------------------------------------- PtychoPINN


def pp_trim(a):
    return a[2:-2, 2:-2]  # params offset = 4, trimmed by offset // 2


def pp_remove_plane(p):
    h, w = p.shape
    y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    A = np.column_stack([x.ravel(), y.ravel(), np.ones(h * w)])
    c, _, _, _ = np.linalg.lstsq(A, p.ravel(), rcond=None)
    return p - (c[0] * x + c[1] * y + c[2])


def pp_psnr(t, p):
    # cv2.PSNR(t, p) with R = 255
    diff = math.sqrt(float(np.sum((t - p) ** 2)) / t.size)
    return 20 * math.log10(255.0 / (diff + np.finfo(float).eps))


def pp_ms_ssim(img1, img2, sigma=0.0):
    if sigma > 0:
        img1 = gaussian_filter(img1, sigma)
        img2 = gaussian_filter(img2, sigma)
    weights = TF_WEIGHTS
    data_range = max(img1.max() - img1.min(), img2.max() - img2.min())
    val = 1.0
    for level in range(5):
        s = structural_similarity(img1, img2, data_range=data_range)
        if np.isnan(s):
            return 0.0
        if s < 0:
            s = 0.0001
        val *= s ** weights[level]
        if level < 4:
            img1, img2 = img1[::2, ::2], img2[::2, ::2]
            if min(img1.shape) < 7:
                break
    return float(val)


def pp_fsc(t, p):
    n = min(t.shape)
    h0, w0 = (t.shape[0] - n) // 2, (t.shape[1] - n) // 2
    t = t[h0:h0 + n, w0:w0 + n]
    p = p[h0:h0 + n, w0:w0 + n]
    i1 = np.fft.fftshift(np.fft.fft2(t))
    i2 = np.fft.fftshift(np.fft.fft2(p))
    r = np.arange(n) - n // 2
    R, C = np.meshgrid(r, r)
    idx = np.round(np.sqrt(R**2 + C**2)).astype(int)
    c = np.bincount(idx.ravel(), (i1 * np.conj(i2)).ravel().real) + 1j * np.bincount(
        idx.ravel(), (i1 * np.conj(i2)).ravel().imag)
    c1 = np.bincount(idx.ravel(), (np.abs(i1) ** 2).ravel())
    c2 = np.bincount(idx.ravel(), (np.abs(i2) ** 2).ravel())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(c) / np.sqrt(np.abs(c1 * c2))


def first_below_threshold_interpolated(curve, threshold):
    # PtychoPINN's _first_below_threshold_interpolated, as it is.
    vals = np.asarray(curve, dtype=np.float64)
    if vals.size == 0:
        return np.nan
    finite = np.isfinite(vals)
    if not finite.any():
        return np.nan
    below = np.where(finite & (vals < float(threshold)))[0]
    if below.size == 0:
        return float(len(vals))
    i = int(below[0])
    if i == 0:
        return 0.0
    j = i - 1
    y0 = float(vals[j])
    y1 = float(vals[i])
    if (not np.isfinite(y0)) or (not np.isfinite(y1)):
        return float(i)
    denom = y1 - y0
    if np.isclose(denom, 0.0):
        return float(i)
    x = float(j) + (float(threshold) - y0) / denom
    if not np.isfinite(x):
        return float(i)
    return float(np.clip(x, float(j), float(i)))


def pp_frc_cutoffs(t, p):
    # frc_cutoffs: (frc50, frc1over7), NaN for an all-zero truth.
    if np.max(t) == np.min(t) == 0:
        return float("nan"), float("nan")
    fsc = pp_fsc(t, p)
    return (first_below_threshold_interpolated(fsc, 0.5),
            first_below_threshold_interpolated(fsc, 1.0 / 7.0))


def pp_frc(t, p):
    frc50, frc1over7 = pp_frc_cutoffs(t, p)
    return {"frc50": frc50, "frc1over7": frc1over7}


def ptychopinn_amp(at, ap):
    ap = ap * (np.mean(at) / np.mean(ap))
    return {
        "mae": float(np.mean(np.abs(at - ap))),
        "mse": float(np.mean((at - ap) ** 2)),
        "psnr": pp_psnr(at, ap),
        "ssim": float(structural_similarity(at, ap, data_range=float(at.max() - at.min()))),
        "ms_ssim": pp_ms_ssim(at, ap, sigma=1.0),
        **pp_frc(at, ap),
    }


def ptychopinn_phase(pt, pp):
    ts = (pt + np.pi) / (2 * np.pi)
    ps = (pp + np.pi) / (2 * np.pi)
    return {
        "mae": float(np.mean(np.abs(pt - pp))),
        "mse": float(np.mean((pt - pp) ** 2)),
        "psnr": pp_psnr(pt, pp),
        "ssim": float(structural_similarity(ts, ps, data_range=1.0)),
        "ms_ssim": pp_ms_ssim(ts, ps),
        **pp_frc(pt, pp),
    }


def ptychopinn_complex(truth, recon):
    amp = ptychopinn_amp(pp_trim(np.abs(truth)), pp_trim(np.abs(recon)))
    phase = ptychopinn_phase(pp_remove_plane(pp_trim(np.angle(truth))),
                             pp_remove_plane(pp_trim(np.angle(recon))))
    return amp, phase


# ---------------------------------------------------------------- fixtures


def smooth_field(shape, sigma):
    f = gaussian_filter(RNG.standard_normal(shape), sigma, mode="wrap")
    f -= f.min()
    return f / f.max()


def real_pair(shape, signed=False, noise=0.05, scale=1.0):
    t = smooth_field(shape, 2.0)
    if signed:
        t = 2 * t - 1
    r = 0.9 * t + 0.05 + noise * RNG.standard_normal(shape)
    if not signed:
        r = np.clip(r, 0, None)
    return scale * t, scale * r


def complex_pair(shape):
    amp = 0.3 + 0.6 * smooth_field(shape, 2.5)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    phase = 1.2 * (smooth_field(shape, 3.0) - 0.5)
    truth = amp * np.exp(1j * phase)
    ramp = 0.02 * x - 0.015 * y + 0.4  # a plane and a global offset in the reconstruction
    ramp_amp = 0.8 * (amp + 0.05 * RNG.standard_normal(shape))
    rphase = phase + 0.1 * RNG.standard_normal(shape) + ramp
    return truth, np.abs(ramp_amp) * np.exp(1j * rphase)


def main():
    cases = []

    def add_real(name, t, r, data_range=None, fortran=False, dtype=np.float64):
        t, r = t.astype(dtype), r.astype(dtype)
        for suffix, arr in (("truth", t), ("recon", r)):
            a = np.asfortranarray(arr) if fortran else np.ascontiguousarray(arr)
            np.save(f"{name}_{suffix}.npy", a)
        t64, r64 = t.astype(np.float64), r.astype(np.float64)
        std = standard_real(t64, r64, data_range, data_range)
        pp = ptychopinn_amp(pp_trim(t64), pp_trim(r64))
        cases.append({"name": name, "kind": "real", "data_range": data_range or 0.0,
                      "truth": f"{name}_truth.npy", "recon": f"{name}_recon.npy",
                      "standard": std, "ptychopinn": pp})

    add_real("u32", *real_pair((32, 32)))
    add_real("s64", *real_pair((64, 64), signed=True))
    add_real("r48x80", *real_pair((48, 80), noise=0.1))
    add_real("f32_180x177", *real_pair((180, 177)), dtype=np.float32)
    add_real("fortran40x56", *real_pair((40, 56), signed=True), fortran=True)
    add_real("given255", *real_pair((36, 44), scale=255.0), data_range=255.0)

    t, r = complex_pair((64, 64))
    np.save("c64x64_truth.npy", t.astype(np.complex128))
    np.save("c64x64_recon.npy", r.astype(np.complex128))
    amp, phase = standard_complex(t, r)
    pamp, pphase = ptychopinn_complex(t, r)
    cases.append({"name": "c64x64", "kind": "complex", "data_range": 0.0,
                  "truth": "c64x64_truth.npy", "recon": "c64x64_recon.npy",
                  "standard": {"amp": amp, "phase": phase},
                  "ptychopinn": {"amp": pamp, "phase": pphase}})

    # Reader-only fixtures: the same exactly representable values in other layouts.
    vals = (np.arange(12).reshape(3, 4) / 8.0) + 1j * (np.arange(12).reshape(3, 4) / 4.0)
    np.save("reader_c8.npy", vals.astype(np.complex64))
    np.save("reader_c16_fortran.npy", np.asfortranarray(vals))
    np.save("reader_f8_big.npy", vals.real.astype(">f8"))
    np.save("reader_f4_fortran.npy", np.asfortranarray(vals.real.astype(np.float32)))
    np.save("bad_int32.npy", np.arange(12, dtype=np.int32).reshape(3, 4))
    np.save("bad_3d.npy", np.zeros((2, 2, 2)))
    np.save("bad_1d.npy", np.zeros(5))

    with open("expected.json", "w") as f:
        json.dump({"generator": "gen_fixtures.py",
                   "skimage": __import__("skimage").__version__,
                   "numpy": np.__version__,
                   "cases": cases}, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
