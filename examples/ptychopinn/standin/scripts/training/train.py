#!/usr/bin/env python
"""Stand-in for scripts/training/train.py of PtychoPINN (hoidn/PtychoPINN at
712c23f), the `ptycho_train` entry point, for gridstudy's tests.

parse_arguments and apply_torch_plateau_overrides are copied verbatim, so
it accepts exactly the real flags with their types and defaults (booleans
use type=bool: `--probe_trainable False` is True). main follows the real
one on the TensorFlow backend: it trains the physics-informed model whatever
--model_type says, takes nphotons from the training file's metadata, prints
Keras' per-epoch lines and log lines on stdout, writes train_debug.log in
the working folder, tmp/subsample_seed<seed>_indices.txt, wts.h5.zip in
--output_dir and, with --do_stitching and test data,
reconstructed_amplitude.png and reconstructed_phase.png. The model and its
numbers are synthetic (ptycho/standin.py); there is no TensorFlow.
"""

import logging
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# Set up file handler for debug logging
file_handler = logging.FileHandler('train_debug.log')
file_handler.setLevel(logging.DEBUG)
file_handler.setFormatter(logging.Formatter('%(asctime)s - %(levelname)s - %(message)s'))

# Set up console handler for info logging
console_handler = logging.StreamHandler(sys.stdout)
console_handler.setLevel(logging.INFO)
console_handler.setFormatter(logging.Formatter('%(asctime)s - %(levelname)s - %(message)s'))

# Configure root logger
logging.getLogger().setLevel(logging.DEBUG)
logging.getLogger().addHandler(file_handler)
logging.getLogger().addHandler(console_handler)

import argparse
import os

from ptycho.workflows.components import (
    setup_configuration,
    load_data,
    logger
)
from ptycho.config.config import TrainingConfig
from ptycho import standin


