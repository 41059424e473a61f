"""Same seed, same machine: notebook 01 in quick mode writes byte-identical PNG files run after run.

`make notebooks` runs this right after nbval: nbval executes every notebook in quick mode with
``GAN_FIGURES_DIR=build/nbval-figures``, then this test executes notebook 01 once more (about a minute)
into a temporary folder and compares the two sets of PNG files byte for byte. Elsewhere (``make unit``)
it is skipped: it needs the figures of that nbval run, passed as ``GAN_REFERENCE_FIGURES``.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_vanilla_gan_1d_gaussian.ipynb"
FIGURES = "01_vanilla_gan_1d"  # the notebook's figures_dir name
REFERENCE = os.environ.get("GAN_REFERENCE_FIGURES")

pytestmark = pytest.mark.skipif(
    not REFERENCE, reason="run by `make notebooks` after nbval, which writes the reference figures"
)


def test_notebook_01_quick_writes_identical_pngs(tmp_path, monkeypatch):
    reference = Path(REFERENCE) / "quick" / FIGURES
    expected = {p.name: p.read_bytes() for p in sorted(reference.glob("*.png"))}
    assert expected, f"no reference PNG files in {reference}: run nbval with GAN_FIGURES_DIR={REFERENCE} first"

    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    run_notebooks = importlib.util.module_from_spec(spec)
    sys.modules["run_notebooks"] = run_notebooks
    spec.loader.exec_module(run_notebooks)
    monkeypatch.setenv("GAN_QUICK", "1")  # the kernel inherits this environment
    monkeypatch.setenv("GAN_FIGURES_DIR", str(tmp_path))
    run_notebooks.execute(NOTEBOOK, timeout=600)

    written = {p.name: p.read_bytes() for p in sorted((tmp_path / "quick" / FIGURES).glob("*.png"))}
    assert sorted(written) == sorted(expected), "the two runs wrote different sets of PNG files"
    differ = [name for name in expected if written[name] != expected[name]]
    assert not differ, f"PNG files differ between two runs with the same seed: {differ}"
