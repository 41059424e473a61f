"""Every environment variable and repository path gan_utils reads, in one place.

``GAN_QUICK`` (or, if unset, ``CI``, which CI services set): quick mode, short training and loose floors.
``GAN_TRAIN=0``: notebooks 02, 03, 05 and 06 load their pretrained generator instead of training one.
``GAN_LONG=1``: notebook 08 covers every held-out digit instead of three (about three times as long).
``GAN_UTILS_DATA``: the folder with the data files (default: the repository's ``data/``).
``GAN_FIGURES_DIR``: where figures go (default: the repository's ``figures/``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository: the folder that holds ``gan_utils/``, ``data/`` and ``figures/``.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Folder with the project's data files; override with the environment variable GAN_UTILS_DATA.
DATA_DIR = Path(os.environ.get("GAN_UTILS_DATA", REPO_ROOT / "data"))

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def quick_mode(environ=None) -> bool:
    """True when ``GAN_QUICK`` (or, if it is unset, ``CI``) is 1, true or yes (any case)."""
    env = os.environ if environ is None else environ
    return env.get("GAN_QUICK", env.get("CI", "")).strip().lower() in _TRUE


def train_mode(environ=None) -> bool:
    """False when ``GAN_TRAIN`` is 0, false or no (any case): load the pretrained generator instead."""
    env = os.environ if environ is None else environ
    return env.get("GAN_TRAIN", "1").strip().lower() not in _FALSE


def long_mode(environ=None) -> bool:
    """True when ``GAN_LONG`` is 1, true or yes (any case): the longer, complete version of a notebook's study."""
    env = os.environ if environ is None else environ
    return env.get("GAN_LONG", "").strip().lower() in _TRUE


def figures_root(environ=None) -> Path:
    """Where figures go: ``$GAN_FIGURES_DIR`` or the repository's ``figures/``; ``quick/`` below it in quick mode."""
    env = os.environ if environ is None else environ
    root = Path(env.get("GAN_FIGURES_DIR", REPO_ROOT / "figures"))
    return root / "quick" if quick_mode(env) else root
