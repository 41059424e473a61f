"""Bad input gets a clear error that names the argument, before any training starts."""

import os

import numpy as np
import pytest

import keras
from keras import layers

from conftest import tiny_conv_models, tiny_mlp_models
from gan_utils.checkpoint import CheckpointError
from gan_utils.training import GAN, Hook

X = np.random.default_rng(0).uniform(-1, 1, (40, 8, 8, 1)).astype("float32")


def conv():
    return tiny_conv_models(batchnorm=False)


def cond():
    return tiny_conv_models(conditional=True, num_classes=3)


INIT_CASES = [
    ({"generator_loss": "wasserstein"}, ValueError, "generator_loss must be one of"),
    ({"z_distribution": "cauchy"}, ValueError, "z_distribution must be one of"),
    ({"d_steps": 0}, ValueError, "d_steps must be a positive integer"),
    ({"d_steps": 1.5}, ValueError, "d_steps must be a positive integer"),
    ({"real_target": 1.2}, ValueError, r"real_target must be in \[0, 1\]"),
    ({"fake_target": (0.3, 0.1)}, ValueError, "fake_target range must be"),
    ({"real_label": 0.9}, TypeError, "real_label"),
    ({"flip_prob": 0.7}, ValueError, "flip_prob must be in"),
    ({"instance_noise": -1}, ValueError, "instance_noise must be"),
    ({"noise_decay_steps": 0}, ValueError, "noise_decay_steps must be a positive integer"),
    ({"seed": -3}, ValueError, "seed must be a non-negative integer"),
    ({"num_classes": 0}, ValueError, "num_classes must be a positive integer"),
    ({"monitor": "yes"}, TypeError, "monitor must be True, False or a gan_utils.monitor.Monitor"),
]


@pytest.mark.parametrize("kwargs,error,match", INIT_CASES, ids=[next(iter(c[0])) for c in INIT_CASES])
def test_bad_options(kwargs, error, match):
    G, D = conv()
    with pytest.raises(error, match=match):
        GAN(G, D, **kwargs)


def test_shared_optimizer_is_refused():
    G, D = conv()
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="cannot share one optimizer"):
        GAN(G, D, d_optimizer=opt, g_optimizer=opt)


def test_models_must_be_keras_models():
    G, D = conv()
    with pytest.raises(TypeError, match="generator must be a keras.Model"):
        GAN(lambda z: z, D)


def test_generator_output_must_match_discriminator_input():
    G, _ = conv()
    D = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match=r"output shape \(8, 8, 1\) does not match .* input shape \(28, 28, 1\)"):
        GAN(G, D)


def test_discriminator_must_output_one_probability():
    G, _ = conv()
    D = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match=r"must output shape \(1,\)"):
        GAN(G, D)


def test_conditional_models_need_num_classes_and_back():
    G, D = cond()
    with pytest.raises(ValueError, match="pass num_classes=K"):
        GAN(G, D)
    G, D = conv()
    with pytest.raises(ValueError, match="pass num_classes=None"):
        GAN(G, D, num_classes=10)


FIT_CASES = [
    ("uncond", dict(data=X.astype("float64").astype("int32")), TypeError, "data must be float32"),
    ("uncond", dict(data=X[..., 0]), ValueError, r"data must have shape \(N, 8, 8, 1\)"),
    ("uncond", dict(data=X, batch_size=0), ValueError, "batch_size must be a positive integer"),
    ("uncond", dict(data=X, batch_size=100), ValueError, "larger than the data"),
    ("uncond", dict(data=X, epochs=1, steps=2), ValueError, "exactly one of epochs"),
    ("uncond", dict(data=X, steps=-1), ValueError, "steps must be a positive integer"),
    ("uncond", dict(data=X, labels=np.zeros(40, int)), ValueError, "labels were given but this GAN is unconditional"),
    ("uncond", dict(data=X, hooks=[print]), TypeError, "hooks must be gan_utils.training.Hook"),
    ("uncond", dict(data=lambda n, rng: X[:n], epochs=1), ValueError, "pass steps=N"),
    ("cond", dict(data=X), ValueError, "this GAN is conditional: pass labels"),
    ("cond", dict(data=X, labels=np.full(40, 3)), ValueError, r"labels must be in 0..2"),
    ("cond", dict(data=X, labels=np.zeros(39, int)), ValueError, r"labels must have shape \(40,\)"),
    ("cond", dict(data=X, labels=np.zeros(40)), TypeError, "labels must be integers"),
    ("uncond", dict(data=X, monitor="yes"), TypeError, "monitor must be None, True, False or a gan_utils"),
    ("uncond", dict(data=X, checkpoint_every=0), ValueError, "checkpoint_every must be a positive integer"),
    ("uncond", dict(data=X, checkpoint_every=2.5), ValueError, "checkpoint_every must be a positive integer"),
    ("uncond", dict(data=X, checkpoint_every=5), ValueError, "checkpoint_every needs checkpoint_dir"),
    ("uncond", dict(data=X, checkpoint_dir="never-made"), ValueError, "checkpoint_dir needs checkpoint_every=N"),
    ("uncond", dict(data=X, checkpoint_dir=os.devnull, checkpoint_every=2), ValueError, "exists and is not a folder"),
    ("uncond", dict(data=X, checkpoint_dir=3, checkpoint_every=2), TypeError, "checkpoint_dir must be a folder path"),
    ("uncond", dict(data=X, checkpoint_dir="never-made", checkpoint_every=2, checkpoint_keep=1), ValueError,
     r"checkpoint_keep must be an integer >= 2"),
    ("uncond", dict(data=X, resume=True), ValueError, "resume=True needs checkpoint_dir"),
    ("uncond", dict(data=X, resume="no/such/ckpt-00000004.npz"), CheckpointError, "no such checkpoint file"),
    ("uncond", dict(data=X, resume=4), TypeError, "resume must be True, False or a checkpoint file path"),
]


@pytest.mark.parametrize("kind,kwargs,error,match", FIT_CASES, ids=[c[3][:30] for c in FIT_CASES])
def test_bad_fit_arguments_fail_before_training(kind, kwargs, error, match):
    G, D = cond() if kind == "cond" else conv()
    gan = GAN(G, D, num_classes=3 if kind == "cond" else None)
    kwargs = {"batch_size": 8, **kwargs}
    if "epochs" not in kwargs and "steps" not in kwargs:
        kwargs["steps"] = 1
    data = kwargs.pop("data")
    before = [w.copy() for w in D.get_weights()]
    with pytest.raises(error, match=match):
        gan.fit(data, **kwargs)
    assert gan.step == 0 and not gan.history["step"]
    assert all(np.array_equal(a, b) for a, b in zip(before, D.get_weights()))
    assert not os.path.exists("never-made")


@pytest.mark.parametrize(
    "kwargs,match",
    [({"every": 0}, "every must be a positive integer"), ({}, "needs every=N"), ({"every": True}, "every must")],
)
def test_bad_hooks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Hook(print, **kwargs)


def test_frozen_models_are_refused_before_training():
    G, D = tiny_mlp_models()
    gan = GAN(G, D)
    G.trainable = False
    with pytest.raises(ValueError, match="generator has no trainable weights"):
        gan.fit(np.zeros((16, 1), "float32"), batch_size=8, steps=1)


def test_restore_needs_a_path():
    gan = GAN(*conv())
    with pytest.raises(TypeError, match="path must be a checkpoint file path"):
        gan.restore(None)
    with pytest.raises(CheckpointError, match="does not exist"):
        gan.restore("no/such/ckpt-00000004.npz")