def parse_arguments():
    """
    Custom parse_arguments extending base with PyTorch execution config flags.

    This wrapper adds PyTorch-specific execution flags on top of the standard
    TrainingConfig fields, following the pattern from scripts/inference/inference.py.
    See docs/workflows/pytorch.md §12 for flag descriptions.
    """
    # Start with a parser that has no arguments yet
    import sys
    from ptycho.cli_args import add_logging_arguments
    from ptycho.config.config import TrainingConfig, ModelConfig
    from dataclasses import fields
    from typing import get_origin, get_args, Union, Literal
    from pathlib import Path

    logger_local = logging.getLogger(__name__)
    parser = argparse.ArgumentParser(description="Non-grid CDI Example Script")
    parser.add_argument("--config", type=str, help="Path to YAML configuration file")
    parser.add_argument("--do_stitching", action='store_true', default=False,
                        help="Perform image stitching after training (default: False)")

    # Add logging arguments
    add_logging_arguments(parser)

    # Add arguments based on TrainingConfig fields (same as base_parse_arguments)
    for field in fields(TrainingConfig):
        if field.name == 'model':
            # Handle ModelConfig fields
            for model_field in fields(ModelConfig):
                # Special handling for Literal types
                if hasattr(model_field.type, "__origin__") and model_field.type.__origin__ is Literal:
                    choices = list(model_field.type.__args__)
                    parser.add_argument(
                        f"--{model_field.name}",
                        type=str,
                        choices=choices,
                        default=model_field.default,
                        help=f"Model parameter: {model_field.name}, choices: {choices}"
                    )
                else:
                    parser.add_argument(
                        f"--{model_field.name}",
                        type=model_field.type,
                        default=model_field.default,
                        help=f"Model parameter: {model_field.name}"
                    )
        else:
            # Handle path fields specially
            if field.type == Path or str(field.type).startswith("typing.Optional[pathlib.Path"):
                parser.add_argument(
                    f"--{field.name}",
                    type=lambda x: Path(x) if x is not None else None,
                    default=None if field.default == None else str(field.default),
                    help=f"Path for {field.name}"
                )
            elif hasattr(field.type, "__origin__") and field.type.__origin__ is Literal:
                choices = list(field.type.__args__)
                parser.add_argument(
                    f"--{field.name}",
                    type=str,
                    choices=choices,
                    default=field.default,
                    help=f"Training parameter: {field.name}, choices: {choices}"
                )
            else:
                # Special handling for specific parameters to provide better help text
                if field.name == 'n_groups':
                    parser.add_argument(
                        f"--{field.name}",
                        type=field.type if get_origin(field.type) is not Union else get_args(field.type)[0],
                        default=field.default,
                        help="Number of groups to generate. Always means groups regardless of gridsize. "
                             "Can exceed dataset size when using higher --neighbor_count values."
                    )
                elif field.name == 'n_images':
                    # Keep n_images for backward compatibility but mark as deprecated
                    parser.add_argument(
                        f"--{field.name}",
                        type=field.type if get_origin(field.type) is not Union else get_args(field.type)[0],
                        default=field.default,
                        help="DEPRECATED: Use --n_groups instead. Number of groups to use from the dataset."
                    )
                elif field.name == 'n_subsample':
                    parser.add_argument(
                        f"--{field.name}",
                        type=field.type if get_origin(field.type) is not Union else get_args(field.type)[0],
                        default=field.default,
                        help="Number of images to subsample from dataset before grouping (independent control). "
                             "When provided, controls data selection separately from grouping."
                    )
                elif field.name == 'subsample_seed':
                    parser.add_argument(
                        f"--{field.name}",
                        type=field.type if get_origin(field.type) is not Union else get_args(field.type)[0],
                        default=field.default,
                        help="Random seed for reproducible subsampling. "
                             "Use same seed across runs to ensure consistent data selection."
                    )
                elif field.name == 'neighbor_count':
                    parser.add_argument(
                        f"--{field.name}",
                        type=field.type,
                        default=field.default,
                        help="Number of nearest neighbors (K) for grouping. Use higher values (e.g., 7) "
                             "to enable more combinations when requesting more groups than available points."
                    )
                elif field.name == 'backend':
                    # Special handling for backend Literal type
                    if hasattr(field.type, "__origin__") and field.type.__origin__ is Literal:
                        choices = list(field.type.__args__)
                        parser.add_argument(
                            f"--{field.name}",
                            type=str,
                            choices=choices,
                            default=field.default,
                            help=f"Backend selection: {', '.join(choices)} (default: {field.default}). "
                                 f"PyTorch backend requires torch>=2.2 (POLICY-001)."
                        )
                    else:
                        # Fallback if not a Literal type
                        parser.add_argument(
                            f"--{field.name}",
                            type=str,
                            default=field.default,
                            help="Backend selection for workflow orchestration"
                        )
                else:
                    # Handle Optional types
                    if get_origin(field.type) is Union:
                        # This is an Optional type (Union[T, None])
                        args = get_args(field.type)
                        actual_type = args[0] if args[0] is not type(None) else args[1]
                        parser.add_argument(
                            f"--{field.name}",
                            type=actual_type,
                            default=field.default,
                            help=f"Training parameter: {field.name}"
                        )
                    else:
                        parser.add_argument(
                            f"--{field.name}",
                            type=field.type,
                            default=field.default,
                            help=f"Training parameter: {field.name}"
                        )

    # PyTorch-only execution flags (see docs/workflows/pytorch.md §12)
    parser.add_argument("--torch-accelerator", type=str,
                       choices=['auto', 'cpu', 'cuda', 'gpu', 'mps', 'tpu'],
                       default='cuda',
                       help="PyTorch accelerator for training (only applies when --backend pytorch). "
                            "Options: 'cuda' (default GPU baseline per POLICY-001), 'auto' (auto-detect with CUDA preference), "
                            "'cpu' (fallback), 'gpu', 'mps', 'tpu'. "
                            "Override with '--torch-accelerator cpu' for CPU-only runs. "
                            "See docs/workflows/pytorch.md §12 for details.")
    parser.add_argument("--torch-deterministic", action='store_true',
                       default=True,
                       help="Enable deterministic training mode for reproducibility (default: True). "
                            "Only applies when --backend pytorch.")
    parser.add_argument("--torch-num-workers", type=int, default=0,
                       help="Number of dataloader worker processes for PyTorch training (default: 0). "
                            "Set to 0 for main process only (CPU-safe, deterministic). "
                            "Only applies when --backend pytorch.")
    parser.add_argument("--torch-accumulate-grad-batches", type=int, default=1,
                       help="Accumulate gradients over N batches for larger effective batch size (default: 1). "
                            "Only applies when --backend pytorch.")
    parser.add_argument("--torch-learning-rate", type=float, default=None,
                       help="Learning rate for PyTorch training (default: None, uses model default). "
                            "Only applies when --backend pytorch.")
    parser.add_argument("--torch-scheduler", type=str, default='Default',
                       choices=['Default', 'ReduceLROnPlateau', 'CosineAnnealing'],
                       help="Learning rate scheduler for PyTorch training (default: 'Default'). "
                            "Only applies when --backend pytorch.")
    parser.add_argument("--torch-plateau-factor", type=float, default=None,
                       help="ReduceLROnPlateau factor (only applies when --backend pytorch).")
    parser.add_argument("--torch-plateau-patience", type=int, default=None,
                       help="ReduceLROnPlateau patience (only applies when --backend pytorch).")
    parser.add_argument("--torch-plateau-min-lr", type=float, default=None,
                       help="ReduceLROnPlateau min lr (only applies when --backend pytorch).")
    parser.add_argument("--torch-plateau-threshold", type=float, default=None,
                       help="ReduceLROnPlateau threshold (only applies when --backend pytorch).")
    parser.add_argument("--torch-logger", type=str, default='csv',
                       choices=['csv', 'tensorboard', 'mlflow', 'none'],
                       help="Logger backend for PyTorch training (default: 'csv'). "
                            "Options: 'csv' (zero deps), 'tensorboard', 'mlflow' (requires server), 'none' (disable). "
                            "See CONFIG-LOGGER-001. Only applies when --backend pytorch.")
    parser.add_argument("--torch-recon-log-every-n-epochs", type=int, default=None,
                       help="Log intermediate reconstructions every N epochs (default: disabled). "
                            "Only applies when --torch-logger mlflow.")
    parser.add_argument("--torch-recon-log-num-patches", type=int, default=4,
                       help="Number of fixed patch indices to log (default: 4).")
    parser.add_argument("--torch-recon-log-fixed-indices", type=int, nargs='+', default=None,
                       help="Explicit patch indices to log (default: auto-select).")
    parser.add_argument("--torch-recon-log-stitch", action='store_true', default=False,
                       help="Log stitched full-resolution reconstructions (default: disabled).")
    parser.add_argument("--torch-recon-log-max-stitch-samples", type=int, default=None,
                       help="Cap on number of samples for stitched logging (default: no limit).")
    parser.add_argument("--torch-enable-checkpointing", action='store_true',
                       default=True,
                       help="Enable checkpoint saving during training (default: True). "
                            "Only applies when --backend pytorch.")
    parser.add_argument("--torch-checkpoint-save-top-k", type=int, default=1,
                       help="Save top K checkpoints (default: 1). "
                            "Only applies when --backend pytorch.")

    return parser.parse_args()


