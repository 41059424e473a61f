"""Execute notebooks top to bottom, headless, and save them with their outputs.

    python scripts/run_notebooks.py notebooks/*.ipynb          # full mode: in place, figures in figures/NN_name/
    GAN_QUICK=1 python scripts/run_notebooks.py notebooks/01_*.ipynb   # quick: build/quick/, figures/quick/

Each notebook runs in a fresh kernel of this Python environment, in the notebooks/ folder. Full mode
saves the executed notebooks in place (the stored outputs); quick mode writes the executed copies to
build/quick/ (or ``--out``), so a quick check never replaces the stored full-mode outputs, and its figures
go to the git-ignored figures/quick/. A failing cell stops that notebook and leaves the stored copy
untouched. Prints the wall time of each notebook.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from gan_utils.environment import quick_mode
from gan_utils.files import atomic_write

ROOT = Path(__file__).resolve().parent.parent


# TensorFlow's C++ start-up lines (absl, oneDNN, CUDA probing) go to stderr whatever the log level;
# they say nothing about the lesson, so they are left out of the stored outputs.
_STARTUP_NOISE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} .*\] )")


def _relative_paths(text):
    """Warnings name their source file by absolute path; keep the stored outputs free of this machine's folders."""
    return text.replace(str(ROOT) + "/", "")


def _drop_startup_noise(nb):
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                kept = [line for line in out["text"].splitlines(True) if not _STARTUP_NOISE.match(line)]
                if not kept:
                    continue
                out["text"] = _relative_paths("".join(kept))
            outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs


def execute(path: Path, timeout: int = 3600):
    """Run a notebook in a fresh kernel, in its own folder; returns (the executed notebook, seconds)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    _drop_startup_noise(nb)
    return nb, seconds


def run(path: Path, timeout: int, out: Path | None = None) -> float:
    """Execute ``path`` and write it with its outputs: in place, or into the folder ``out``."""
    nb, seconds = execute(path, timeout)
    target = path if out is None else out / path.name
    atomic_write(target, lambda tmp: nbformat.write(nb, tmp))  # a killed run leaves no half-written notebook
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--out", type=Path, help="folder for the executed copies (default: in place in full "
                        "mode, build/quick/ in quick mode)")
    args = parser.parse_args(argv)
    quick = quick_mode()  # what the notebooks will read: GAN_QUICK, else CI
    mode = "quick" if quick else "full"
    out = args.out or (ROOT / "build" / "quick" if quick else None)
    failed = []
    for path in args.notebooks:
        print(f"{path} ({mode} mode) -> {out / path.name if out else 'in place'} ...", flush=True)
        try:
            seconds = run(path, args.timeout, out)
        except Exception as exc:  # report every notebook, then fail
            print(f"  FAILED: {type(exc).__name__}: {str(exc)[-2000:]}", flush=True)
            failed.append(path)
            continue
        print(f"  done in {seconds:.0f} s", flush=True)
    if failed:
        sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}")


if __name__ == "__main__":
    main()
