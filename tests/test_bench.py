"""The benchmark's pieces (benchmarks/): the fused reference and the plain loop do exactly the trainer's
updates, thresholds and ratios are computed as documented, the notebook code is read from the notebooks.
The whole benchmark runs in `make bench` (not in the unit tests); its report's pieces are tested in
test_bench_report.py. No timing assertions."""

import sys
import time
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import loop, peer, quality  # noqa: E402
from benchmarks.fused import FusedTrainer  # noqa: E402
from benchmarks.notebook_code import NOTEBOOK_DIR, NOTEBOOKS, REQUIRED_TAGS, NotebookCode, tagged_cells  # noqa: E402
from gan_utils.training import GAN  # noqa: E402



def test_notebook_weight_average_follows_the_benchmarks_generator():
    from gan_utils.training import WeightAverage

    nb = NotebookCode("dcgan", quick=True)
    nb.load_data()
    nb.load_training_defs()
    G, _ = nb.build_models()
    _, fit_kwargs = nb.fit_arguments(generator=G)
    averages = [h.state for h in fit_kwargs["hooks"] if isinstance(h.state, WeightAverage)]
    assert len(averages) == 1 and averages[0].model is G and averages[0].decay == nb.ns["EMA_DECAY"]


def test_notebook_code_comes_from_the_notebooks():
    nb = NotebookCode("dcgan", quick=True)
    G, D = nb.build_models()
    assert G.output_shape == (None, 28, 28, 1) and D.output_shape == (None, 1)
    first, second = nb.gan_kwargs(), nb.gan_kwargs()
    assert first["d_optimizer"] is not second["d_optimizer"]  # fresh optimizers for each GAN


@pytest.mark.parametrize("key", [pytest.param("mlp", marks=pytest.mark.backend), "dcgan"])
def test_fused_step_does_the_trainers_updates(key):
    """Same models, optimizers and draws: after two iterations the weights are the same. On JAX (`make unit-jax`)
    with 01's models and schedules (the DCGAN's XLA compiles cost half a minute there), without 01's instance noise,
    which the fused reference draws from other random streams than the trainer."""
    if key == "dcgan":  # BatchNorm in G, Dropout in D
        nb, overrides = NotebookCode("dcgan", quick=True), {}
        x = nb.load_data()[0][:256]
    else:
        nb, x, _, _, _ = loop.notebook_setup(key)
        overrides = {"instance_noise": 0.0}
    trainer = GAN(*nb.build_models(), **nb.gan_kwargs(**overrides))
    fused = FusedTrainer(GAN(*nb.build_models(), **nb.gan_kwargs(**overrides)))
    trainer.fit(x, batch_size=64, steps=2, verbose=0)
    fused.fit(x, batch_size=64, steps=2)
    fused.sync_to_models()
    ref = fused.gan
    for a, b in zip(trainer.generator.weights + trainer.discriminator.weights, ref.generator.weights + ref.discriminator.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-5)
    h = trainer.history_arrays()
    np.testing.assert_allclose(fused.history[-1][:3], [h["d_loss_real"][-1], h["d_loss_fake"][-1], h["g_loss"][-1]], rtol=1e-4)


@pytest.mark.parametrize("key", ["mlp", "cgan"])
def test_plain_loop_does_the_trainers_updates(key):
    """The benchmark's plain loop (four Keras calls, no bookkeeping) trains exactly as GAN.fit."""
    if key == "cgan" and keras.backend.backend() != "tensorflow":
        pytest.skip("the conditional case is the same Python; on JAX it is 20 s of compiles")
    nb, data, labels, batch, overrides = loop.notebook_setup(key)
    batch = 32
    if not callable(data):
        data, labels = data[:128], (labels[:128] if labels is not None else None)
    trainer = GAN(*nb.build_models(), **nb.gan_kwargs(**overrides))
    plain = GAN(*nb.build_models(), **nb.gan_kwargs(**overrides))
    trainer.fit(data, labels, batch_size=batch, steps=3, verbose=0, monitor=False)
    loop.plain_loop(plain, data, labels, batch)(3)
    for a, b in zip(trainer.generator.weights + trainer.discriminator.weights, plain.generator.weights + plain.discriminator.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6)


def test_time_to_threshold_and_peer_ratio():
    """Thresholds are timed at the first evaluation that passes them; an unreached one gives a lower bound."""
    tests = quality.dcgan_thresholds((50.0, 10.0))
    ours_records = [
        {"step": 200, "train_seconds": 60.0, "mark_seconds": None, "frechet": 80.0, "coverage": 9, "confidence": 0.8},
        {"step": 400, "train_seconds": 120.0, "mark_seconds": None, "frechet": 40.0, "coverage": 10, "confidence": 0.91},
        {"step": 900, "train_seconds": 300.5, "mark_seconds": 300.0, "frechet": 20.0, "coverage": 10, "confidence": 0.93},
    ]
    ours = quality.summarise(ours_records, tests, budget_s=600.0, marks_s=(300.0, 600.0))
    assert ours["thresholds"]["coverage 10 and confidence >= 0.9"] == {"train_seconds": 120.0, "step": 400}
    assert ours["thresholds"]["FD < 50"]["step"] == 400 and ours["thresholds"]["FD < 10"] is None
    assert ours["fd_at_marks"] == {"5 min": 20.0, "10 min": None}
    assert peer.reference_threshold(ours, (50.0, 10.0)) == ("coverage 10 and confidence >= 0.9", 120.0)
    theirs_records = [dict(ours_records[0], train_seconds=250.0), dict(ours_records[1], train_seconds=480.0, coverage=9)]
    theirs = quality.summarise(theirs_records, tests, budget_s=600.0)
    assert peer.ratios(ours, theirs) == {"coverage 10 and confidence >= 0.9": "> 4.0x", "FD < 50": "4.0x"}


def test_quality_clock_excludes_evaluation_time():
    calls = []

    def evaluate():
        calls.append(1)
        time.sleep(0.05)
        return {"frechet": 1.0}

    clock = quality.QualityClock(evaluate, every=2, budget_s=10.0, log=lambda msg: None)
    assert clock.tick(1) is False and not calls
    assert clock.tick(2) is False and len(calls) == 1
    assert clock.train_seconds() < 0.05  # the evaluation's 0.05 s is not training time
    assert clock.tick(3, final=True) is True and len(calls) == 2


@pytest.mark.parametrize("key", sorted(REQUIRED_TAGS))
def test_notebooks_carry_the_cell_tags_the_benchmark_reads(key):
    nb = nbformat.read(NOTEBOOK_DIR / NOTEBOOKS[key], as_version=4)
    for tag in REQUIRED_TAGS[key]:
        cells = tagged_cells(nb, tag, NOTEBOOKS[key])  # raises, naming the notebook and the tag, if it is lost
        assert tag == "models" or len(cells) == 1, f"{NOTEBOOKS[key]}: tag exactly one cell {tag!r}"


def test_a_lost_tag_is_named(tmp_path):
    nb = nbformat.read(NOTEBOOK_DIR / NOTEBOOKS["dcgan"], as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    with pytest.raises(LookupError, match=r"02_dcgan_mnist.ipynb: no code cell is tagged 'train' \(the GAN\(\.\.\.\) call"):
        tagged_cells(nb, "train", NOTEBOOKS["dcgan"])
