"""Stand-in for ptycho/workflows/components.py of PtychoPINN (hoidn/PtychoPINN at 712c23f).

parse_arguments and setup_configuration are copied from the real module
(setup_configuration without the legacy params dictionary), so flags and a
--config YAML file are merged exactly as the real scripts merge them:
argparse gives every flag its default, non-None values replace the flat
YAML values, and only a nested `model:` mapping of the YAML file wins over
the command line. load_data keeps the real subsampling rule and its
tmp/subsample_seed<seed>_indices.txt; there is no TensorFlow here.
"""

import argparse
import logging
from dataclasses import fields
from pathlib import Path
from typing import Any, Dict, Literal, Optional, Union, get_args, get_origin

import numpy as np
import yaml

from ptycho.config.config import ModelConfig, TrainingConfig

# Set up logging
logging.basicConfig(level=logging.INFO, format='%(asctime)s - %(levelname)s - %(message)s')
logger = logging.getLogger(__name__)


def parse_arguments():
    """Parse command-line arguments based on TrainingConfig fields."""
    from ptycho.cli_args import add_logging_arguments
    logger = logging.getLogger(__name__)
    parser = argparse.ArgumentParser(description="Non-grid CDI Example Script")
    parser.add_argument("--config", type=str, help="Path to YAML configuration file")
    parser.add_argument("--do_stitching", action='store_true', default=False,
                        help="Perform image stitching after training (default: False)")
    
    # Add logging arguments
    add_logging_arguments(parser)
    
    # Add arguments based on TrainingConfig fields
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
                logger.debug(f"Field: {field.name}")
                logger.debug(f"Field type: {field.type}")
                logger.debug(f"Field default: {field.default}")
                parser.add_argument(
                    f"--{field.name}",
                    type=lambda x: (logger.debug(f"Converting path value: {x}"), Path(x) if x is not None else None)[1],
                    default=None if field.default == None else str(field.default),
                    help=f"Path for {field.name}"
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
                            help=f"Backend selection: {', '.join(choices)} (default: {field.default})"
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
                    elif get_origin(field.type) is Literal:
                        # Handle Literal types (e.g., torch_loss_mode)
                        choices = list(get_args(field.type))
                        parser.add_argument(
                            f"--{field.name}",
                            type=str,
                            choices=choices,
                            default=field.default,
                            help=f"Training parameter: {field.name}, choices: {choices}"
                        )
                    else:
                        parser.add_argument(
                            f"--{field.name}",
                            type=field.type,
                            default=field.default,
                            help=f"Training parameter: {field.name}"
                        )
    
    return parser.parse_args()


def load_yaml_config(file_path: str) -> Dict[str, Any]:
    """Load configuration from a YAML file."""
    try:
        with open(file_path, 'r') as file:
            return yaml.safe_load(file)
    except (yaml.YAMLError, IOError) as e:
        logger.error(f"Error loading YAML config: {e}")
        raise



def setup_configuration(args: argparse.Namespace, yaml_path: Optional[str]) -> TrainingConfig:
    """Set up the configuration by merging defaults, YAML file, and command-line arguments."""
    yaml_config = load_yaml_config(yaml_path) if yaml_path else {}
    args_config = vars(args)

    # Start with YAML config as base (if provided)
    merged_config = yaml_config.copy() if yaml_config else {}

    # Override with CLI arguments (CLI takes precedence over YAML)
    for key, value in args_config.items():
        if value is not None:  # Only override if CLI arg was explicitly provided
            merged_config[key] = value

    # Convert string paths to Path objects
    for key in ['train_data_file', 'test_data_file', 'output_dir']:
        if key in merged_config and merged_config[key] is not None:
            merged_config[key] = Path(merged_config[key])

    # Handle nested 'model' config from YAML
    model_config_dict = {}
    if 'model' in merged_config and isinstance(merged_config['model'], dict):
        model_config_dict = merged_config['model']

    # Create ModelConfig from merged values
    model_fields = {f.name for f in fields(ModelConfig)}
    model_args = {k: v for k, v in merged_config.items() if k in model_fields}
    # Override with values from nested model config if present
    model_args.update({k: v for k, v in model_config_dict.items() if k in model_fields})
    model_config = ModelConfig(**model_args)

    # Create TrainingConfig
    training_fields = {f.name for f in fields(TrainingConfig)}
    training_args = {k: v for k, v in merged_config.items()
                    if k in training_fields and k != 'model'}

    config = TrainingConfig(model=model_config, **training_args)
    logger.info("Configuration setup complete")
    logger.info(f"Final configuration: {config}")
    return config


def load_data(file_path, n_images=None, n_subsample=None, subsample_seed=None):
    """Load a dataset as the real load_data does, without building RawData.

    Returns a dict of the arrays kept: the subsampling follows the real rule
    (n_subsample, else n_images, else the whole file; seeded only when
    subsample_seed is given) and the indices of a seeded subsample are
    written to tmp/subsample_seed<seed>_indices.txt in the working folder.
    """
    logger.info(f"Loading data from {file_path} with n_images={n_images}, n_subsample={n_subsample}")
    data = np.load(file_path, allow_pickle=True)
    diff_key = 'diff3d' if 'diff3d' in data else 'diffraction'
    for key in ('xcoords', 'ycoords', 'xcoords_start', 'ycoords_start', diff_key, 'probeGuess'):
        data[key]  # a KeyError names the missing array, as in the real loader
    dataset_size = int(data['xcoords'].shape[0])
    if n_subsample is not None:
        images_to_use = min(n_subsample, dataset_size)
    elif n_images is not None:
        images_to_use = min(n_images, dataset_size)
    else:
        images_to_use = dataset_size
    if images_to_use < dataset_size:
        if subsample_seed is not None:
            np.random.seed(subsample_seed)
        selected = np.sort(np.random.choice(np.arange(dataset_size), size=images_to_use, replace=False))
    else:
        selected = np.arange(dataset_size)
    if subsample_seed is not None:
        tmp_dir = Path('tmp')
        tmp_dir.mkdir(parents=True, exist_ok=True)
        with (tmp_dir / f"subsample_seed{subsample_seed}_indices.txt").open('w', encoding='utf-8') as handle:
            for idx in selected:
                handle.write(f"{int(idx)}\n")
    out = {k: data[k] for k in data.files if k != '_metadata'}
    out['sample_indices'] = selected
    return out
