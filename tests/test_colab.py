"""Colab: every notebook has the setup cell, with the repository URL of pyproject.toml; README links agree."""

import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("sync_colab", ROOT / "scripts" / "sync_colab.py")
sync_colab = importlib.util.module_from_spec(_spec)
sys.modules["sync_colab"] = sync_colab  # dataclasses look their module up there
_spec.loader.exec_module(sync_colab)
URL = sync_colab.repo_url()
FIX = "run: python scripts/sync_colab.py"


def test_repository_url_is_set():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", URL), URL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_colab_cell_uses_the_repository_url(path):
    nb = nbformat.read(path, as_version=4)
    i = sync_colab.colab_cell_index(nb)
    assert i is not None, f"{path.name} has no Colab setup cell; {FIX}"
    urls = re.findall(r'REPO_URL = "([^"]+)"', nb.cells[i].source)
    assert urls == [URL], f"{path.name}: Colab cell clones {urls}, pyproject.toml says {URL}; {FIX}"
    assert nb.cells[i].source == sync_colab.colab_cell_source(URL), f"{path.name}: Colab cell out of date; {FIX}"
    first_import = next(j for j, c in enumerate(nb.cells) if c.cell_type == "code" and "gan_utils" in c.source and j != i)
    assert i < first_import, "the setup cell must run before gan_utils is imported"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_reports_the_environment(path):
    """After the Colab cell, the first code cell prints versions, backend, GPU and mode."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code" and sync_colab.MARKER not in c.source]
    assert "print(environment_report(QUICK" in code[0], (
        f"{path.name}: print gan_utils.environment.environment_report(QUICK, ...) first")


def test_readme_links_every_notebook_from_the_url():
    readme = (ROOT / "README.md").read_text()
    assert not sync_colab.sync_readme(ROOT / "README.md", URL, NOTEBOOKS, check=True), f"README Colab links stale; {FIX}"
    for path in NOTEBOOKS:
        assert sync_colab.colab_link(URL, path) in readme
        assert sync_colab.colab_link(URL, path).startswith("https://colab.research.google.com/github/")


def run_colab_cell(monkeypatch, on_colab, repo_exists=False):
    """Execute the setup cell with subprocess.run, os.chdir and the clone folder faked; returns what it ran."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(("run", cmd, kw)))
    monkeypatch.setattr(os, "chdir", lambda d: calls.append(("chdir", d)))
    real_isdir = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda d: repo_exists if str(d).startswith("/content/") else real_isdir(d))
    monkeypatch.setattr(sys, "path", list(sys.path))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(sync_colab.colab_cell_source(URL), {})
    return calls


def test_colab_cell_clones_and_installs_without_dependencies(monkeypatch):
    calls = run_colab_cell(monkeypatch, on_colab=True)
    clone, install, chdir = calls
    assert clone[1][:2] == ["git", "clone"] and URL in clone[1] and clone[2]["check"]
    assert install[1][0] == sys.executable and install[1][1:4] == ["-m", "pip", "install"]
    assert "--no-deps" in install[1] and "-e" in install[1], "install nothing that Colab already has"
    repo_dir = clone[1][-1]
    assert install[1][-1] == repo_dir and sys.path[0] == repo_dir
    assert chdir == ("chdir", f"{repo_dir}/notebooks")
    # a second run (the runtime kept the clone) does not clone again
    assert [c[1][:2] for c in run_colab_cell(monkeypatch, on_colab=True, repo_exists=True) if c[0] == "run"] == [
        [sys.executable, "-m"]
    ]


def test_colab_cell_does_nothing_elsewhere(monkeypatch):
    assert run_colab_cell(monkeypatch, on_colab=False) == []
