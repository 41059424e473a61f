"""Checkpoints: a killed run resumes to the same result, damage is reported clearly, mismatches refused."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from conftest import tiny_mlp_models
from gan_utils import checkpoint as ckpt
from gan_utils.checkpoint import CheckpointError
from gan_utils.training import GAN, Hook, WeightAverage

TESTS = Path(__file__).parent

# One training run in a fresh process: a conditional conv GAN with BatchNorm in G and D, Dropout in D,
# instance noise, soft labels, a weight average and a monitor that checks every 5 steps. 96 labelled
# images in batches of 16: 6 steps per epoch, 30 steps; checkpoints every 5 steps all fall inside an epoch.
SCRIPT = r"""
import hashlib, json, sys, time
import keras, numpy as np
sys.path.insert(0, sys.argv[1])
from conftest import tiny_conv_models
from gan_utils.monitor import Monitor
from gan_utils.training import GAN, Hook, WeightAverage
ckpt_dir, mode = sys.argv[2], sys.argv[3]
keras.utils.set_random_seed(11)
G, D = tiny_conv_models(conditional=True, num_classes=3)
rng = np.random.default_rng(11)
x, y = rng.uniform(-1, 1, (96, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 96)
gan = GAN(G, D, num_classes=3, seed=11, real_target=(0.8, 1.0), instance_noise=0.2,
          monitor=Monitor(window=10, every=5, n_diversity=16))
average = WeightAverage(G, start_step=3)
seen = []
hooks = [average.hook(), Hook(lambda g: seen.append(g.step), every=1)]
if mode == "slow":
    hooks.append(Hook(lambda g: time.sleep(0.15), every=1))  # time for the test to kill it part-way
kwargs = {} if mode == "plain" else dict(checkpoint_dir=ckpt_dir, checkpoint_every=5, resume=True)
gan.fit(x, y, batch_size=16, epochs=5, verbose=0, hooks=hooks, **kwargs)
h = hashlib.sha256()
for v in G.variables + D.variables + gan.d_optimizer.variables + gan.g_optimizer.variables:
    h.update(np.asarray(keras.ops.convert_to_numpy(v)).tobytes())  # BatchNorm statistics, seed states
for w in average.averaged_weights():
    h.update(w.tobytes())
h.update(json.dumps(gan.rng.bit_generator.state).encode())
history = {k: v for k, v in gan.history.items() if k != "time"}
print("WEIGHTS", h.hexdigest())
print("HISTORY", hashlib.sha256(json.dumps(history).encode()).hexdigest(), len(history["step"]))
print("EVENTS", json.dumps(gan.monitor.events))
print("FIRST", seen[0], "EPOCH", gan.epoch)
"""


def start(ckpt_dir, mode):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(TESTS), str(ckpt_dir), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def result(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return dict(line.split(" ", 1) for line in out.splitlines() if line.split(" ")[0] in
                ("WEIGHTS", "HISTORY", "EVENTS", "FIRST"))


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    """Also shows that fresh processes with the same seed train bit-identical weights on CPU."""
    plain = start(tmp_path / "unused", "plain")  # the uninterrupted run, alongside
    victim = start(tmp_path / "ckpt", "slow")
    deadline = time.monotonic() + 300
    while not ckpt.list_checkpoints(tmp_path / "ckpt"):
        assert victim.poll() is None, "the run ended before writing a checkpoint: " + victim.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)  # no chance to clean up: as a crash or a killed job
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    saved = [ckpt.checkpoint_step(p) for p in ckpt.list_checkpoints(tmp_path / "ckpt")]
    assert saved and max(saved) < 30, f"the run was not killed part-way: checkpoints at {saved}"
    assert max(saved) % 6, "the newest checkpoint should fall inside an epoch"

    resumed = result(start(tmp_path / "ckpt", "resume"))
    expected = result(plain)
    assert int(resumed["FIRST"].split()[0]) == max(saved) + 1, "the resumed run did not start at its checkpoint"
    assert resumed["WEIGHTS"] == expected["WEIGHTS"]
    assert resumed["HISTORY"] == expected["HISTORY"]
    assert resumed["EVENTS"] == expected["EVENTS"]
    assert expected["FIRST"].split()[2] == resumed["FIRST"].split()[2] == "5"  # epochs counted alike


# ----------------------------------------------------------------------------- in-process tests
def gaussian(n, rng):
    return rng.normal(2.0, 1.0, (n, 1)).astype("float32")


def mlp_gan(**kwargs):
    keras.utils.set_random_seed(5)
    G, D = tiny_mlp_models()
    return GAN(G, D, seed=5, **kwargs)


def train(folder):
    """12 steps, checkpoints every 4; returns the GAN and copies of its variables at each checkpoint step."""
    gan = mlp_gan()
    weights = {}
    gan.fit(gaussian, steps=12, batch_size=16, verbose=0, hooks=[Hook(lambda g: weights.__setitem__(g.step, state(g)), every=4)],
            checkpoint_dir=folder, checkpoint_every=4)
    return gan, weights


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One run's checkpoint folder (with a temporary file left by an interrupted write beforehand)."""
    folder = tmp_path_factory.mktemp("trained")
    (folder / ".ckpt-00000002.npz.tmp-99999").write_bytes(b"half a file")
    gan, weights = train(folder)
    return folder, gan.history, weights


@pytest.fixture
def run12(trained, tmp_path):
    """A copy of the trained run's checkpoint folder: (folder, history, weights at steps 4, 8, 12)."""
    folder, history, weights = trained
    shutil.copytree(folder, tmp_path / "ckpt")
    return tmp_path / "ckpt", history, weights


def resume(gan, folder, **kwargs):
    kwargs = {"steps": 12, "batch_size": 16, "resume": True, **kwargs}
    return gan.fit(gaussian, verbose=0, checkpoint_dir=folder, checkpoint_every=4, **kwargs)


def state(gan):
    """Copies of every variable of G and D, in order (names differ between models built in one process)."""
    return [np.array(keras.ops.convert_to_numpy(v)) for v in gan.generator.variables + gan.discriminator.variables]


def same(before, gan):
    """True if every variable of G and D (BatchNorm statistics, seed states) equals the copies."""
    after = state(gan)
    return len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after))


