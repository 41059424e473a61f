"""The benchmark (benchmarks/, `make bench`): its quick variant runs every part and writes its table
and results file; the fused reference does exactly the trainer's updates. No timing assertions."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import loop, peer, quality  # noqa: E402
from benchmarks.fused import FusedTrainer  # noqa: E402
from benchmarks.notebook_code import NotebookCode  # noqa: E402
from gan_utils.training import GAN  # noqa: E402

PARTS = {"loop", "quality", "notebooks", "peer"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    if os.environ.get("GAN_SKIP_BENCH_QUICK") == "1":  # `make unit-jax` / `unit-oldest`: once per `make test` is enough
        pytest.skip("GAN_SKIP_BENCH_QUICK=1: the quick benchmark run is exercised by `make unit`")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": keras.backend.backend()}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads(out.read_text())[keras.backend.backend()]


def test_every_part_ran_with_machine_info(quick_run):
    _, results = quick_run
    assert set(results) == PARTS
    for part in results.values():
        assert part["quick"] is True
        machine = part["machine"]
        assert machine["cpu_count"] >= 1 and machine["backend"] == keras.backend.backend()
        assert machine["keras"] == keras.__version__ and machine["date"][:2] == "20"


def test_table_printed(quick_run):
    stdout, _ = quick_run
    for title in ("Loop overhead", "Per call, microseconds", "Time to quality", "Notebook execution time", "Peer:"):
        assert title in stdout
    header = next(line for line in stdout.splitlines() if "gan_utils it/s" in line)
    assert [c.strip() for c in header.strip("|").split("|")][:5] == ["model", "batch", "gan_utils it/s", "fused it/s", "ratio"]


def test_loop_part(quick_run):
    loop = quick_run[1]["loop"]["results"]
    assert set(loop) == {"mlp", "dcgan", "cgan"}
    for r in loop.values():
        assert r["gan_utils_its_per_s"] > 0 and r["fused_its_per_s"] > 0 and r["ratio_median"] > 0
        assert r["per_call_us"]["G.predict_on_batch"] > 0 and r["profile"]["top_own_time"]
        assert r["plain_its_per_s"] > 0 and r["plain_ratio_median"] > 0 and r["gan_utils_vs_plain_median"] > 0
    assert loop["cgan"]["gan_options"]["num_classes"] == "10"  # read from notebook 03's GAN(...) call


def test_quality_and_peer_parts(quick_run):
    results = quick_run[1]
    quality = results["quality"]["results"]
    assert set(quality) == {"dcgan", "cgan"}
    assert "cond_accuracy" in quality["cgan"]["evaluations"][0]
    for r in quality.values():
        assert r["evaluations"] and np.isfinite(r["evaluations"][-1]["frechet"]) and r["thresholds"]
    assert "averaged" in quality["dcgan"]["scored"] and quality["cgan"]["scored"] == "G as trained"
    peer = results["peer"]["results"]
    assert peer["evaluations"] and set(peer["thresholds"]) == set(quality["dcgan"]["thresholds"])


def test_notebook_weight_average_follows_the_benchmarks_generator():
    from gan_utils.training import WeightAverage

    nb = NotebookCode("dcgan", quick=True)
    nb.load_data()
    nb.load_training_defs()
    G, _ = nb.build_models()
    _, fit_kwargs = nb.fit_arguments(generator=G)
    averages = [h.state for h in fit_kwargs["hooks"] if isinstance(h.state, WeightAverage)]
    assert len(averages) == 1 and averages[0].model is G and averages[0].decay == nb.ns["EMA_DECAY"]


def test_notebooks_part(quick_run):
    notebooks = quick_run[1]["notebooks"]["results"]
    assert notebooks and all(e["ok"] for modes in notebooks.values() for e in modes.values())


def test_notebook_code_comes_from_the_notebooks():
    nb = NotebookCode("dcgan", quick=True)
    G, D = nb.build_models()
    assert G.output_shape == (None, 28, 28, 1) and D.output_shape == (None, 1)
    first, second = nb.gan_kwargs(), nb.gan_kwargs()
    assert first["d_optimizer"] is not second["d_optimizer"]  # fresh optimizers for each GAN


def test_fused_step_does_the_trainers_updates():
    """Same models, optimizers and draws: after two iterations the weights are the same."""
    nb = NotebookCode("dcgan", quick=True)
    x, _ = nb.load_data()
    x = x[:256]
    trainer = GAN(*nb.build_models(), **nb.gan_kwargs())
    fused = FusedTrainer(GAN(*nb.build_models(), **nb.gan_kwargs()))
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
