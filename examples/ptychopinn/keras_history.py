#!/usr/bin/env python3
"""Turn Keras' per-epoch lines into gridstudy history lines.

ptycho_train and run_baseline.py write no history file: the loss of each
epoch is only in what Keras' model.fit(verbose=1) prints,

    Epoch 3/50
    30/30 [==============================] - 5s 151ms/step - loss: 0.1234 - val_loss: 0.2345 - lr: 1.0000e-03

(Keras 3 draws the bar with other characters and ANSI colour codes; on a
terminal the bar is redrawn after carriage returns or backspaces). Pipe the training's stdout through this
script: it copies its input to stdout unchanged, so the run's stdout.log
keeps the full output, and appends one line per epoch to
$GRIDSTUDY_METRICS (stderr when unset),

    {"step": 3, "loss": 0.1234, "val_loss": 0.2345, "lr": 0.001}

with every "name: number" of the epoch's last progress line. Use it with
`set -o pipefail`, so that the run fails when the training does:

    set -o pipefail
    ptycho_train ... | python keras_history.py

Python 3 standard library only.
"""

import json
import os
import re
import sys

# Keras 3 colours its bar with ANSI codes, in log files too.
ANSI = re.compile(r"\x1b\[[0-9;]*m")
EPOCH = re.compile(r"^\s*Epoch (\d+)/\d+\s*$")
# A progress line: "N/M", the bar, timings, then " - name: value" pairs.
PROGRESS = re.compile(r"^\s*\d+/\d+\s")
PAIR = re.compile(r"(?:^|\s)([A-Za-z_][\w.]*): (-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|-?inf)(?=\s|$)")


def parse_pairs(line):
    """The name: number pairs of a progress line, as floats."""
    out = {}
    for name, value in PAIR.findall(line):
        out[name] = float(value)
    return out


def emit(out, step, logs):
    if step is None or not logs:
        return
    # json writes nan as NaN, which gridstudy reads.
    out.write(json.dumps(dict(step=step, **logs)) + "\n")
    out.flush()


def convert(lines, echo, out):
    """Copy lines to echo and write the history of their epochs to out."""
    step, logs = None, {}
    for raw in lines:
        echo.write(raw)
        echo.flush()
        # On a terminal Keras redraws the bar after a carriage return or
        # backspaces: each redraw is a line here, and the last one before
        # the next epoch holds the epoch's figures.
        text = ANSI.sub("", raw.replace("\b", "")).strip("\r\n")
        m = EPOCH.match(text)
        if m:
            emit(out, step, logs)
            step, logs = int(m.group(1)), {}
            continue
        if step is not None and PROGRESS.match(text):
            pairs = parse_pairs(text)
            if "loss" in pairs:
                logs = pairs
    emit(out, step, logs)


def main():
    path = os.environ.get("GRIDSTUDY_METRICS")
    out = open(path, "a") if path else sys.stderr
    try:
        stdin = open(sys.stdin.fileno(), "r", encoding="utf-8", errors="replace", newline="")
        convert(stdin, sys.stdout, out)
    finally:
        if path:
            out.close()


if __name__ == "__main__":
    main()
