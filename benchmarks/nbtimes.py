"""Part 3, notebook times: each notebook executed top to bottom in a fresh kernel, timed.

The notebooks run on a temporary copy of ``gan_utils/``, ``notebooks/`` and ``data/`` (the large
read-only data files linked, the pretrained generators copied), put first on ``PYTHONPATH``, so a
full-mode run writes its figures and pretrained generators there and the repository stays as it
is. ``GAN_QUICK`` selects the mode; ``GAN_TRAIN=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from benchmarks.notebook_code import NOTEBOOK_DIR, NOTEBOOKS, REPO_ROOT, tagged_cells


def _scratch_copy(root):
    """gan_utils/, notebooks/ and data/ under ``root``; returns the notebooks folder."""
    shutil.copytree(REPO_ROOT / "gan_utils", root / "gan_utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(NOTEBOOK_DIR, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for src in (REPO_ROOT / "data").rglob("*"):
        dst = root / "data" / src.relative_to(REPO_ROOT / "data")
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        elif "pretrained" in src.parts:  # notebooks overwrite these in full mode: copies
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    return root / "notebooks"


def _environment(root, quick):
    env = dict(os.environ)
    env.update(
        GAN_QUICK="1" if quick else "0",
        GAN_TRAIN="1",
        PYTHONPATH=os.pathsep.join([str(root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])),
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
    )
    env.pop("CI", None)
    return env


def time_notebook(path, env, timeout, setup_only=False):
    """Seconds to execute ``path`` (in its folder) with ``env`` in a fresh kernel.

    ``setup_only``: only the cells up to the configuration cell (the one tagged ``config``), for
    ``--quick``: it checks the machinery, not the notebook's time.
    """
    nb = nbformat.read(path, as_version=4)
    if setup_only:
        last = nb.cells.index(tagged_cells(nb, "config", path)[0])
        nb.cells = nb.cells[: last + 1]
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run(modes=("quick",), notebooks=tuple(NOTEBOOKS), timeout=3600, log=print):
    """Part 3: {notebook: {mode: {"seconds": s, "ok": bool, "error": str|None}}}; modes: quick, full, setup-only."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="gan_bench_") as tmp:
        root = Path(tmp)
        folder = _scratch_copy(root)
        for mode in modes:
            env = _environment(root, quick=mode != "full")
            where = subprocess.run(
                [sys.executable, "-c", "import gan_utils; print(gan_utils.__file__)"],
                env=env, cwd=folder, capture_output=True, text=True, check=True,
            ).stdout.strip()
            if not where.startswith(str(root)):
                raise RuntimeError(f"the kernel would import gan_utils from {where}, not the scratch copy")
            for key in notebooks:
                name = NOTEBOOKS[key]
                log(f"notebook {name} ({mode} mode) ...")
                entry = {"seconds": None, "ok": False, "error": None,
                         "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_average_1min": os.getloadavg()[0]}
                try:
                    entry["seconds"] = time_notebook(folder / name, env, timeout, setup_only=mode == "setup-only")
                    entry["ok"] = True
                except Exception as exc:  # report every notebook
                    entry["error"] = f"{type(exc).__name__}: {str(exc)[-500:]}"
                log(f"  {'%.0f s' % entry['seconds'] if entry['ok'] else 'FAILED ' + entry['error']}")
                results.setdefault(name, {})[mode] = entry
    return results
