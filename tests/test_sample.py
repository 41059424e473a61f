"""The sampling command: python -m gan_utils.sample MODEL.keras --n N --out FILE.npz [--label K | --all-labels];
and the generator files it reads (gan_utils.model_io: save_generator, load_generator, the signatures)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from gan_utils import model_io
from gan_utils import sample as sample_cli
from gan_utils.checks import SampleError

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


def tiny_infogan_generator(categories=10, continuous=2):
    """An InfoGAN generator as notebook 06 saves it: [noise, categorical code int32 (), continuous codes]."""
    noise = keras.Input((LATENT,), name="noise")
    code = keras.Input((), dtype="int32", name="code")
    cont = keras.Input((continuous,), name="continuous")
    h = layers.Concatenate()([noise, layers.CategoryEncoding(categories, output_mode="one_hot")(code), cont])
    h = layers.Reshape((7, 7, 2))(layers.Dense(7 * 7 * 2)(h))
    out = layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(h)
    return keras.Model([noise, code, cont], out, name="tiny_infogan_G")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, conditional in (("uncond", False), ("cond", True)):
        paths[name] = folder / f"{name}.keras"
        tiny_generator(conditional).save(paths[name])
    paths["info"] = folder / "info.keras"
    tiny_infogan_generator().save(paths["info"])
    return paths


def leftovers(folder):
    """Temporary files in ``folder``: atomic_write's ``.stem.tmp-<pid>.suffix`` (any hidden file) and ``*tmp*``."""
    return [p.name for p in Path(folder).iterdir() if p.name.startswith(".") or "tmp" in p.name]


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
    assert not leftovers(tmp_path), "the temporary file must be renamed away"


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
    gen = model_io.load_generator(models["cond"])
    z = np.zeros((2, LATENT), np.float32)
    pair = np.asarray(gen.predict_on_batch([z, np.array([0, 9], np.int32)]))
    assert not np.array_equal(pair[0], pair[1])


@pytest.mark.versions
def test_infogan_codes_evenly_spread_and_continuous_codes_as_in_training(models, tmp_path, capsys):
    out = tmp_path / "info.npz"
    assert run_main([models["info"], "--n", 1005, "--out", out], capsys)[0] == 0
    with np.load(out) as f:
        assert set(f.files) == {"images", "codes", "continuous"}
        images, codes, continuous = f["images"], f["codes"], f["continuous"]
    assert images.shape == (1005, 28, 28) and images.dtype == np.uint8
    assert codes.dtype == np.int32 and set(np.bincount(codes, minlength=10)) <= {100, 101}  # even, differ by <= 1
    assert continuous.shape == (1005, 2) and continuous.dtype == np.float32
    assert -1 <= continuous.min() < -0.9 and 0.9 < continuous.max() <= 1  # U(-1, 1), as in training
    # each code reaches the generator: the images are those of the codes written
    gen = model_io.load_generator(models["info"])
    noise = np.random.default_rng(0).standard_normal((1005, LATENT), dtype=np.float32)
    again = sample_cli.sample_infogan(gen, 1005, seed=0)
    np.testing.assert_array_equal(again[0], images)
    np.testing.assert_array_equal(again[1], codes)
    pair = np.asarray(gen.predict_on_batch([noise[:2] * 0, np.array([0, 9], np.int32), np.zeros((2, 2), np.float32)]))
    assert not np.array_equal(pair[0], pair[1])


def test_infogan_one_code(models, tmp_path, capsys):
    out = tmp_path / "threes.npz"
    assert run_main([models["info"], "--n", 7, "--out", out, "--code", 3], capsys)[0] == 0
    with np.load(out) as f:
        np.testing.assert_array_equal(f["codes"], np.full(7, 3))
    assert model_io.infogan_signature(model_io.load_generator(models["info"])) == (LATENT, 10, 2)
    assert model_io.infogan_signature(model_io.load_generator(models["cond"])) is None


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
    ("code_too_big", ["{info}", "--n", 5, "--out", "{out}", "--code", 10],
     r"--code must be an integer in 0\.\.9 \(this InfoGAN generator has 10 categorical codes\), got 10"),
    ("code_negative", ["{info}", "--n", 5, "--out", "{out}", "--code", -1], r"--code must be an integer in 0\.\.9"),
    ("code_for_uncond", ["{uncond}", "--n", 5, "--out", "{out}", "--code", 3],
     r"--code applies to an InfoGAN generator .*this model takes 1 input"),
    ("code_for_cond", ["{cond}", "--n", 5, "--out", "{out}", "--code", 3], r"--code applies to an InfoGAN generator"),
    ("label_for_infogan", ["{info}", "--n", 5, "--out", "{out}", "--label", 3], "its categorical code is not a digit label"),
    ("all_labels_for_infogan", ["{info}", "--n", 10, "--out", "{out}", "--all-labels"], "is not a digit label"),
    ("code_and_label", ["{info}", "--n", 10, "--out", "{out}", "--code", 1, "--label", 1], "not allowed with"),
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
    assert not leftovers(tmp_path)


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


