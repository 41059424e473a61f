"""Checkpoints belong to a run: no fit deletes another run's, resuming checks the data, models and optimizers
against the checkpoint's fingerprint, the folder is tested before training, and an interrupted fit resumes."""

import errno
import json
import os
import shutil

import keras
import numpy as np
import pytest
from keras import layers

from conftest import LATENT, tiny_mlp_models
from gan_utils import checkpoint as ckpt
from gan_utils import checkpoint_files
from gan_utils.checkpoint import CheckpointError
from gan_utils.training import GAN, Hook
from test_checkpoint import gaussian, mlp_gan, resume, same, state, train


@pytest.fixture(scope="module")
def run_a(tmp_path_factory):
    """Run A: 12 steps on the sampler, checkpoints every 4 (ckpt 8 and 12 kept); its weights at 4, 8, 12."""
    folder = tmp_path_factory.mktemp("run_a")
    gan, weights = train(folder)
    return folder, gan.history, weights


@pytest.fixture(scope="module")
def run_b(tmp_path_factory):
    """Run B: another run of 16 steps, all four checkpoints kept (4, 8, 12, 16)."""
    folder = tmp_path_factory.mktemp("run_b")
    mlp_gan().fit(gaussian, steps=16, batch_size=16, verbose=0, checkpoint_dir=folder, checkpoint_every=4,
                  checkpoint_keep=4)
    return folder


@pytest.fixture
def a(run_a, tmp_path):
    folder, history, weights = run_a
    shutil.copytree(folder, tmp_path / "a")
    return tmp_path / "a", history, weights


