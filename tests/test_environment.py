"""gan_utils.environment: the mode and paths read from the environment, and the notebooks' first report."""

import keras
import pytest

from gan_utils import environment


@pytest.mark.parametrize(
    "env,quick",
    [({}, False), ({"GAN_QUICK": "1"}, True), ({"GAN_QUICK": "True"}, True), ({"GAN_QUICK": "0"}, False),
     ({"CI": "true"}, True), ({"CI": "true", "GAN_QUICK": "0"}, False), ({"GAN_QUICK": " yes "}, True)],
)
def test_quick_mode(env, quick):
    assert environment.quick_mode(env) is quick


@pytest.mark.parametrize("value,train", [(None, True), ("1", True), ("0", False), ("False", False), ("no", False)])
def test_train_mode(value, train):
    assert environment.train_mode({} if value is None else {"GAN_TRAIN": value}) is train


def test_environment_report_names_versions_backend_gpu_and_mode():
    text = environment.environment_report(True, train=False)
    backend = keras.backend.backend()
    assert f"Keras {keras.__version__} (backend: {backend})" in text and "Python 3." in text
    if backend == "tensorflow":
        import tensorflow as tf

        assert f"TensorFlow {tf.__version__}" in text
    gpus = environment.visible_gpus()
    assert isinstance(gpus, list) and all(isinstance(g, str) for g in gpus)
    assert ("none visible" in text) == (not gpus)
    assert "QUICK" in text and "load the pretrained generator" in text
    full = environment.environment_report(False)
    assert "FULL" in full and "TRAIN" not in full


@pytest.mark.parametrize("value,long", [(None, False), ("1", True), ("yes", True), ("0", False), ("", False)])
def test_long_mode(value, long):
    assert environment.long_mode({} if value is None else {"GAN_LONG": value}) is long


def test_figures_root_and_repository_paths(tmp_path):
    assert (environment.REPO_ROOT / "gan_utils" / "environment.py").is_file()
    assert environment.figures_root({}) == environment.REPO_ROOT / "figures"
    assert environment.figures_root({"GAN_FIGURES_DIR": str(tmp_path), "GAN_QUICK": "1"}) == tmp_path / "quick"
