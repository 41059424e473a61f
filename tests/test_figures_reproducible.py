"""Same seed, same machine: notebook 01 in quick mode writes byte-identical PNG files run after run.

`make notebooks` runs this beside nbval (one pytest-xdist session): the test executes notebook 01 twice
at once, each in its own fresh kernel (``scripts/run_notebooks.py``) with its own ``GAN_FIGURES_DIR``,
and compares the two sets of PNG files byte for byte. A failing cell fails the test with the cell's
error, so this also covers what nbval checks for notebook 01 (there are no stored outputs to compare:
`--nbval-lax`). Elsewhere (``make unit``) it is skipped: it is about a minute on two cores.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_vanilla_gan_1d_gaussian.ipynb"
FIGURES = "01_vanilla_gan_1d"  # the notebook's figures_dir name

pytestmark = pytest.mark.skipif(
    os.environ.get("GAN_FIGURES_TWICE") != "1", reason="run by `make notebooks` (GAN_FIGURES_TWICE=1)"
)


def _start(folder):
    env = {**os.environ, "GAN_QUICK": "1", "GAN_FIGURES_DIR": str(folder / "figures")}  # the kernel inherits it
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), str(NOTEBOOK), "--timeout", "600",
         "--out", str(folder / "executed")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_notebook_01_quick_writes_identical_pngs(tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    procs = [_start(folder) for folder in runs]  # both at once: two kernels, one per core
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"notebook 01 failed (quick mode):\n{out[-2000:]}\n{err[-4000:]}"
    first, second = ({p.name: p.read_bytes() for p in sorted((f / "figures" / "quick" / FIGURES).glob("*.png"))}
                     for f in runs)
    assert first, f"notebook 01 wrote no PNG files into {runs[0] / 'figures'}"
    assert sorted(first) == sorted(second), "the two runs wrote different sets of PNG files"
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"PNG files differ between two runs with the same seed: {differ}"