# -- model_io.save_generator: how the notebooks save their generators
@pytest.mark.versions
def test_save_generator_writes_reloads_and_reports(tmp_path):
    keras.utils.set_random_seed(1)
    gen = tiny_generator(conditional=True)
    probe = [np.random.default_rng(0).standard_normal((6, LATENT), dtype=np.float32), np.arange(6, dtype=np.int32)]
    path = tmp_path / "models" / "g.keras"
    saved = model_io.save_generator(gen, path, probe)
    assert saved.path == path and saved.written and path.is_file()
    assert saved.megabytes == pytest.approx(path.stat().st_size / 1e6)
    assert f"saved to {path}" in str(saved) and "same images" in str(saved)
    assert [p.name for p in path.parent.iterdir()] == ["g.keras"], "no temporary file left behind"
    reloaded = model_io.load_generator(path)
    np.testing.assert_allclose(reloaded.predict_on_batch(probe), gen.predict_on_batch(probe), atol=1e-6)
    # write=False checks the existing file against the model in memory and leaves it alone
    mtime = path.stat().st_mtime_ns
    for temporary in (False, True):  # quick mode with TRAIN = False: still the existing file, untouched
        kept = model_io.save_generator(reloaded, path, probe, write=False, temporary=temporary)
        assert kept.path == path and not kept.written and "as it is" in str(kept)
    assert path.stat().st_mtime_ns == mtime


def test_save_generator_temporary_leaves_nothing(tmp_path):
    gen = tiny_generator(conditional=False)
    path = tmp_path / "g.keras"
    saved = model_io.save_generator(gen, path, np.zeros((2, LATENT), np.float32), temporary=True)
    assert saved.path is None and saved.megabytes > 0 and "temporary folder" in str(saved)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_save_generator_refuses_other_images_and_large_files(tmp_path):
    keras.utils.set_random_seed(2)
    gen, other = tiny_generator(conditional=False), tiny_generator(conditional=False)
    z = np.random.default_rng(0).standard_normal((4, LATENT), dtype=np.float32)
    path = tmp_path / "g.keras"
    model_io.save_generator(gen, path, z)
    with pytest.raises(SampleError, match="draws other images"):
        model_io.save_generator(other, path, z, write=False)
    with pytest.raises(SampleError, match="MB allowed"):
        model_io.save_generator(gen, path, z, max_mb=1e-6)
    with pytest.raises(SampleError, match=r"\.keras"):
        model_io.save_generator(gen, tmp_path / "g.h5", z)


