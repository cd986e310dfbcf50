"""Stand-in for scripts/run_baseline.py of PtychoPINN (hoidn/PtychoPINN at
712c23f), the supervised baseline, for gridstudy's tests.

It parses its flags with the stand-in ptycho.workflows.components
parse_arguments (copied verbatim: the TrainingConfig flags, without
ptycho_train's --torch-* ones), forces model_type supervised as the real
script does, and, like it, loads the training set with n_images (not
n_groups) and no subsample seed: `--n_groups` alone trains on the whole
file. It prints Keras' per-epoch lines and saves the model as
<output_dir>/<date-time>_baseline_gs<gridsize>/baseline_model.h5, where
compare_models.py finds it. The model and its numbers are synthetic
(ptycho/standin.py); there is no TensorFlow.
"""

import os
import sys
from dataclasses import replace
from datetime import datetime

# Add the project root to the Python path to allow for package-style imports
project_root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
if project_root not in sys.path:
    sys.path.insert(0, project_root)

from ptycho import standin
from ptycho.workflows.components import (
    parse_arguments,
    setup_configuration,
    load_data,
    logger
)


def get_path_prefix(output_prefix, label):
    """ptycho.misc.get_path_prefix: <output_prefix>/<date-time>_<label>/."""
    date_time = datetime.now().strftime("%m/%d/%Y, %H:%M:%S")
    date_time = date_time.replace('/', '-').replace(':', '.').replace(', ', '-')
    return '{}/{}_{}/'.format(output_prefix, date_time, label)


def main():
    args = parse_arguments()
    config = setup_configuration(args, args.config)
    config = replace(config, model=replace(config.model, model_type='supervised'))
    logger.info(f"✅ Validated model_type = '{config.model.model_type}' for baseline training")

    out_prefix = get_path_prefix(str(config.output_dir), f"baseline_gs{config.model.gridsize}")
    os.makedirs(out_prefix, exist_ok=True)
    logger.info("--- Starting Supervised Baseline Run ---")
    logger.info(f"Results will be saved to: {out_prefix}")

    if not (config.train_data_file and config.test_data_file):
        sys.exit("stand-in run_baseline.py: give --train_data_file and --test_data_file")
    train = load_data(str(config.train_data_file), n_images=config.n_images)
    load_data(str(config.test_data_file))
    if config.model.gridsize not in (1, 2):
        raise ValueError(f"This baseline script only supports gridsize 1 or 2, but got {config.model.gridsize}.")

    from ptycho.metadata import MetadataManager
    _, metadata = MetadataManager.load_with_metadata(str(config.train_data_file))
    nphotons = float(metadata['physics_parameters']['nphotons']) if metadata else config.nphotons

    n_train = len(train['sample_indices'])
    logger.info(f"\n[4/6] Training the baseline model for {config.nepochs} epochs with batch size {config.batch_size}...")
    logger.info(f"Training with {n_train} images")
    level = standin.noise_level('supervised', nphotons, n_train)
    print(f"Training with {config.nepochs} epochs and batch size {config.batch_size}")
    standin.fit(['conv2d_8', 'conv2d_17'], config.nepochs, n_train, config.batch_size, None, final_loss=level)

    model_path = os.path.join(out_prefix, 'baseline_model.h5')
    standin.write_model(model_path, {'model_type': 'supervised', 'nphotons': nphotons, 'n_train': n_train,
                                     'noise_level': level})
    logger.info(f"Trained model saved to {model_path}")


if __name__ == "__main__":
    main()