def apply_torch_plateau_overrides(args, argv=None) -> None:
    """Map torch-specific plateau flags onto TrainingConfig fields."""
    argv = argv or sys.argv
    if "--torch-plateau-factor" in argv and getattr(args, "torch_plateau_factor", None) is not None:
        args.plateau_factor = args.torch_plateau_factor
    if "--torch-plateau-patience" in argv and getattr(args, "torch_plateau_patience", None) is not None:
        args.plateau_patience = args.torch_plateau_patience
    if "--torch-plateau-min-lr" in argv and getattr(args, "torch_plateau_min_lr", None) is not None:
        args.plateau_min_lr = args.torch_plateau_min_lr
    if "--torch-plateau-threshold" in argv and getattr(args, "torch_plateau_threshold", None) is not None:
        args.plateau_threshold = args.torch_plateau_threshold


def main() -> None:
    """Train (synthetically) as the real main does on the TensorFlow backend."""
    args = parse_arguments()

    # Handle legacy argument name
    if hasattr(args, 'train_data_file_path'):
        args.train_data_file = args.train_data_file_path
        delattr(args, 'train_data_file_path')

    apply_torch_plateau_overrides(args)

    config = setup_configuration(args, args.config)
    if config.backend != 'tensorflow':
        sys.exit("stand-in ptycho_train: only the tensorflow backend is imitated")

    # interpret_sampling_parameters, legacy mode: n_groups controls both.
    n_groups = config.n_groups
    n_subsample = config.n_subsample if config.n_subsample is not None else config.n_groups

    logger.info(f"Starting training with n_subsample={n_subsample}, n_groups={n_groups}, "
               f"stitching={'enabled' if args.do_stitching else 'disabled'}")
    ptycho_data = load_data(
        str(config.train_data_file),
        n_images=n_groups,
        n_subsample=n_subsample,
        subsample_seed=config.subsample_seed
    )

    # Check for metadata and override nphotons if present
    from ptycho.metadata import MetadataManager
    nphotons = config.nphotons
    try:
        _, metadata = MetadataManager.load_with_metadata(str(config.train_data_file))
        metadata_nphotons = None
        if metadata:
            if 'nphotons' in metadata:
                metadata_nphotons = float(metadata['nphotons'])
            elif 'physics_parameters' in metadata and 'nphotons' in metadata['physics_parameters']:
                metadata_nphotons = float(metadata['physics_parameters']['nphotons'])
            if metadata_nphotons is not None:
                logger.info(f"Overriding nphotons from config ({config.nphotons:.1e}) with value from dataset metadata: {metadata_nphotons:.1e}")
                nphotons = metadata_nphotons
    except Exception as e:
        logger.debug(f"No metadata found or error reading metadata: {e}")

    test_data = None
    if config.test_data_file:
        test_data = load_data(str(config.test_data_file))
        logger.info(f"Loaded test data from {config.test_data_file}")

    # The TensorFlow workflow trains the physics-informed network: nothing
    # on this path reads config.model.model_type.
    n_train = len(ptycho_data['sample_indices'])
    level = standin.noise_level('pinn', nphotons, n_train)
    standin.fit(['trimmed_obj', 'intensity_scaler_inv', 'pred_intensity'], config.nepochs, n_train,
                config.batch_size, config.subsample_seed, final_loss=level)

    os.makedirs(config.output_dir, exist_ok=True)
    standin.write_model(os.path.join(str(config.output_dir), 'wts.h5.zip'),
                        {'model_type': 'pinn', 'nphotons': nphotons, 'n_train': n_train,
                         'noise_level': level, 'seed': config.subsample_seed})
    if args.do_stitching and test_data is not None:
        standin.write_png(os.path.join(str(config.output_dir), "reconstructed_amplitude.png"))
        standin.write_png(os.path.join(str(config.output_dir), "reconstructed_phase.png"))
    logger.info(f"Outputs saved to {config.output_dir}")
    logger.info("TensorFlow artifacts saved via model_manager and save_outputs")


if __name__ == "__main__":
    main()
