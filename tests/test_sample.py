"""The sampling command: python -m gan_utils.sample MODEL.keras --n N --out FILE.npz [--label K | --all-labels]."""

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from gan_utils import sample as sample_cli

LATENT = 8


def tiny_generator(conditional):
    """A 28x28 tanh generator built from built-in layers only (so safe_mode loading works)."""
    z = keras.Input((LATENT,), name="z")
    h = z
    if conditional:
        y = keras.Input((), dtype="int32", name="label")
        h = layers.Concatenate()([z, layers.Flatten()(layers.Embedding(10, 4)(y))])
    h = layers.Dense(7 * 7 * 2)(h)
    h = layers.Reshape((7, 7, 2))(h)
    out = layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(h)
    return keras.Model([z, y] if conditional else z, out, name="tiny_G")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, conditional in (("uncond", False), ("cond", True)):
        paths[name] = folder / f"{name}.keras"
        tiny_generator(conditional).save(paths[name])
    return paths


def run_main(argv, capsys):
    """main(argv) -> (exit code, stderr)."""
    try:
        code = sample_cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.versions
def test_unconditional(models, tmp_path, capsys):
    out = tmp_path / "s.npz"
    code, _ = run_main([models["uncond"], "--n", 25, "--out", out], capsys)
    assert code == 0
    with np.load(out) as f:
        assert set(f.files) == {"images"}
        images = f["images"]
    assert images.dtype == np.uint8 and images.shape == (25, 28, 28)
    assert images.min() >= 0 and images.max() <= 255
    assert not list(tmp_path.glob(".tmp_*")), "the temporary file must be renamed away"


def test_seed_reproducible_and_different(models, tmp_path, capsys):
    paths = [tmp_path / f"{i}.npz" for i in range(3)]
    for path, seed in zip(paths, (1, 1, 2)):
        assert run_main([models["uncond"], "--n", 10, "--out", path, "--seed", seed], capsys)[0] == 0
    a, b, c = (np.load(p)["images"] for p in paths)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_single_label(models, tmp_path, capsys):
    out = tmp_path / "sevens.npz"
    assert run_main([models["cond"], "--n", 12, "--out", out, "--label", 7], capsys)[0] == 0
    with np.load(out) as f:
        assert f["images"].shape == (12, 28, 28) and f["images"].dtype == np.uint8
        np.testing.assert_array_equal(f["labels"], np.full(12, 7))


def test_all_labels_balanced(models, tmp_path, capsys):
    out = tmp_path / "all.npz"
    assert run_main([models["cond"], "--n", 50, "--out", out, "--all-labels"], capsys)[0] == 0
    with np.load(out) as f:
        images, labels = f["images"], f["labels"]
    assert images.shape == (50, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (50,) and np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, 5))
    # the label reaches the generator: same z, different label, different image
    gen = sample_cli.load_generator(models["cond"])
    z = np.zeros((2, LATENT), np.float32)
    pair = np.asarray(gen.predict_on_batch([z, np.array([0, 9], np.int32)]))
    assert not np.array_equal(pair[0], pair[1])


ERRORS = [
    ("missing", ["{missing}", "--n", 5, "--out", "{out}"], "model file not found"),
    ("cond_without_label", ["{cond}", "--n", 5, "--out", "{out}"], "conditional"),
    ("label_too_big", ["{cond}", "--n", 5, "--out", "{out}", "--label", 10], r"--label must be an integer in 0\.\.9"),
    ("label_negative", ["{cond}", "--n", 5, "--out", "{out}", "--label", -1], r"--label must be an integer in 0\.\.9"),
    ("label_for_uncond", ["{uncond}", "--n", 5, "--out", "{out}", "--label", 3], "unconditional"),
    ("all_labels_for_uncond", ["{uncond}", "--n", 5, "--out", "{out}", "--all-labels"], "unconditional"),
    ("n_zero", ["{uncond}", "--n", 0, "--out", "{out}"], "--n must be a positive integer"),
    ("n_negative", ["{cond}", "--n", -4, "--out", "{out}", "--label", 1], "--n must be a positive integer"),
    ("all_labels_not_multiple", ["{cond}", "--n", 15, "--out", "{out}", "--all-labels"], "multiple of 10"),
    ("both_label_options", ["{cond}", "--n", 10, "--out", "{out}", "--label", 1, "--all-labels"], "not allowed with"),
]


