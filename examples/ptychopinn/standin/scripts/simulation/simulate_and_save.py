#!/usr/bin/env python
"""Stand-in for scripts/simulation/simulate_and_save.py of PtychoPINN
(hoidn/PtychoPINN at 712c23f), for gridstudy's tests.

parse_arguments is copied verbatim. It reads objectGuess and probeGuess from
--input-file, draws --n-images scan positions with np.random.seed(--seed),
simulates Poisson diffraction amplitudes of --n-photons photons per pattern
(plain numpy: |FFT(probe x object patch)|, no TensorFlow) and writes
--output-file with the real arrays (xcoords, ycoords, xcoords_start,
ycoords_start, diff3d, probeGuess, objectGuess, scan_index,
ground_truth_patches) and the real `_metadata` entry, whose nphotons
ptycho_train reads back.
"""

import argparse
import os
import sys
from pathlib import Path

# Add project root to Python path
project_root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
if project_root not in sys.path:
    sys.path.insert(0, project_root)

import numpy as np

from ptycho.config.config import TrainingConfig, ModelConfig
from ptycho.metadata import MetadataManager


def load_data_for_sim(file_path):
    """Load objectGuess and probeGuess as the real load_data_for_sim does."""
    if not os.path.exists(file_path):
        raise FileNotFoundError(f"Input file not found: {file_path}")
    data_dict, _ = MetadataManager.load_with_metadata(file_path)
    if 'objectGuess' not in data_dict or 'probeGuess' not in data_dict:
        raise ValueError("The .npz file must contain 'objectGuess' and 'probeGuess'")
    return data_dict['objectGuess'], data_dict['probeGuess']


def simulate_and_save(config, input_file_path, output_file_path, buffer=None, seed=None):
    object_guess, probe_guess = load_data_for_sim(str(input_file_path))
    print(f"Loading object and probe from: {input_file_path}")
    n = probe_guess.shape[0]
    if buffer is None:
        buffer = max(probe_guess.shape) // 2
    if seed is not None:
        print(f"Setting random seed to: {seed}")
        np.random.seed(seed)
    print(f"Simulating {config.n_images} diffraction patterns...")
    h, w = object_guess.shape
    xcoords = np.random.uniform(buffer, w - buffer, config.n_images)
    ycoords = np.random.uniform(buffer, h - buffer, config.n_images)
    patches = np.empty((config.n_images, n, n, 1), dtype=np.complex64)
    diff3d = np.empty((config.n_images, n, n), dtype=np.float32)
    for i, (x, y) in enumerate(zip(xcoords, ycoords)):
        x0, y0 = int(round(x)) - n // 2, int(round(y)) - n // 2
        patch = object_guess[y0:y0 + n, x0:x0 + n]
        patches[i, ..., 0] = patch
        intensity = np.abs(np.fft.fftshift(np.fft.fft2(probe_guess * patch))) ** 2
        counts = np.random.poisson(config.nphotons * intensity / max(intensity.sum(), 1e-30))
        diff3d[i] = np.sqrt(counts)
    print("Simulation complete.")

    Path(output_file_path).parent.mkdir(parents=True, exist_ok=True)
    print(f"Saving simulated data to: {output_file_path}")
    data_dict = {
        'xcoords': xcoords,
        'ycoords': ycoords,
        'xcoords_start': xcoords.copy(),
        'ycoords_start': ycoords.copy(),
        'diff3d': diff3d,
        'probeGuess': probe_guess,
        'objectGuess': object_guess,
        'scan_index': np.zeros(config.n_images, dtype=int),
        'ground_truth_patches': patches,
    }
    metadata = MetadataManager.create_metadata(
        config=config,
        script_name="simulate_and_save.py",
        input_file=str(input_file_path),
        buffer=buffer,
        seed=seed,
        simulation_type="coordinate_based"
    )
    MetadataManager.save_with_metadata(str(output_file_path), data_dict, metadata)
    print(f"File saved successfully with metadata (nphotons={config.nphotons}).")


def parse_arguments() -> argparse.Namespace:
    """Parse command-line arguments for the simulation script."""
    parser = argparse.ArgumentParser(
        description="Generate and save a simulated ptychography dataset."
    )
    parser.add_argument(
        "--input-file", type=str, required=True,
        help="Path to the input .npz file containing 'objectGuess' and 'probeGuess'."
    )
    parser.add_argument(
        "--output-file", type=str, required=True,
        help="Path to save the output simulated data as an .npz file."
    )
    parser.add_argument("--n-images", type=int, default=500, help="Number of scan positions to simulate.")
    parser.add_argument("--n-photons", type=float, default=1e9, help="Total photon count for normalization.")
    parser.add_argument("--gridsize", type=int, default=1, help="Grid size for simulation (usually 1 for PINN-style).")
    parser.add_argument("--buffer", type=float, default=None, help="Border size for random coordinates.")
    parser.add_argument("--seed", type=int, default=42, help="Random seed for reproducibility.")
    parser.add_argument(
        "--visualize", action="store_true",
        help="If set, generate a PNG visualization of the simulation inputs and outputs."
    )
    return parser.parse_args()

def main():
    """Main function to handle command-line execution."""
    args = parse_arguments()
    if args.gridsize != 1 or args.visualize:
        sys.exit("stand-in simulate_and_save.py: only --gridsize 1 without --visualize is imitated")
    try:
        _, probe_guess = load_data_for_sim(args.input_file)
    except FileNotFoundError:
        print(f"Error: Input file not found at '{args.input_file}'", file=sys.stderr)
        sys.exit(1)

    model_config = ModelConfig(
        N=probe_guess.shape[0],
        gridsize=args.gridsize
    )

    training_config = TrainingConfig(
        model=model_config,
        n_images=args.n_images,
        nphotons=args.n_photons,
        train_data_file=Path("dummy.npz"),
        test_data_file=Path("dummy.npz")
    )
    simulate_and_save(
        config=training_config,
        input_file_path=args.input_file,
        output_file_path=args.output_file,
        buffer=args.buffer,
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