def test_save_generator_is_atomic(tmp_path, monkeypatch):
    """A save that fails half-way leaves the previous file intact and no partial file."""
    gen = tiny_generator(conditional=False)
    path = tmp_path / "g.keras"
    z = np.zeros((2, LATENT), np.float32)
    model_io.save_generator(gen, path, z)
    before = path.read_bytes()

    def broken_save(target, *args, **kwargs):
        Path(target).write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(gen, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        model_io.save_generator(gen, path, z)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.keras"]


# -- checked before sampling: a damaged model file, a model that is not a generator, a bad --out, too many images
def error_line(err):
    """The one line argparse's error prints after the usage line."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert "Traceback" not in err and lines[-1].startswith("python -m gan_utils.sample: error: "), err
    return lines[-1]


@pytest.fixture
def no_sampling(monkeypatch):
    """Fail the test if any model draws images."""

    def refuse(*args, **kwargs):
        raise AssertionError("nothing may be sampled when the arguments are wrong")

    monkeypatch.setattr(keras.Model, "predict_on_batch", refuse)


def test_corrupt_model_file_is_not_reported_as_missing(models, tmp_path, capsys, no_sampling):
    good = models["uncond"].read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good[: len(good) // 2])  # an interrupted copy
    text = tmp_path / "text.keras"
    text.write_text("not a model")
    wrong_zip = tmp_path / "wrong.keras"
    import zipfile

    with zipfile.ZipFile(wrong_zip, "w") as z:  # a zip archive, but no model in it
        z.writestr("readme.txt", "hello")
    out = tmp_path / "s.npz"
    for bad, reason in ((truncated, "not a .keras (zip) archive"), (text, "not a .keras (zip) archive"),
                        (wrong_zip, "cannot be read as a Keras model: ")):
        code, err = run_main([bad, "--n", 5, "--out", out], capsys)
        line = error_line(err)
        assert code == 2 and f"{bad} exists but cannot be read as a Keras model" in line and reason in line, line
        assert "not found" not in line.lower()
        with pytest.raises(SampleError, match="exists but cannot be read as a Keras model"):
            model_io.load_generator(bad)
    assert not out.exists() and not leftovers(tmp_path)


def not_generators(folder):
    z = keras.Input((LATENT,))
    classifier_in = keras.Input((28, 28, 1))
    models = {
        "classifier": keras.Model(classifier_in, layers.Dense(10)(layers.Flatten()(classifier_in))),
        "vector_output": keras.Model(z, layers.Dense(10, activation="softmax")(z)),
        "two_outputs": keras.Model(z, [layers.Reshape((28, 28))(layers.Dense(784)(z)), layers.Dense(1)(z)]),
        "rgb_output": keras.Model(z, layers.Reshape((28, 28, 3))(layers.Dense(28 * 28 * 3)(z))),
    }
    paths = {}
    for name, model in models.items():
        paths[name] = folder / f"{name}.keras"
        model.save(paths[name])
    return paths


NOT_GENERATORS = {
    "classifier": r"first input must be z of shape \(latent_dim,\), got \(28, 28, 1\)",
    "vector_output": r"output must be grey images of shape \(H, W\) or \(H, W, 1\), got \(10,\)",
    "two_outputs": "a generator has one output",
    "rgb_output": r"got \(28, 28, 3\)",
}


def test_a_model_that_is_not_a_generator_is_refused_before_sampling(tmp_path, capsys, no_sampling):
    out = tmp_path / "out" / "s.npz"
    out.parent.mkdir()
    for name, path in not_generators(tmp_path).items():
        code, err = run_main([path, "--n", 10, "--out", out], capsys)
        line = error_line(err)
        assert code == 2 and "this model is not a generator" in line and re.search(NOT_GENERATORS[name], line), line
    assert list(out.parent.iterdir()) == []


def _unwritable_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        (locked / "probe").write_bytes(b"")
    except OSError:
        return locked
    (locked / "probe").unlink()  # root writes anywhere: fall back to a folder the kernel refuses
    locked.chmod(0o700)
    if os.path.isdir("/sys"):
        try:
            open("/sys/gan_utils_probe.npz", "wb").close()
        except OSError:
            return Path("/sys")
    pytest.skip("no unwritable folder available to this user")


BAD_OUT = [
    ("missing_folder", "{tmp}/no/such/folder/s.npz", r"the folder .*no/such/folder does not exist; create it first"),
    ("a_folder", "{tmp}", r"is a folder; give a file name in it, e.g. --out .*samples\.npz"),
    ("not_npz", "{tmp}/samples.txt", r"--out must be a file name ending in \.npz, got 'samples\.txt'"),
    ("no_suffix", "{tmp}/samples", r"--out must be a file name ending in \.npz"),
    ("parent_is_a_file", "{tmp}/model_copy.keras/s.npz", r"is a file, not a folder"),
]


@pytest.mark.parametrize("out,match", [b[1:] for b in BAD_OUT], ids=[b[0] for b in BAD_OUT])
def test_bad_out_is_refused_before_loading_or_sampling(models, tmp_path, capsys, monkeypatch, out, match):
    (tmp_path / "model_copy.keras").write_bytes(b"x")

    def never(path):
        raise AssertionError("--out is checked before the model is loaded")

    monkeypatch.setattr(sample_cli, "load_generator", never)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, err = run_main([models["uncond"], "--n", 10, "--out", out.format(tmp=tmp_path)], capsys)
    line = error_line(err)
    assert code == 2 and re.search(match, line), line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unwritable_out_is_refused_before_sampling(models, tmp_path, capsys, no_sampling):
    folder = _unwritable_folder(tmp_path)
    try:
        code, err = run_main([models["uncond"], "--n", 10, "--out", folder / "s.npz"], capsys)
    finally:
        (tmp_path / "locked").chmod(0o700)
    line = error_line(err)
    where = re.escape(str(folder))
    assert code == 2 and re.search(rf"--out {where}/s\.npz: cannot write in {where} \(", line), line
    assert not (folder / "s.npz").exists()


def test_too_many_images_are_refused_up_front(models, tmp_path, capsys, no_sampling, monkeypatch):
    out = tmp_path / "s.npz"
    code, err = run_main([models["uncond"], "--n", 10**9, "--out", out], capsys)  # ~0.8 TB
    line = error_line(err)
    need = r"--n 1000000000 would need about 8\d\d GB of memory \(816 bytes per image"
    assert code == 2 and re.search(need, line), line
    assert "several runs with different --seed" in line
    # a machine with 1 MB to spare: 2000 conditional images (2000 x 820 bytes + one float batch) do not fit
    monkeypatch.setattr(sample_cli, "available_memory_bytes", lambda: 10**6)
    code, err = run_main([models["cond"], "--n", 2000, "--out", out, "--all-labels"], capsys)
    line = error_line(err)
    assert code == 2 and "820 bytes per image: latent vector, 28x28 uint8 image, label" in line, line
    assert "80% of the 0.001 GB available now" in line
    monkeypatch.setattr(sample_cli, "available_memory_bytes", lambda: None)  # unknown: the documented cap
    with pytest.raises(SampleError, match=r"the 8 GB cap \(available memory unknown\)"):
        sample_cli.sample(model_io.load_generator(models["uncond"]), 10**8)
    assert not out.exists() and not leftovers(tmp_path)


@pytest.mark.skipif(os.name == "nt", reason="whether a pid runs is not checked on Windows")
def test_a_killed_runs_temporary_file_is_cleaned_up(models, tmp_path, capsys):
    try:
        dead_pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # above the largest pid: no process has it
    except OSError:
        dead_pid = 2**22 + 1
    stale = tmp_path / f".s.tmp-{dead_pid}.npz"  # what a run killed while writing s.npz leaves
    stale.write_bytes(b"half an npz")
    out = tmp_path / "s.npz"
    assert run_main([models["uncond"], "--n", 10, "--out", out], capsys)[0] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]


PRETRAINED = sorted((Path(__file__).resolve().parent.parent / "data" / "pretrained").glob("*_generator.keras"))


@pytest.mark.backend
@pytest.mark.parametrize("path", PRETRAINED, ids=[p.stem for p in PRETRAINED])
def test_the_committed_generators_load_safely_and_draw_digits(path):
    """Every notebook's pretrained generator (TRAIN = False) loads with safe_mode=True and makes 28x28 images.

    Also run on the oldest Keras the project allows (Colab's), which must read files a newer Keras saved."""
    from gan_utils.metrics import MnistEvaluator

    G = keras.models.load_model(path, compile=False, safe_mode=True)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((500, G.inputs[0].shape[-1])).astype(np.float32)]
    if len(G.inputs) == 2:  # conditional: 50 of each digit
        inputs.append(np.repeat(np.arange(10, dtype=np.int32), 50))
    if len(G.inputs) == 3:  # InfoGAN: 50 of each categorical code, continuous codes U(-1, 1)
        inputs += [np.repeat(np.arange(10, dtype=np.int32), 50), rng.uniform(-1, 1, (500, 2)).astype(np.float32)]
    images = np.asarray(G.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0))
    assert images.shape == (500, 28, 28, 1) and images.min() >= -1 and images.max() <= 1
    _, confidence = MnistEvaluator().predict(images)
    assert confidence.mean() > 0.7, f"{path.name}: these do not read as digits"