@pytest.mark.parametrize("argv,match", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(models, tmp_path, capsys, argv, match):
    out = tmp_path / "never.npz"
    names = {"missing": tmp_path / "nope.keras", "out": out, **models}
    argv = [str(a).format(**names) for a in argv]
    code, err = run_main(argv, capsys)
    assert code == 2
    assert re.search(match, err), err
    assert not out.exists(), "no output file on error"
    assert not list(tmp_path.glob(".tmp_*"))


def test_command_line_subprocess(models, tmp_path):
    """The documented command, in a fresh interpreter; an error is one clear line, no traceback."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = Path(sample_cli.__file__).resolve().parent.parent
    out = tmp_path / "cli.npz"
    ok = subprocess.run(
        [sys.executable, "-m", "gan_utils.sample", str(models["cond"]), "--n", "20", "--out", str(out), "--all-labels"],
        capture_output=True, text=True, env=env, cwd=root,
    )
    assert ok.returncode == 0, ok.stderr
    assert "wrote 20 images" in ok.stdout
    with np.load(out) as f:
        np.testing.assert_array_equal(np.bincount(f["labels"]), np.full(10, 2))
    bad = subprocess.run(
        [sys.executable, "-m", "gan_utils.sample", str(models["cond"]), "--n", "20", "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=root,
    )
    assert bad.returncode == 2
    assert "--label K" in bad.stderr and "Traceback" not in bad.stderr


# -- save_generator: how notebooks 02 and 03 save their generators
@pytest.mark.versions
def test_save_generator_writes_reloads_and_reports(tmp_path):
    keras.utils.set_random_seed(1)
    gen = tiny_generator(conditional=True)
    probe = [np.random.default_rng(0).standard_normal((6, LATENT), dtype=np.float32), np.arange(6, dtype=np.int32)]
    path = tmp_path / "models" / "g.keras"
    saved = sample_cli.save_generator(gen, path, probe)
    assert saved.path == path and saved.written and path.is_file()
    assert saved.megabytes == pytest.approx(path.stat().st_size / 1e6)
    assert f"saved to {path}" in str(saved) and "same images" in str(saved)
    assert [p.name for p in path.parent.iterdir()] == ["g.keras"], "no temporary file left behind"
    reloaded = sample_cli.load_generator(path)
    np.testing.assert_allclose(reloaded.predict_on_batch(probe), gen.predict_on_batch(probe), atol=1e-6)
    # write=False checks the existing file against the model in memory and leaves it alone
    mtime = path.stat().st_mtime_ns
    for temporary in (False, True):  # quick mode with TRAIN = False: still the existing file, untouched
        kept = sample_cli.save_generator(reloaded, path, probe, write=False, temporary=temporary)
        assert kept.path == path and not kept.written and "as it is" in str(kept)
    assert path.stat().st_mtime_ns == mtime


def test_save_generator_temporary_leaves_nothing(tmp_path):
    gen = tiny_generator(conditional=False)
    path = tmp_path / "g.keras"
    saved = sample_cli.save_generator(gen, path, np.zeros((2, LATENT), np.float32), temporary=True)
    assert saved.path is None and saved.megabytes > 0 and "temporary folder" in str(saved)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_save_generator_refuses_other_images_and_large_files(tmp_path):
    keras.utils.set_random_seed(2)
    gen, other = tiny_generator(conditional=False), tiny_generator(conditional=False)
    z = np.random.default_rng(0).standard_normal((4, LATENT), dtype=np.float32)
    path = tmp_path / "g.keras"
    sample_cli.save_generator(gen, path, z)
    with pytest.raises(sample_cli.SampleError, match="draws other images"):
        sample_cli.save_generator(other, path, z, write=False)
    with pytest.raises(sample_cli.SampleError, match="MB allowed"):
        sample_cli.save_generator(gen, path, z, max_mb=1e-6)
    with pytest.raises(sample_cli.SampleError, match=r"\.keras"):
        sample_cli.save_generator(gen, tmp_path / "g.h5", z)


def test_save_generator_is_atomic(tmp_path, monkeypatch):
    """A save that fails half-way leaves the previous file intact and no partial file."""
    gen = tiny_generator(conditional=False)
    path = tmp_path / "g.keras"
    z = np.zeros((2, LATENT), np.float32)
    sample_cli.save_generator(gen, path, z)
    before = path.read_bytes()

    def broken_save(target, *args, **kwargs):
        Path(target).write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(gen, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        sample_cli.save_generator(gen, path, z)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.keras"]