def test_keeps_two_checkpoints_and_removes_temporary_files(trained):
    folder, _, _ = trained
    assert sorted(p.name for p in folder.iterdir()) == ["ckpt-00000008.npz", "ckpt-00000012.npz"]


def test_a_failed_write_leaves_the_previous_checkpoint(run12, monkeypatch):
    tmp_path, _, _ = run12
    before = (tmp_path / "ckpt-00000012.npz").read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        ckpt.write(tmp_path / "ckpt-00000012.npz", {"a": np.zeros(3)}, {})
    assert (tmp_path / "ckpt-00000012.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-00000008.npz", "ckpt-00000012.npz"]


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_bit(path):
    """Flip one bit inside the stored bytes of D's last weight (what a bad disk sector does)."""
    with np.load(path, allow_pickle=False) as f:
        target = f[max(k for k in f.files if k.startswith("discriminator/"))].tobytes()
    data = bytearray(path.read_bytes())
    at = data.find(target)
    assert at >= 0 and data.find(target, at + 1) < 0
    data[at + len(target) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def tamper(path):
    """Change one stored weight but keep the zip consistent: only the sha256 can tell."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["generator/0000"] = arrays["generator/0000"] + 1.0
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize("damage,what", [(truncate, "truncated or corrupt"), (flip_bit, "corrupt"),
                                         (tamper, "sha256 checksum does not match")])
def test_damaged_checkpoint_names_the_file_and_the_previous_good_one(run12, damage, what):
    tmp_path, history, weights = run12
    newest, previous = tmp_path / "ckpt-00000012.npz", tmp_path / "ckpt-00000008.npz"
    damage(newest)

    gan = mlp_gan()
    untouched = state(gan)
    with pytest.raises(CheckpointError) as err:
        resume(gan, tmp_path)
    message = str(err.value)
    assert str(newest) in message and what in message
    assert f"The previous checkpoint {previous} is intact" in message
    assert f"move {newest} out of the folder (or delete it) and resume with gan.fit(..., resume=True)" in message
    assert same(untouched, gan) and gan.step == 0 and gan.history["step"] == []
    with pytest.raises(CheckpointError, match="is intact and still usable"):
        gan.restore(newest)

    gan.restore(previous)  # the previous checkpoint still restores ...
    assert gan.step == 8 and same(weights[8], gan) and len(gan.history["step"]) == 8
    again = mlp_gan()  # ... and resumes to the same end as the run that wrote it
    if damage is truncate:  # whose file it was cannot be read: resuming from 8 may not overwrite it
        with pytest.raises(ValueError, match="holds ckpt-00000012.npz, newer than the resumed ckpt-00000008.npz"):
            resume(again, tmp_path, resume=previous)
        assert again.step == 0 and newest.exists()
        newest.rename(tmp_path.parent / "damaged.npz")  # as the first message says
        resume(again, tmp_path)
    else:  # flipped or tampered: still readable as this run's file, so the resumed run replaces it
        resume(again, tmp_path, resume=previous)
    assert same(weights[12], again) and again.history["g_loss"] == history["g_loss"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-00000008.npz", "ckpt-00000012.npz"]
    gan.restore(newest)  # rewritten by the resumed run
    assert same(weights[12], gan)


def test_damage_without_an_earlier_checkpoint_says_so(run12):
    tmp_path, _, _ = run12
    (tmp_path / "ckpt-00000008.npz").unlink()
    truncate(tmp_path / "ckpt-00000012.npz")
    with pytest.raises(CheckpointError, match="No earlier intact checkpoint is left"):
        mlp_gan().restore(tmp_path / "ckpt-00000012.npz")


def mismatched_generator():
    keras.utils.set_random_seed(5)
    _, D = tiny_mlp_models()
    G = keras.Sequential([keras.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(1)], name="G")
    return GAN(G, D, seed=5)


MISMATCHES = [
    (mismatched_generator, r"generator variable 0 \(.*kernel\) has shape \(4, 8\) in the checkpoint but .* \(4, 16\)"),
    (lambda: mlp_gan(d_steps=2), "d_steps is 1 in the checkpoint but 2 here"),
    (lambda: mlp_gan(instance_noise=0.1), "instance_noise is 0.0 in the checkpoint but 0.1 here"),
    (lambda: GAN(*tiny_mlp_models(), d_optimizer=keras.optimizers.SGD()), "d_optimizer is Adam in the checkpoint"),
]


@pytest.mark.parametrize("make,match", MISMATCHES, ids=["shapes", "d_steps", "noise", "optimizer"])
def test_mismatched_models_are_refused_before_touching_weights(run12, make, match):
    tmp_path, _, _ = run12
    gan = make()
    before = state(gan)
    with pytest.raises(CheckpointError, match=match):
        resume(gan, tmp_path)
    with pytest.raises(CheckpointError, match=match):
        gan.restore(tmp_path / "ckpt-00000012.npz")
    assert same(before, gan) and gan.step == 0


def test_a_different_fit_call_is_refused(run12):
    tmp_path, _, _ = run12
    gan = mlp_gan()
    before = state(gan)
    with pytest.raises(CheckpointError, match=r"written by fit\(steps=12, batch_size=16\) starting at step 0, but this "
                                              r"call is fit\(steps=12, batch_size=8\)"):
        resume(gan, tmp_path, batch_size=8)
    with pytest.raises(CheckpointError, match=r"holds the state of hooks \['Monitor'\] but this fit has \[\]"):
        resume(gan, tmp_path, monitor=False)
    assert same(before, gan)


def test_a_finished_fit_is_restored_not_retrained(run12):
    tmp_path, history, weights = run12
    gan = mlp_gan()
    calls = []
    resume(gan, tmp_path, hooks=[Hook(lambda g: calls.append(g.step), every=1, at_start=True)])
    assert calls == [] and gan.step == 12 and gan.history["d_loss_real"] == history["d_loss_real"]
    assert same(weights[12], gan)


def test_a_checkpoint_with_the_old_option_names_still_resumes(run12):
    """Checkpoints written before 2026-12 name D's targets ``real_label`` / ``fake_label`` in their options."""
    tmp_path, history, weights = run12
    path = tmp_path / "ckpt-00000008.npz"
    arrays, meta = ckpt.read(path)
    config = meta.pop("config")
    meta["config"] = {("real_label" if k == "real_target" else "fake_label" if k == "fake_target" else k): v
                      for k, v in config.items()}
    assert "real_label" in meta["config"] and "real_target" not in meta["config"]
    (tmp_path / "ckpt-00000012.npz").unlink()
    ckpt.write(path, arrays, {k: v for k, v in meta.items() if k != "format"})
    gan = mlp_gan()
    resume(gan, tmp_path)
    assert gan.step == 12 and same(weights[12], gan)
    assert gan.history["d_loss_real"] == history["d_loss_real"]


def test_a_new_fit_will_not_mix_with_old_checkpoints(run12):
    tmp_path, _, _ = run12
    with pytest.raises(ValueError, match="already holds checkpoints .newest: ckpt-00000012.npz.: pass resume=True"):
        resume(mlp_gan(), tmp_path, resume=False)


@pytest.mark.backend
def test_stateful_hooks_and_noise_horizon_are_restored(tmp_path):
    def run(folder, resume=False, keep=2):
        gan = mlp_gan(instance_noise=0.3)
        average = WeightAverage(gan.generator, start_step=2)
        gan.fit(gaussian, steps=10, batch_size=16, verbose=0, hooks=[average.hook()], checkpoint_dir=folder,
                checkpoint_every=3, checkpoint_keep=keep, resume=resume)
        return gan, average

    full, full_average = run(tmp_path / "a", keep=4)
    (tmp_path / "b").mkdir()
    shutil.copy(tmp_path / "a" / "ckpt-00000006.npz", tmp_path / "b")  # resume a fresh GAN from step 6
    gan, average = run(tmp_path / "b", resume=True)
    assert gan.history["noise_std"] == full.history["noise_std"]  # the horizon is still the first fit's 10 steps
    assert gan.history["g_loss"] == full.history["g_loss"]
    assert average.count == full_average.count == 8
    assert all(np.array_equal(a, b) for a, b in zip(average.averaged_weights(), full_average.averaged_weights()))


def test_checkpoint_files_load_without_pickle(run12):
    tmp_path, _, weights = run12
    with np.load(tmp_path / "ckpt-00000012.npz", allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)
        meta = json.loads(str(f["__meta__"]))
    assert meta["step"] == 12 and meta["fit"]["finished"] and meta["config"]["d_steps"] == 1
    assert len(meta["run"]) == 32 and meta["fingerprint"]["d_optimizer"]["config"]["beta_1"] == 0.5
    shutil.copy(tmp_path / "ckpt-00000012.npz", tmp_path / "copy.npz")
    gan = mlp_gan()
    gan.restore(tmp_path / "copy.npz")  # any file name restores
    assert same(weights[12], gan)
