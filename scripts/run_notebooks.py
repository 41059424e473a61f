"""Execute notebooks top to bottom, headless, and save them in place with their outputs.

    python scripts/run_notebooks.py notebooks/*.ipynb          # full mode
    GAN_QUICK=1 python scripts/run_notebooks.py notebooks/01_*.ipynb

Each notebook runs in a fresh kernel of this Python environment, in the notebooks/ folder, and
writes its figures under figures/. A failing cell stops that notebook and leaves the stored
copy untouched. Prints the wall time of each notebook.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


# TensorFlow's C++ start-up lines (absl, oneDNN, CUDA probing) go to stderr whatever the log level;
# they say nothing about the lesson, so they are left out of the stored outputs.
_STARTUP_NOISE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} .*\] )")


def _drop_startup_noise(nb):
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                kept = [line for line in out["text"].splitlines(True) if not _STARTUP_NOISE.match(line)]
                if not kept:
                    continue
                out["text"] = "".join(kept)
            outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    _drop_startup_noise(nb)
    tmp = path.with_name(f".tmp_{path.name}")
    nbformat.write(nb, tmp)
    tmp.replace(path)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    mode = "quick" if os.environ.get("GAN_QUICK", "").lower() in ("1", "true", "yes") else "full"
    failed = []
    for path in args.notebooks:
        print(f"{path} ({mode} mode) ...", flush=True)
        try:
            seconds = run(path, args.timeout)
        except Exception as exc:  # report every notebook, then fail
            print(f"  FAILED: {type(exc).__name__}: {str(exc)[-2000:]}", flush=True)
            failed.append(path)
            continue
        print(f"  done in {seconds:.0f} s", flush=True)
    if failed:
        sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}")


if __name__ == "__main__":
    main()
