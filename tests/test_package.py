"""The package's front door: its exports, the Keras backends it accepts, `make lab`, the README's setup section."""

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gan_utils

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter from the repository root with ``env`` added; the finished process."""
    environ = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=300)


# --- exports -------------------------------------------------------------------------------------------------

def test_every_public_name_is_the_object_of_its_module():
    assert len(gan_utils.__all__) == len(set(gan_utils.__all__))
    for name in gan_utils.__all__:
        value = getattr(gan_utils, name)
        origin = gan_utils._ORIGIN.get(name)
        if origin is not None:
            assert value is getattr(importlib.import_module(f"gan_utils.{origin}"), name), name
    namespace = {}
    exec("from gan_utils import *", namespace)
    assert set(gan_utils.__all__) <= set(namespace)


def test_the_names_the_notebooks_use_are_exported():
    from gan_utils import GAN, GANTrainingWarning, Hook, Monitor, MnistEvaluator, WeightAverage, load_mnist
    from gan_utils import BinaryCrossEntropyGame, Game, WassersteinGame, sample_z
    from gan_utils.training import GAN as training_gan

    assert GAN is training_gan
    assert all(callable(v) for v in (GANTrainingWarning, Hook, Monitor, MnistEvaluator, WeightAverage, load_mnist,
                                     BinaryCrossEntropyGame, Game, WassersteinGame, sample_z))


def test_submodules_are_attributes_and_unknown_names_raise():
    assert gan_utils.stream is importlib.import_module("gan_utils.stream")
    assert "GAN" in dir(gan_utils) and "plotting" in dir(gan_utils)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        gan_utils.not_a_name  # noqa: B018


def test_importing_the_package_and_its_data_module_does_not_import_keras():
    done = run_python("import sys, gan_utils, gan_utils.data\n"
                      "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'keras imported'\n"
                      "print(gan_utils.load_mnist.__module__)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "gan_utils.data"


# --- Keras backends --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tensorflow", "jax"])
def test_supported_backends_pass(name):
    assert gan_utils.check_backend(name) == name


@pytest.mark.parametrize("name, why", [
    ("torch", "Dropout from torch's global generator"),
    ("numpy", "cannot train"),
    ("openvino", "inference only"),
    ("mxnet", "not a Keras backend gan_utils knows"),
    ("TensorFlow", "not a Keras backend gan_utils knows"),
])
def test_other_backends_are_refused_with_the_reason_and_the_fix(name, why):
    with pytest.raises(ImportError) as info:
        gan_utils.check_backend(name)
    assert isinstance(info.value, gan_utils.UnsupportedBackendError)
    message = str(info.value)
    assert message.startswith("gan_utils supports the tensorflow and jax Keras backends;")
    assert f"KERAS_BACKEND={name} is not" in message and why in message
    assert "Set KERAS_BACKEND=tensorflow (or jax) before importing keras" in message


def test_backend_name_is_read_as_keras_reads_it(tmp_path):
    name = gan_utils.keras_backend_name
    assert name({"KERAS_BACKEND": "jax", "KERAS_HOME": str(tmp_path)}) == "jax"
    assert name({"KERAS_HOME": str(tmp_path)}) == "tensorflow"  # no keras.json: Keras' default
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch", "floatx": "float32"}))
    assert name({"KERAS_HOME": str(tmp_path)}) == "torch"
    assert name({"KERAS_BACKEND": "", "KERAS_HOME": str(tmp_path)}) == "torch"  # empty: Keras ignores it
    assert name({"KERAS_BACKEND": "jax", "KERAS_HOME": str(tmp_path)}) == "jax"  # the variable wins
    (tmp_path / "keras.json").write_text("{not json")
    assert name({"KERAS_HOME": str(tmp_path)}) == "tensorflow"
    assert name() == __import__("keras").config.backend()  # Keras imported: its own answer


@pytest.mark.parametrize("code", ["import gan_utils; gan_utils.GAN", "from gan_utils.training import GAN"])
def test_torch_is_refused_before_keras_is_imported(code):
    # torch is not installed here, so `import keras` itself would fail; the message must be ours, and Keras
    # never imported (checked by the import hook below).
    guard = "import sys\nclass Guard:\n    def find_spec(self, name, *a):\n" \
            "        assert name.split('.')[0] != 'keras', 'keras imported before the check'\n" \
            "sys.meta_path.insert(0, Guard())\n"
    done = run_python(guard + code, KERAS_BACKEND="torch")
    assert done.returncode != 0
    assert "UnsupportedBackendError: gan_utils supports the tensorflow and jax Keras backends; " \
           "KERAS_BACKEND=torch is not supported" in done.stderr, done.stderr
    assert "keras imported" not in done.stderr


def test_keras_json_backend_is_refused(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(KERAS_HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", "import gan_utils"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode != 0 and "KERAS_BACKEND=torch is not supported" in done.stderr, done.stderr


def test_the_backend_keras_already_uses_is_the_one_checked():
    # Keras imported on numpy (it imports without torch), then the variable changed: Keras' backend counts.
    done = run_python("import os, keras\nos.environ['KERAS_BACKEND'] = 'jax'\nimport gan_utils",
                      KERAS_BACKEND="numpy")
    assert done.returncode != 0 and "KERAS_BACKEND=numpy is not supported" in done.stderr, done.stderr


# --- make lab ------------------------------------------------------------------------------------------------

def make_lab(*args):
    """What `make lab` would run, every prerequisite taken as out of date (-B), nothing run (-n)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "-B", "lab", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_lab_builds_only_the_user_environment():
    out = make_lab()
    assert "oldest" not in out, out
    jupyter = [line for line in out.splitlines() if "jupyter lab" in line]
    assert len(jupyter) == 1 and jupyter[0].split()[0] == ".venv/bin/jupyter", out
    assert jupyter[0].split()[-1] == "notebooks"
    assert ("--allow-root" in jupyter[0].split()) == (os.geteuid() == 0), jupyter[0]


def test_make_lab_passes_lab_args():
    out = make_lab("LAB_ARGS=--port=8890 --no-browser --ip=0.0.0.0")
    line = next(line for line in out.splitlines() if "jupyter lab" in line)
    assert "--port=8890 --no-browser --ip=0.0.0.0" in line, line


# --- README -------------------------------------------------------------------------------------------------

README = (ROOT / "README.md").read_text()


def test_readme_table_teaches_every_notebook():
    table = README.split("| notebook | what it teaches |", 1)[1].split("\n\n", 1)[0]
    for path in NOTEBOOKS:
        assert f"[{path.stem}](notebooks/{path.name})" in table, path.name


def test_readme_setup_comes_before_the_gallery_and_matches_ci():
    setup, gallery = README.index("## Setup"), README.index("## Gallery")
    assert setup < gallery
    section = README[setup:gallery]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    ci_command = [line for line in ci_lines if line and not line.startswith(("#", "set ", "cd "))]
    assert ci_command == ["make test"]
    assert re.search(r"^make test\b", section, re.M) and re.search(r"^make lab\b", section, re.M)
    for text in ("LAB_ARGS", "--allow-root", "KERAS_BACKEND=torch", "Colab"):
        assert text in section, text
