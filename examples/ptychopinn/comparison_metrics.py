#!/usr/bin/env python3
"""Turn PtychoPINN's comparison_metrics.csv into gridstudy metric lines.

scripts/compare_models.py writes its metrics in a tidy CSV,

    model,metric,amplitude,phase,value
    PtychoPINN,psnr,61.234567,58.123456,
    Baseline,psnr,57.345678,55.012345,
    PtychoPINN,computation_time_s,,,1.234567

This script appends one line per model to $GRIDSTUDY_METRICS (stdout when
unset), with "model" naming the study's model, so that gridstudy puts the
comparison's figures on that model's run:

    {"model": "pinn", "psnr": 61.234567, "psnr_phase": 58.123456, "computation_time_s": 1.234567}

An (amplitude, phase) metric gives NAME (the amplitude) and NAME_phase; a
single value keeps its name; an empty field is left out. --model maps the
CSV's model names to the study's (default PtychoPINN=pinn and
Baseline=baseline); rows of other models (a Tike reconstruction) are
skipped with a note on stderr. Exit status 1 when the file has no row of
a mapped model or lacks the columns.

    python comparison_metrics.py DIR/comparison_metrics.csv [--model CSVNAME=MODEL ...]

Python 3 standard library only.
"""

import argparse
import csv
import json
import os
import sys

COLUMNS = {"model", "metric", "amplitude", "phase", "value"}


def parse_number(text):
    """A CSV field as a float; None for an empty one."""
    text = text.strip()
    return float(text) if text else None


def convert(rows, models):
    """Metric dicts per study model, in the order the models first appear."""
    out, skipped = {}, set()
    for row in rows:
        model = models.get(row["model"])
        if model is None:
            skipped.add(row["model"])
            continue
        line = out.setdefault(model, {})
        name = row["metric"]
        for suffix, field in (("", "amplitude"), ("_phase", "phase"), ("", "value")):
            v = parse_number(row[field] or "")
            if v is not None:
                line[name + suffix] = v
    return out, skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", help="comparison_metrics.csv of scripts/compare_models.py")
    ap.add_argument("--model", action="append", metavar="CSVNAME=MODEL",
                    help="map a model of the CSV to the study's (repeatable; default PtychoPINN=pinn Baseline=baseline)")
    args = ap.parse_args(argv)
    models = {"PtychoPINN": "pinn", "Baseline": "baseline"}
    if args.model:
        models = {}
        for m in args.model:
            name, sep, model = m.partition("=")
            if not sep or not name or not model:
                ap.error(f"--model {m!r}: want CSVNAME=MODEL")
            models[name] = model

    with open(args.csv, newline="") as f:
        reader = csv.DictReader(f)
        missing = COLUMNS - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"{args.csv}: no column {', '.join(sorted(missing))}; is it compare_models.py's comparison_metrics.csv?")
        try:
            lines, skipped = convert(reader, models)
        except ValueError as e:
            sys.exit(f"{args.csv}, line {reader.line_num}: {e}")
    for name in sorted(skipped):
        print(f"comparison_metrics.py: skipping model {name!r} of {args.csv}: not mapped by --model", file=sys.stderr)
    if not lines:
        sys.exit(f"{args.csv}: no rows of {', '.join(sorted(models))}")

    path = os.environ.get("GRIDSTUDY_METRICS")
    out = open(path, "a") if path else sys.stdout
    try:
        for model, metrics in lines.items():
            out.write(json.dumps(dict(model=model, **metrics)) + "\n")
    finally:
        if path:
            out.close()


if __name__ == "__main__":
    main()
