"""Keep the Colab setup cell of every notebook and the README's Colab links in step with pyproject.toml.

    python scripts/sync_colab.py           # rewrite what is out of date
    python scripts/sync_colab.py --check   # only report it (exit status 1); tests/test_colab.py does this

The repository URL lives in one place, ``[project.urls] Repository`` in pyproject.toml. Every notebook
gets the same setup cell (added as its first code cell if it has none): on Colab it clones that URL,
installs the package with ``pip install -e . --no-deps`` (so nothing Colab already has is reinstalled)
and puts gan_utils on the path; elsewhere it does nothing. The README's block between the ``colab``
markers lists an "Open in Colab" link per notebook.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BRANCH = "main"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
README_START = "<!-- colab:start (written by scripts/sync_colab.py from pyproject.toml's repository URL) -->"
README_END = "<!-- colab:end -->"
MARKER = '"google.colab" in sys.modules'

COLAB_CELL = '''\
# On Colab only: fetch the repository (gan_utils and data/) and install it without dependencies, so that
# nothing Colab already has is reinstalled. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    REPO_URL = "{url}"  # pyproject.toml [project.urls]
    REPO_DIR = "/content/{name}"
    if not os.path.isdir(REPO_DIR):
        subprocess.run(["git", "clone", "--depth", "1", REPO_URL, REPO_DIR], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", REPO_DIR], check=True)
    sys.path.insert(0, REPO_DIR)  # importable now, without restarting the runtime
    os.chdir(f"{{REPO_DIR}}/notebooks")'''


def repo_url(root=ROOT) -> str:
    """The repository URL from pyproject.toml, without a trailing slash or ``.git``."""
    project = tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]
    url = project["urls"]["Repository"].rstrip("/")
    return url.removesuffix(".git")


def colab_cell_source(url) -> str:
    return COLAB_CELL.format(url=url, name=url.rsplit("/", 1)[-1])


def colab_link(url, notebook) -> str:
    """The Colab address that opens ``notebooks/<notebook>`` of the repository at ``url`` (GitHub)."""
    slug = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/notebooks/{Path(notebook).name}"


def colab_cell_index(nb):
    """Index of the notebook's Colab setup cell, or None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and MARKER in cell.source:
            return i
    return None


def sync_notebook(path, url, check=False) -> bool:
    """Give the notebook the current setup cell; True if it was (or, with ``check``, would be) changed."""
    nb = nbformat.read(path, as_version=4)
    source = colab_cell_source(url)
    i = colab_cell_index(nb)
    if i is not None and nb.cells[i].source == source:
        return False
    if check:
        return True
    if i is None:
        first_code = next((j for j, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
        nb.cells.insert(first_code, nbformat.v4.new_code_cell(source))
    else:
        nb.cells[i].source = source
    from gan_utils.files import atomic_write

    atomic_write(path, lambda tmp: nbformat.write(nb, tmp))
    return True


def readme_block(url, notebooks) -> str:
    rows = [f"| [{Path(n).stem}](notebooks/{Path(n).name}) | [![Open In Colab]({BADGE})]({colab_link(url, n)}) |"
            for n in sorted(notebooks, key=lambda p: Path(p).name)]
    return "\n".join([README_START, "| notebook | Colab |", "| --- | --- |", *rows, README_END])


def sync_readme(path, url, notebooks, check=False) -> bool:
    """Rewrite the README's Colab block (it must have the two markers); True if it changed."""
    text = Path(path).read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: add the two lines {README_START!r} and {README_END!r} where the links go")
    new = text[:start] + readme_block(url, notebooks) + text[end + len(README_END):]
    if new == text:
        return False
    if not check:
        Path(path).write_text(new)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    args = parser.parse_args(argv)
    url = repo_url()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = [p.relative_to(ROOT) for p in notebooks if sync_notebook(p, url, args.check)]
    if sync_readme(ROOT / "README.md", url, notebooks, args.check):
        stale.append("README.md")
    verb = "out of date" if args.check else "updated"
    for p in stale:
        print(f"{verb}: {p}")
    if args.check and stale:
        sys.exit("run: python scripts/sync_colab.py")
    return 0


if __name__ == "__main__":
    main()