def test_every_notebook_that_trains_on_mnist_ships_its_generator():
    names = {p.name for p in PRETRAINED}
    assert {"dcgan_generator.keras", "cgan_generator.keras", "wgan_generator.keras", "infogan_generator.keras"} <= names


@pytest.mark.backend
def test_saved_generators_name_no_argument_that_only_restates_its_default(tmp_path):
    """save_generator writes a config that older Keras releases read: no default-valued constructor argument
    (Keras 3.15's initializer ``input_axes`` and BatchNormalization ``renorm`` broke loading on 3.13), while
    every argument that differs from its default stays, and the reloaded model draws the same images."""
    import json
    import zipfile

    from gan_utils.model_io import save_generator

    z = keras.Input((4,))
    h = layers.BatchNormalization(momentum=0.8)(layers.Dense(12, use_bias=False)(z))
    h = layers.Reshape((2, 2, 3))(layers.ReLU()(h))
    out = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h)
    G = keras.Model(z, out)
    probe = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    save_generator(G, tmp_path / "g.keras", probe)
    with zipfile.ZipFile(tmp_path / "g.keras") as archive:
        text = archive.read("config.json").decode()
    for restated in ("input_axes", "output_axes", "renorm", "quantization_config"):
        assert restated not in text
    layer_configs = {c["class_name"]: c["config"] for c in json.loads(text)["config"]["layers"]}
    assert layer_configs["BatchNormalization"]["momentum"] == 0.8  # not a default: kept
    assert layer_configs["Dense"]["use_bias"] is False and layer_configs["Dense"]["units"] == 12
    assert layer_configs["Conv2DTranspose"]["activation"] == "tanh" and layer_configs["Conv2DTranspose"]["strides"] == [2, 2]
    reloaded = keras.models.load_model(tmp_path / "g.keras", compile=False, safe_mode=True)
    np.testing.assert_array_equal(np.asarray(reloaded.predict_on_batch(probe)), np.asarray(G.predict_on_batch(probe)))
