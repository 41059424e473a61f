"""Notebook 08 with other settings: does a longer-trained GAN (and autoencoder) change the verdict?

Runs notebooks/08_anomaly_detection.ipynb itself (its own models, scores and tables: nothing copied), with the
hyperparameter cell's HELD_OUT, SEEDS and TRAIN_STEPS replaced, in full mode, figures to a temporary folder, and
prints what the notebook printed from its training loop to its tables. Example (docs/anomaly_design.md):

    python scripts/anomaly_runs.py --digits 0 9 --seeds 0 --steps 4800
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "08_anomaly_detection.ipynb"
SETTINGS = {"HELD_OUT": r"^HELD_OUT = .*$", "SEEDS": r"^SEEDS = .*$", "TRAIN_STEPS": r"^TRAIN_STEPS = .*$"}


def with_settings(nb, values):
    """The notebook with the hyperparameter cell's assignments of ``values`` replaced (each must be found once)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "TRAIN_STEPS = " in cell.source:
            for name, pattern in SETTINGS.items():
                cell.source, n = re.subn(pattern, f"{name} = {values[name]!r}", cell.source, flags=re.M)
                if n != 1:
                    raise LookupError(f"{NOTEBOOK.name}: no single line '{name} = ...' in the hyperparameter cell")
            return nb
    raise LookupError(f"{NOTEBOOK.name}: no hyperparameter cell (the one assigning TRAIN_STEPS)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, nargs="+", required=True, help="held-out digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, required=True, help="GAN and autoencoder training steps")
    args = parser.parse_args(argv)
    if not all(0 <= d <= 9 for d in args.digits) or args.steps < 1:
        parser.error("digits must be in 0..9 and --steps >= 1")
    nb = with_settings(nbformat.read(NOTEBOOK, as_version=4),
                       {"HELD_OUT": args.digits, "SEEDS": args.seeds, "TRAIN_STEPS": args.steps})
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GAN_QUICK", "GAN_LONG")}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as figures:
        os.environ.clear()
        os.environ.update(env, GAN_FIGURES_DIR=figures)
        client = NotebookClient(nb, timeout=None, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                sys.stdout.write(output["text"])
            elif output.get("output_type") == "error":
                sys.stdout.write(f"{output['ename']}: {output['evalue']}\n")
    print(f"{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
