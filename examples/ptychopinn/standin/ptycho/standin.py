"""What the stand-ins make up in place of TensorFlow.

The stand-in scripts accept PtychoPINN's flags and write its files under
their real names and formats; the numbers in them are synthetic. A trained
"model" is a zip archive named as the real one that records how good its
reconstructions are; a reconstruction is the test object plus noise whose
level falls with the dose and the training-set size (the physics-informed
model needs fewer photons). Training prints what Keras' model.fit(verbose=1)
prints when stdout is not a terminal.
"""

import json
import math
import random
import struct
import sys
import zipfile
import zlib

# The archive member that holds the stand-in model's description.
MODEL_INFO = "standin_model.json"


def noise_level(model_type, nphotons, n_train):
    """Relative error of a synthetic reconstruction."""
    dose = 1.0 / math.sqrt(max(nphotons, 1.0))
    data = 1.0 / math.sqrt(max(n_train, 1))
    if model_type == "pinn":
        return 0.02 + 3.0 * dose + 1.0 * data
    return 0.03 + 10.0 * dose + 0.5 * data


def _keras_value(v):
    # Keras' Progbar: 4 decimals, scientific notation below 1e-3.
    return "%.4f" % v if abs(v) > 1e-3 else "%.4e" % v


def fit(output_names, nepochs, n_samples, batch_size, seed, final_loss, out=None):
    """Print the epochs of model.fit(verbose=1, validation_split=0.05) and
    return the last epoch's losses.

    output_names are the model's outputs: Keras reports loss, then
    <output>_loss for each, then the same with val_, then lr.
    """
    out = out or sys.stdout
    rng = random.Random(seed)
    steps = max(1, math.ceil(n_samples * 0.95 / batch_size))
    lr = 1e-3
    logs = {}
    for epoch in range(1, nepochs + 1):
        # The loss falls towards final_loss; noise makes trials differ.
        loss = final_loss * (1 + 4.0 / epoch) * (1 + 0.02 * rng.uniform(-1, 1))
        parts = [loss / len(output_names)] * len(output_names)
        logs = {"loss": loss}
        for name, part in zip(output_names, parts):
            logs[name + "_loss"] = part
        for k in list(logs):
            logs["val_" + k] = logs[k] * 1.05
        logs["lr"] = lr
        print("Epoch %d/%d" % (epoch, nepochs), file=out)
        print("%d/%d [==============================] - 1s %dms/step - " % (steps, steps, 10 + rng.randrange(5))
              + " - ".join("%s: %s" % (k, _keras_value(v)) for k, v in logs.items()), file=out)
        if epoch % 7 == 0:
            # ReduceLROnPlateau(verbose=1) speaks between epochs.
            lr /= 2
            print("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %s." % (epoch, lr), file=out)
        out.flush()
    return logs


def write_model(path, info):
    """Write a model archive at path that records info."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(MODEL_INFO, json.dumps(info))


def read_model(path):
    """Read the info of a model archive written by write_model."""
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read(MODEL_INFO))


def write_png(path, value=128):
    """Write a valid 1x1 grey PNG: the stand-in of a matplotlib figure."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes([0, value])))
                + chunk(b"IEND", b""))