def contents(folder):
    """Every file of a folder, name -> bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ----------------------------------------------------------------------------- 1. no run deletes another's
def test_resume_into_a_folder_of_another_run_is_refused(a, run_b, tmp_path):
    folder_a, _, _ = a
    folder_b = tmp_path / "b"
    shutil.copytree(run_b, folder_b)
    before_a, before_b = contents(folder_a), contents(folder_b)
    gan = mlp_gan()
    untouched = state(gan)
    with pytest.raises(ValueError, match=r"resume='.*ckpt-00000008.npz' is not in checkpoint_dir='.*b', which already "
                                         r"holds checkpoints \(newest: ckpt-00000016.npz\) that a fit resumed from "
                                         r"elsewhere could overwrite or delete: resume from a checkpoint in that "
                                         r"folder, or give this fit an empty checkpoint_dir"):
        resume(gan, folder_b, resume=folder_a / "ckpt-00000008.npz")
    assert contents(folder_a) == before_a and contents(folder_b) == before_b
    assert same(untouched, gan) and gan.step == 0


def test_resume_into_an_empty_folder_leaves_the_source_alone(a, tmp_path):
    folder_a, history, weights = a
    before = contents(folder_a)
    gan = mlp_gan()
    resume(gan, tmp_path / "c", resume=folder_a / "ckpt-00000008.npz")
    assert same(weights[12], gan) and gan.history["g_loss"] == history["g_loss"]
    assert contents(folder_a) == before
    assert sorted(os.listdir(tmp_path / "c")) == ["ckpt-00000012.npz"]


def test_a_newer_checkpoint_of_another_run_is_not_overwritten(a, run_b):
    folder, _, _ = a
    shutil.copy(run_b / "ckpt-00000016.npz", folder)  # run B's, newer than anything of run A here
    before = contents(folder)
    gan = mlp_gan()
    with pytest.raises(ValueError, match=r"holds ckpt-00000016.npz, newer than the resumed ckpt-00000008.npz and "
                                         r"not of the run that wrote that, so this fit would overwrite it: move it"):
        resume(gan, folder, resume=folder / "ckpt-00000008.npz")
    assert contents(folder) == before and gan.step == 0


def test_an_older_checkpoint_of_another_run_is_never_deleted(a, run_b):
    folder, history, weights = a
    shutil.copy(run_b / "ckpt-00000004.npz", folder)  # run B's, older: the old code deleted it at the first write
    theirs = (folder / "ckpt-00000004.npz").read_bytes()
    gan = mlp_gan()
    resume(gan, folder, resume=folder / "ckpt-00000008.npz")  # run A's own newer ckpt 12 is replaced
    assert same(weights[12], gan) and gan.history["g_loss"] == history["g_loss"]
    assert sorted(os.listdir(folder)) == ["ckpt-00000004.npz", "ckpt-00000008.npz", "ckpt-00000012.npz"]
    assert (folder / "ckpt-00000004.npz").read_bytes() == theirs


def test_remove_stale_deletes_only_the_runs_own_checkpoints(tmp_path):
    for step, run in [(2, "a"), (3, "b"), (4, "a"), (5, None), (6, "a"), (8, "a"), (9, "b")]:
        ckpt.write(ckpt.checkpoint_path(tmp_path, step), {"x": np.zeros(2)}, {} if run is None else {"run": run})
    (tmp_path / "ckpt-00000007.npz").write_bytes(b"not a zip")  # unreadable: nobody's that we can tell
    ckpt.remove_stale(tmp_path, 6, 2, "a")  # a's 8 is newer (abandoned), a's 2 beyond the newest two
    assert [ckpt.checkpoint_step(p) for p in ckpt.list_checkpoints(tmp_path)] == [3, 4, 5, 6, 7, 9]
    assert ckpt.run_of(tmp_path / "ckpt-00000003.npz") == "b" and ckpt.run_of(tmp_path / "ckpt-00000007.npz") is None


# ----------------------------------------------------------------------------- 2. fingerprints
def test_a_different_learning_rate_is_named_not_overwritten(a):
    folder, _, _ = a
    keras.utils.set_random_seed(5)
    gan = GAN(*tiny_mlp_models(), seed=5, d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    untouched, before = state(gan), contents(folder)
    message = (r"does not fit this GAN: the discriminator's optimizer learning_rate is 0.001 here but 0.0002 in the "
               r"checkpoint; build d_optimizer with the checkpoint's settings")
    with pytest.raises(CheckpointError, match=message):
        resume(gan, folder)
    with pytest.raises(CheckpointError, match=message):
        gan.restore(folder / "ckpt-00000012.npz")
    assert same(untouched, gan) and gan.step == 0 and contents(folder) == before
    assert float(keras.ops.convert_to_numpy(gan.d_optimizer.learning_rate)) == np.float32(1e-3)


def test_a_changed_activation_with_the_same_shapes_is_refused(a):
    folder, _, _ = a
    keras.utils.set_random_seed(5)
    _, D = tiny_mlp_models()
    G = keras.Sequential([keras.Input((LATENT,)), layers.Dense(8, activation="tanh"), layers.Dense(1)], name="G")
    gan = GAN(G, D, seed=5)
    untouched = state(gan)
    with pytest.raises(CheckpointError, match=r"the generator's configuration differs at layers\[1\] \(Dense\)"
                                              r".config.activation: \"tanh\" here but \"relu\" in the checkpoint"):
        resume(gan, folder)
    assert same(untouched, gan) and gan.step == 0


def test_the_same_architecture_rebuilt_has_the_same_fingerprint():
    """Keras names layers by what the process built before; a fresh session starts the names again."""
    from conftest import tiny_conv_models

    tiny_mlp_models()  # shifts the automatic layer names of what follows
    G, D = tiny_conv_models(conditional=True)
    before = [ckpt.model_fingerprint(G), ckpt.model_fingerprint(D)]
    names = [layer.name for layer in G.layers]
    keras.backend.clear_session()
    G, D = tiny_conv_models(conditional=True)
    assert [layer.name for layer in G.layers] != names  # the names did change ...
    assert [ckpt.model_fingerprint(G), ckpt.model_fingerprint(D)] == before  # ... the fingerprint did not
    G2, _ = tiny_conv_models(conditional=True, batchnorm=False)
    assert ckpt.model_fingerprint(G2) != before[0]
    json.dumps(before)  # stored in the checkpoint's JSON metadata


def images(seed):
    return np.random.default_rng(seed).normal(2.0, 1.0, (96, 1)).astype("float32")


def cond_mlp_gan():
    keras.utils.set_random_seed(6)
    z, y = keras.Input((LATENT,)), keras.Input((), dtype="int32")
    h = layers.Concatenate()([z, layers.Flatten()(layers.Embedding(3, 2)(y))])
    G = keras.Model([z, y], layers.Dense(1)(layers.Dense(8, activation="relu")(h)), name="G")
    x, yd = keras.Input((1,)), keras.Input((), dtype="int32")
    h = layers.Concatenate()([x, layers.Flatten()(layers.Embedding(3, 2)(yd))])
    D = keras.Model([x, yd], layers.Dense(1, activation="sigmoid")(layers.Dense(8, activation="relu")(h)), name="D")
    return GAN(G, D, num_classes=3, seed=6)


def test_other_data_or_labels_of_the_same_size_are_refused(tmp_path):
    labels = np.arange(96) % 3
    fit = dict(batch_size=16, steps=8, verbose=0, checkpoint_dir=tmp_path, checkpoint_every=4)
    gan = cond_mlp_gan()
    gan.fit(images(1), labels, **fit)
    again = cond_mlp_gan()
    again.fit(images(1).copy(), labels.copy(), **fit, resume=True)  # the same data: the finished fit is restored
    assert again.step == 8 and same(state(gan), again)
    for data, y, match in [
        (images(2), labels, r"the data here has the same shape and dtype as that run's but other values \(a hash of "
                            r"sampled rows differs\)"),
        (images(1), labels[::-1].copy(), "the labels here differ from that run's"),
    ]:
        gan = cond_mlp_gan()
        untouched, before = state(gan), contents(tmp_path)
        with pytest.raises(CheckpointError, match=f"was written by a run on other data: {match}; call fit with the "
                                                  "same data and labels as the interrupted run"):
            gan.fit(data, y, **fit, resume=True)
        assert same(untouched, gan) and gan.step == 0 and contents(tmp_path) == before


def test_a_checkpoint_without_fingerprint_still_resumes(a, capsys):
    folder, history, weights = a
    arrays, meta = ckpt.read(folder / "ckpt-00000008.npz")
    del meta["run"], meta["fingerprint"], meta["format"]
    ckpt.write(folder / "ckpt-00000008.npz", arrays, meta)  # as an older gan_utils wrote it
    (folder / "ckpt-00000012.npz").unlink()
    gan = mlp_gan()
    gan.fit(gaussian, steps=12, batch_size=16, verbose=2, checkpoint_dir=folder, checkpoint_every=4, resume=True)
    assert "has no fingerprint: its data, models and optimizers were not checked" in capsys.readouterr().out
    assert same(weights[12], gan) and gan.history["g_loss"] == history["g_loss"]
    assert ckpt.run_of(folder / "ckpt-00000008.npz") is None  # not provably this run's: kept
    assert sorted(os.listdir(folder)) == ["ckpt-00000008.npz", "ckpt-00000012.npz"]


# ----------------------------------------------------------------------------- 3. the folder before training
def test_a_full_disk_is_reported_before_training(tmp_path, monkeypatch):
    def full(path):
        open(path, "wb").close()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint_files, "_write_probe", full)
    gan = mlp_gan()
    untouched = state(gan)
    with pytest.raises(OSError, match=r"checkpoint_dir='.*new' cannot be written \(No space left on device\), so no "
                                      r"checkpoint could be saved: make the folder writable or free space") as err:
        gan.fit(gaussian, steps=12, batch_size=16, verbose=0, checkpoint_dir=tmp_path / "new", checkpoint_every=4)
    assert err.value.errno == errno.ENOSPC
    assert same(untouched, gan) and gan.step == 0 and gan.history["step"] == []
    assert not (tmp_path / "new").exists()  # the folder it had made is gone again, with the probe


def test_a_full_disk_is_reported_before_a_resume_restores_anything(a, monkeypatch):
    folder, _, _ = a
    before = contents(folder)
    def full(path):
        raise OSError(errno.ENOSPC, "full")

    monkeypatch.setattr(checkpoint_files, "_write_probe", full)
    gan = mlp_gan()
    untouched = state(gan)
    with pytest.raises(OSError, match="cannot be written"):
        resume(gan, folder, resume=folder / "ckpt-00000008.npz")
    assert same(untouched, gan) and gan.step == 0 and contents(folder) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="chmod does not restrict root (or Windows)")
def test_a_read_only_folder_is_reported_before_training(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        gan = mlp_gan()
        with pytest.raises(PermissionError, match=r"checkpoint_dir='.*ro' cannot be written \(Permission denied\)"):
            gan.fit(gaussian, steps=12, batch_size=16, verbose=0, checkpoint_dir=folder, checkpoint_every=4)
        assert gan.step == 0 and os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


# ----------------------------------------------------------------------------- 4. an interrupted fit, run again
@pytest.mark.backend
def test_an_interrupted_fit_resumes_on_the_same_gan(tmp_path):
    """Ctrl-C at step 6 (after the checkpoint at 4); the same call again ends where an uninterrupted run does.
    A hook decays D's learning rate, so the GAN's optimizer settings have moved on from the checkpoint's."""
    stop = {"at": None}

    def interrupt(g):
        if g.step == stop["at"]:
            stop["at"] = None
            raise KeyboardInterrupt

    def decay(g):
        g.d_optimizer.learning_rate.assign(2e-4 * (1 - g.step / 24))

    def fit(gan, folder, **kwargs):
        gan.fit(gaussian, steps=12, batch_size=16, verbose=0, hooks=[Hook(interrupt, every=1), Hook(decay, every=1)],
                checkpoint_dir=folder, checkpoint_every=4, **kwargs)

    plain = mlp_gan()
    fit(plain, tmp_path / "plain")

    gan = mlp_gan()
    stop["at"] = 6
    with pytest.raises(KeyboardInterrupt):
        fit(gan, tmp_path / "ckpt")
    assert gan.step == 6 and [p.name for p in ckpt.list_checkpoints(tmp_path / "ckpt")] == ["ckpt-00000004.npz"]
    fit(gan, tmp_path / "ckpt", resume=True)
    assert gan.step == 12 and same(state(plain), gan) and gan.history["g_loss"] == plain.history["g_loss"]
    assert all(np.array_equal(keras.ops.convert_to_numpy(v), keras.ops.convert_to_numpy(w))
               for v, w in zip(gan.d_optimizer.variables, plain.d_optimizer.variables))
    with pytest.raises(CheckpointError, match=r"starting at step 0, but this call is fit\(steps=12, batch_size=16\) "
                                              r"starting at step 12"):
        fit(gan, tmp_path / "ckpt", resume=True)  # that fit finished: this would be a new one

    fresh = mlp_gan()  # a new GAN resumes the same run too: its learning rate is the run's at the start
    fit(fresh, tmp_path / "ckpt", resume=tmp_path / "ckpt" / "ckpt-00000008.npz")
    assert same(state(plain), fresh) and fresh.history["g_loss"] == plain.history["g_loss"]


def test_an_interrupted_fit_called_with_other_arguments_is_refused(tmp_path):
    def interrupt(g):
        if g.step == 5:
            raise KeyboardInterrupt

    gan = mlp_gan()
    with pytest.raises(KeyboardInterrupt):
        gan.fit(gaussian, steps=12, batch_size=16, verbose=0, hooks=[Hook(interrupt, every=1)],
                checkpoint_dir=tmp_path, checkpoint_every=4)
    before = state(gan)
    with pytest.raises(CheckpointError, match=r"written by fit\(steps=12, batch_size=16\) starting at step 0, but this "
                                              r"call is fit\(steps=20, batch_size=16\) starting at step 0"):
        gan.fit(gaussian, steps=20, batch_size=16, verbose=0, checkpoint_dir=tmp_path, checkpoint_every=4, resume=True)
    assert same(before, gan) and gan.step == 5
